//! Shared helpers for the integration tests: fixture paths and a tiny reader for the
//! number arrays of reference.json (no serde: the crate has no dependencies).

#![allow(dead_code)]

use std::path::PathBuf;

pub mod json;

/// The repository root, for fixtures, headers and examples: $SPECDEC_REPO_ROOT when set
/// (a copy of this crate outside the repository, see test_installed.sh), else
/// Bindings/rust -> ../..
pub fn repo_root() -> PathBuf {
    match std::env::var_os("SPECDEC_REPO_ROOT") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(".."),
    }
}

/// Tests/Fixtures/decoder/<name>, or $SPECDEC_TEST_FIXTURES/<name>.
pub fn fixture(name: &str) -> PathBuf {
    let base = match std::env::var_os("SPECDEC_TEST_FIXTURES") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => repo_root().join("Tests").join("Fixtures").join("decoder"),
    };
    let dir = base.join(name);
    assert!(
        dir.join("config.json").is_file() && dir.join("reference.json").is_file(),
        "test model {} is missing (config.json / reference.json)",
        dir.display()
    );
    dir
}

/// A JSON array of numbers, or of such arrays.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Array(Vec<Value>),
}

impl Value {
    pub fn as_f64(&self) -> f64 {
        match self {
            Value::Number(x) => *x,
            Value::Array(_) => panic!("expected a number, found an array"),
        }
    }
    pub fn as_array(&self) -> &[Value] {
        match self {
            Value::Array(v) => v,
            Value::Number(_) => panic!("expected an array, found a number"),
        }
    }
    pub fn to_i32s(&self) -> Vec<i32> {
        self.as_array()
            .iter()
            .map(|v| {
                let x = v.as_f64();
                assert!(x.fract() == 0.0, "{x} is not an integer");
                x as i32
            })
            .collect()
    }
    pub fn to_f32s(&self) -> Vec<f32> {
        self.as_array().iter().map(|v| v.as_f64() as f32).collect()
    }
}

/// reference.json of a fixture model.
pub struct Reference {
    text: String,
}

impl Reference {
    pub fn load(name: &str) -> Reference {
        let path = fixture(name).join("reference.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Reference { text }
    }

    /// The value of top-level-or-nested key `key` (first occurrence as an object key).
    pub fn get(&self, key: &str) -> Value {
        let needle = format!("\"{key}\"");
        let bytes = self.text.as_bytes();
        let mut from = 0;
        while let Some(found) = self.text[from..].find(&needle) {
            let mut i = from + found + needle.len();
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b':' {
                let mut scanner = Scanner { bytes, pos: i + 1 };
                return scanner.value();
            }
            from = i;
        }
        panic!("key {key:?} not found in reference.json");
    }

    pub fn ids(&self, key: &str) -> Vec<i32> {
        self.get(key).to_i32s()
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Value {
        self.skip_ws();
        match self.bytes.get(self.pos) {
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.bytes.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        return Value::Array(items);
                    }
                    items.push(self.value());
                    self.skip_ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {}
                        other => panic!(
                            "unexpected {:?} at byte {}",
                            other.map(|b| *b as char),
                            self.pos
                        ),
                    }
                }
            }
            Some(_) => {
                let start = self.pos;
                while self.pos < self.bytes.len()
                    && matches!(
                        self.bytes[self.pos],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap();
                Value::Number(
                    text.parse()
                        .unwrap_or_else(|_| panic!("not a number: {text:?} at byte {start}")),
                )
            }
            None => panic!("unexpected end of reference.json"),
        }
    }
}

/// Each element minus the row's maximum.
pub fn centered(row: &[f32]) -> Vec<f64> {
    let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
    row.iter().map(|&x| x as f64 - max).collect()
}

pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

pub fn log_softmax(row: &[f32]) -> Vec<f64> {
    let c = centered(row);
    let lse = c.iter().map(|x| x.exp()).sum::<f64>().ln();
    c.iter().map(|x| x - lse).collect()
}
