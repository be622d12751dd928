//! A small JSON reader for the test fixtures (reference.json with objects, strings and
//! booleans; corpus.jsonl's string literals). The crate has no dependencies, so no serde.

#![allow(dead_code)]

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    pub fn parse(text: &str) -> Json {
        let mut p = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = p.value();
        p.ws();
        assert_eq!(p.pos, p.bytes.len(), "trailing characters after JSON value");
        value
    }

    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(map) => map
                .get(key)
                .unwrap_or_else(|| panic!("key {key:?} not found")),
            other => panic!("expected an object for {key:?}, found {other:?}"),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        matches!(self, Json::Object(map) if map.contains_key(key))
    }

    pub fn as_f64(&self) -> f64 {
        match self {
            Json::Number(x) => *x,
            other => panic!("expected a number, found {other:?}"),
        }
    }

    pub fn as_i32(&self) -> i32 {
        let x = self.as_f64();
        assert!(x.fract() == 0.0, "{x} is not an integer");
        x as i32
    }

    pub fn as_bool(&self) -> bool {
        match self {
            Json::Bool(b) => *b,
            other => panic!("expected a bool, found {other:?}"),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Json::String(s) => s,
            other => panic!("expected a string, found {other:?}"),
        }
    }

    pub fn as_array(&self) -> &[Json] {
        match self {
            Json::Array(v) => v,
            other => panic!("expected an array, found {other:?}"),
        }
    }

    pub fn i32s(&self) -> Vec<i32> {
        self.as_array().iter().map(Json::as_i32).collect()
    }

    pub fn f64s(&self) -> Vec<f64> {
        self.as_array().iter().map(Json::as_f64).collect()
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> u8 {
        *self
            .bytes
            .get(self.pos)
            .unwrap_or_else(|| panic!("unexpected end of JSON"))
    }

    fn expect(&mut self, literal: &str) {
        assert!(
            self.bytes[self.pos..].starts_with(literal.as_bytes()),
            "expected {literal:?} at byte {}",
            self.pos
        );
        self.pos += literal.len();
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.peek() {
            b'{' => {
                self.pos += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.peek() == b'}' {
                    self.pos += 1;
                    return Json::Object(map);
                }
                loop {
                    self.ws();
                    let key = self.string();
                    self.ws();
                    self.expect(":");
                    let value = self.value();
                    map.insert(key, value);
                    self.ws();
                    match self.peek() {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Json::Object(map);
                        }
                        other => panic!("unexpected {:?} at byte {}", other as char, self.pos),
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == b']' {
                    self.pos += 1;
                    return Json::Array(items);
                }
                loop {
                    items.push(self.value());
                    self.ws();
                    match self.peek() {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Json::Array(items);
                        }
                        other => panic!("unexpected {:?} at byte {}", other as char, self.pos),
                    }
                }
            }
            b'"' => Json::String(self.string()),
            b't' => {
                self.expect("true");
                Json::Bool(true)
            }
            b'f' => {
                self.expect("false");
                Json::Bool(false)
            }
            b'n' => {
                self.expect("null");
                Json::Null
            }
            _ => {
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
                Json::Number(
                    text.parse()
                        .unwrap_or_else(|_| panic!("not a number: {text:?} at byte {start}")),
                )
            }
        }
    }

    fn hex4(&mut self) -> u32 {
        let digits = std::str::from_utf8(&self.bytes[self.pos..self.pos + 4]).unwrap();
        self.pos += 4;
        u32::from_str_radix(digits, 16).unwrap_or_else(|_| panic!("bad \\u escape {digits:?}"))
    }

    fn string(&mut self) -> String {
        self.expect("\"");
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = self.peek();
            self.pos += 1;
            match b {
                b'"' => return String::from_utf8(out).expect("JSON strings are UTF-8"),
                b'\\' => {
                    let e = self.peek();
                    self.pos += 1;
                    let c: char = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let first = self.hex4();
                            let code = if (0xD800..0xDC00).contains(&first)
                                && self.bytes[self.pos..].starts_with(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let second = self.hex4();
                                if (0xDC00..0xE000).contains(&second) {
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                } else {
                                    self.pos = save;
                                    first
                                }
                            } else {
                                first
                            };
                            // A lone surrogate has no UTF-8 form: U+FFFD, as Python would not
                            // produce such corpus lines anyway.
                            char::from_u32(code).unwrap_or('\u{FFFD}')
                        }
                        other => panic!("bad escape \\{}", other as char),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
    }
}
