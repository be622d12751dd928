//! The crate's modules are layers: each refers only to modules of lower layers, so the
//! bindings read from the FFI up and no two modules depend on each other.
//!
//! Every `crate::x` (and `super::x`) in a module's code (comments and literals left
//! out) is a reference to module `x`, or, for a name the crate root re-exports, to the
//! module it comes from. Any other root name is the root itself, which sits above
//! every layer.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Lowest first: a module may refer only to the modules listed before it.
const LAYERS: &[&str] = &[
    "ffi",
    "error",
    "convert",
    "callback",
    "generate",
    "model",
    "tokenizer",
    "drafter",
    "session",
    "speculative",
    "seq2seq",
    "text",
    "batch",
];

const ROOT: &str = "lib";

#[test]
fn modules_refer_only_to_lower_layers() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = module_sources(&src);

    let found: Vec<&str> = modules.keys().map(String::as_str).collect();
    let mut sorted_layers = LAYERS.to_vec();
    sorted_layers.sort_unstable();
    assert_eq!(
        found, sorted_layers,
        "every module of src/ must be in LAYERS, and every layer must exist"
    );

    let root = fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let reexports = root_reexports(&code_only(&root));
    let rank = |module: &str| LAYERS.iter().position(|m| *m == module);

    let mut violations = Vec::new();
    for (module, text) in &modules {
        let own = rank(module).expect("listed above");
        for name in crate_references(&code_only(text)) {
            let target = if rank(&name).is_some() {
                name.clone()
            } else {
                reexports
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| ROOT.to_string())
            };
            if target == *module {
                continue;
            }
            match rank(&target) {
                Some(r) if r < own => {}
                Some(_) => violations.push(format!(
                    "{module} refers to crate::{name} (module {target}), which is above it"
                )),
                None => violations.push(format!(
                    "{module} refers to crate::{name} of the crate root, which is above every layer"
                )),
            }
        }
    }
    violations.sort();
    violations.dedup();
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}

/// Module name -> its source text (`src/x.rs` plus any files under `src/x/`).
fn module_sources(src: &Path) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(src).expect("read src/") {
        let path = entry.expect("dir entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let text = if path.is_dir() {
            rust_files_under(&path)
                .iter()
                .map(|f| fs::read_to_string(f).expect("read module file"))
                .collect::<Vec<_>>()
                .join("\n")
        } else if path.extension().is_some_and(|e| e == "rs") && stem != ROOT {
            fs::read_to_string(&path).expect("read module file")
        } else {
            continue;
        };
        modules
            .entry(stem.to_string())
            .or_insert_with(String::new)
            .push_str(&text);
    }
    modules
}

fn rust_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("read module dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files.extend(rust_files_under(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Source text with comments, string and char literals blanked out (lifetimes kept).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !ident_char_before(&chars, i)
        {
            // Raw string r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), else a lifetime.
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// The first segment of every path that starts with `crate::` or `super::`, including
/// each top-level item of a `crate::{a, b::C}` group.
fn crate_references(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in ["crate", "super"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(prefix) {
            let start = from + at;
            from = start + prefix.len();
            let before = code[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let rest = code[from..].trim_start();
            let Some(rest) = rest.strip_prefix("::") else {
                continue;
            };
            let rest = rest.trim_start();
            if let Some(group) = rest.strip_prefix('{') {
                found.extend(group_heads(group));
            } else {
                found.push(leading_ident(rest));
            }
        }
    }
    found.retain(|name| !name.is_empty() && name != "self");
    found
}

/// The first segment of each top-level item of a `{...}` group (text after the `{`).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                heads.push(leading_ident(&group[i..]));
                item_start = false;
            }
            _ => {}
        }
    }
    heads
}

fn leading_ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Names the crate root re-exports (`pub use module::{A, B}`), with their module.
fn root_reexports(root: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for statement in root.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let path = path
            .trim()
            .trim_start_matches("crate::")
            .trim_start_matches("self::");
        let module = leading_ident(path);
        let items = &path[module.len()..];
        let items = items.trim_start_matches("::").trim();
        let items = items.trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let item = item.trim();
            // `Name as Alias` re-exports the alias.
            let name = item.rsplit(" as ").next().unwrap_or(item).trim();
            let name = name.rsplit("::").next().unwrap_or(name);
            if !name.is_empty() {
                names.insert(name.to_string(), module.clone());
            }
        }
    }
    names
}

#[test]
fn references_are_found_in_code_only() {
    let code = code_only(
        "use crate::error::{Error, Result};\n\
         use crate::{model::Model, session::{Session, SessionParams}, ffi};\n\
         // use crate::text;\n\
         /* crate::seq2seq */ let s = \"crate::speculative\"; let c = '\\'';\n\
         fn f<'a>(x: &'a str) -> crate::Tokenizer { super::drafter::make(x) }\n\
         let mine = not_crate::tokenizer;",
    );
    let mut refs = crate_references(&code);
    refs.sort();
    assert_eq!(
        refs,
        ["Tokenizer", "drafter", "error", "ffi", "model", "session"]
    );
}

#[test]
fn root_reexports_map_names_to_modules() {
    let names = root_reexports(&code_only(
        "pub mod ffi;\nmod session;\npub use session::{Logits, Session};\n\
         pub use error::Error as SpecDecError;\npub use callback::Control;",
    ));
    assert_eq!(names["Session"], "session");
    assert_eq!(names["Logits"], "session");
    assert_eq!(names["SpecDecError"], "error");
    assert_eq!(names["Control"], "callback");
}
