//! Tokenizers and text generation (ABI 2): `Tokenizer` against the reference ids of
//! Tests/Fixtures/tokenizers, Rust tokenizers (`TokenizerSource`), and
//! `Session::generate_text` on ../shared/models/stories260K (when present) and on the
//! llama_f32 fixture with a Rust tokenizer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use specdec::{
    Control, DraftSource, Drafter, ErrorCode, GenerateOptions, Model, Session, SessionParams,
    SpecialToken, Speculation, StopReason, TextOptions, Tokenizer, TokenizerSource,
};

mod common;
use common::json::Json;

const LINES: usize = 200;
const HF: &[&str] = &[
    "bytelevel-bpe",
    "llama3-bpe",
    "qwen2-bpe",
    "metaspace-bpe",
    "metaspace-first-bpe",
    "unigram",
    "wordpiece",
    "precompiled-unigram",
];
const SP: &[&str] = &["sp-bpe", "sp-unigram"];

fn tokenizers_dir() -> PathBuf {
    common::repo_root()
        .join("Tests")
        .join("Fixtures")
        .join("tokenizers")
}

fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let path = tokenizers_dir().join("corpus.jsonl");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Json::parse(l).as_str().to_string())
            .collect()
    })
}

struct Fixture {
    name: &'static str,
    dir: PathBuf,
    file: PathBuf,
    sentencepiece: bool,
    meta: Json,
    stride: usize,
}

impl Fixture {
    fn new(name: &'static str) -> Fixture {
        let dir = tokenizers_dir().join(name);
        let sentencepiece = SP.contains(&name);
        let file = dir.join(if sentencepiece {
            "tokenizer.model"
        } else {
            "tokenizer.json"
        });
        assert!(file.is_file(), "{} is missing", file.display());
        let meta = Json::parse(&std::fs::read_to_string(dir.join("meta.json")).unwrap());
        let stride = if meta.has("line_stride") {
            meta.get("line_stride").as_i32() as usize
        } else {
            1
        };
        Fixture {
            name,
            dir,
            file,
            sentencepiece,
            meta,
            stride,
        }
    }

    /// (ids line, text, reference ids) for the first `LINES` lines of ids.txt.
    fn cases(&self) -> Vec<(usize, &'static str, Vec<i32>)> {
        let text = std::fs::read_to_string(self.dir.join("ids.txt")).unwrap();
        text.lines()
            .take(LINES)
            .enumerate()
            .map(|(line, row)| {
                let ids = row
                    .split_whitespace()
                    .map(|x| x.parse::<i32>().unwrap())
                    .collect();
                (line, corpus()[line * self.stride].as_str(), ids)
            })
            .collect()
    }

    /// (ids line, skip) -> reference decode, where it differs from the corpus text.
    fn decode_differences(&self) -> HashMap<(usize, bool), String> {
        let text = std::fs::read_to_string(self.dir.join("decode.txt")).unwrap();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|row| {
                let mut parts = row.splitn(3, '\t');
                let line: usize = parts.next().unwrap().parse().unwrap();
                let skip = parts.next().unwrap() == "1";
                let decoded = Json::parse(parts.next().unwrap()).as_str().to_string();
                ((line, skip), decoded)
            })
            .collect()
    }

    /// Whether decode.txt covers the skip_special_tokens=True decode of `line`.
    fn skip_decode_recorded(&self, line: usize) -> bool {
        if self.sentencepiece {
            line % 2 == 0
        } else {
            line % (if self.name == "unigram" { 4 } else { 1 }) == 0
        }
    }

    fn load(&self) -> Tokenizer {
        Tokenizer::load(&self.file).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

fn all() -> impl Iterator<Item = Fixture> {
    HF.iter().chain(SP.iter()).map(|name| Fixture::new(name))
}

#[test]
fn encode_matches_reference_ids() {
    for fixture in all() {
        let tok = fixture.load();
        assert_eq!(
            tok.vocab_size(),
            fixture.meta.get("vocab_size").as_i32() as usize,
            "{}",
            fixture.name
        );
        let cases = fixture.cases();
        assert_eq!(cases.len(), LINES);
        let mut mismatches = Vec::new();
        for (line, text, reference) in &cases {
            let ids = tok.encode(text, !fixture.sentencepiece).unwrap();
            if &ids != reference {
                mismatches.push((line * fixture.stride, *text, reference.clone(), ids));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{}: {} lines differ, first: {:?}",
            fixture.name,
            mismatches.len(),
            mismatches[0]
        );
    }
}

#[test]
fn decode_round_trips() {
    for fixture in all() {
        let tok = fixture.load();
        let differences = fixture.decode_differences();
        let skip = !fixture.sentencepiece; // sentencepiece has no skip option
        let mut checked = 0;
        for (line, text, reference) in fixture.cases() {
            if !fixture.skip_decode_recorded(line) {
                continue;
            }
            let expected = differences
                .get(&(line, true))
                .map(String::as_str)
                .unwrap_or(text);
            assert_eq!(
                tok.decode(&reference, skip).unwrap(),
                expected,
                "{} line {line}",
                fixture.name
            );
            let ids = tok.encode(text, !fixture.sentencepiece).unwrap();
            assert_eq!(tok.decode(&ids, skip).unwrap(), expected);
            if line % 16 == 0 {
                let expected = differences
                    .get(&(line, false))
                    .map(String::as_str)
                    .unwrap_or(text);
                assert_eq!(tok.decode(&reference, false).unwrap(), expected);
            }
            checked += 1;
        }
        assert!(checked >= LINES / 4, "{}", fixture.name);
    }
}

#[test]
fn random_ids_decode_like_reference() {
    for fixture in all() {
        let tok = fixture.load();
        let text = std::fs::read_to_string(fixture.dir.join("random.jsonl")).unwrap();
        for row in text.lines().filter(|l| !l.trim().is_empty()) {
            let case = Json::parse(row);
            let ids = case.get("ids").i32s();
            assert_eq!(
                tok.decode(&ids, false).unwrap(),
                case.get("text").as_str(),
                "{} {ids:?}",
                fixture.name
            );
            if !fixture.sentencepiece {
                assert_eq!(tok.decode(&ids, true).unwrap(), case.get("skip").as_str());
            }
        }
    }
}

#[test]
fn pieces_round_trip_and_special_tokens() {
    for fixture in all() {
        let tok = fixture.load();
        for id in (0..tok.vocab_size() as i32).step_by(7) {
            let piece = tok.token_to_piece(id).unwrap();
            assert!(!piece.is_empty());
            assert_eq!(tok.piece_to_token(&piece).unwrap(), id, "{}", fixture.name);
        }
        let err = tok
            .piece_to_token("surely-not-a-piece-\u{1F600}")
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        if fixture.sentencepiece {
            let id = |key: &str| {
                let v = fixture.meta.get(key).as_i32();
                (v >= 0).then_some(v)
            };
            assert_eq!(tok.bos_token(), id("bos"));
            assert_eq!(tok.eos_token(), id("eos"));
            assert_eq!(tok.unk_token(), id("unk"));
            assert_eq!(tok.pad_token(), id("pad"));
            assert_eq!(tok.special_token(SpecialToken::Bos), id("bos"));
        }
    }
}

#[test]
fn load_errors() {
    let dir = tokenizers_dir().join("bytelevel-bpe");
    let tok = Tokenizer::load(&dir).unwrap(); // a directory
    assert!(!tok.encode("hello world", false).unwrap().is_empty());
    let err = Tokenizer::load(dir.join("missing").join("tokenizer.json")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io);
    let tmp = std::env::temp_dir().join(format!("specdec_text_test_{}.json", std::process::id()));
    std::fs::write(&tmp, "{ not json").unwrap();
    let err = Tokenizer::load(&tmp).unwrap_err();
    let _ = std::fs::remove_file(&tmp);
    assert_eq!(err.code(), ErrorCode::Format);
    let err = Tokenizer::load(Path::new("bad\0path")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

#[test]
fn invalid_utf8_and_out_of_range_ids() {
    let tok = Fixture::new("bytelevel-bpe").load();
    let err = tok.encode(b"a\xffb", true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidUtf8);
    assert!(err.message().contains("UTF-8"), "{err}");
    assert_eq!(
        tok.encode(&b"\xe2\x82"[..], true).unwrap_err().code(),
        ErrorCode::InvalidUtf8
    );
    let text = "naïve café €";
    let ids = tok.encode(text, true).unwrap();
    assert_eq!(tok.encode(text.as_bytes(), true).unwrap(), ids);
    assert_eq!(tok.decode_bytes(&ids, true).unwrap(), text.as_bytes());
    assert_eq!(tok.decode(&[], true).unwrap(), "");

    let vocab = tok.vocab_size() as i32;
    let err = tok.decode(&[1, vocab], true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TokenOutOfRange);
    assert!(err.message().contains("vocabulary"), "{err}");
    assert_eq!(
        tok.decode(&[-1], true).unwrap_err().code(),
        ErrorCode::TokenOutOfRange
    );
    assert!(tok.token_to_piece(vocab).is_err());
    let err = tok.piece_to_token("nul\0piece").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

#[test]
fn long_text_grows_the_buffers() {
    let tok = Fixture::new("bytelevel-bpe").load();
    let text = corpus()[..400].join(" ");
    let ids = tok.encode(&text, false).unwrap();
    assert!(ids.len() > 1000);
    assert_eq!(tok.decode(&ids, true).unwrap(), text);
}

#[test]
fn tokenizers_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Tokenizer>();
    let tok = Arc::new(Fixture::new("bytelevel-bpe").load());
    let expected = tok.encode(&corpus()[1], true).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let tok = Arc::clone(&tok);
            std::thread::spawn(move || tok.encode(&corpus()[1], true).unwrap())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), expected);
    }
}

// ---------------------------------------------------------------------------
// Rust tokenizers
// ---------------------------------------------------------------------------

/// A whitespace tokenizer over the words "w0" .. "w{n-1}"; id 1 is BOS.
struct Words {
    words: Vec<String>,
    index: HashMap<String, i32>,
    calls: Arc<AtomicUsize>,
}

const BOS: i32 = 1;

impl Words {
    fn new(n: usize) -> Words {
        let words: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as i32))
            .collect();
        Words {
            words,
            index,
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn text(ids: &[i32]) -> String {
        ids.iter()
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn decoded(ids: &[i32], skip_special: bool) -> String {
        ids.iter()
            .filter(|&&i| !(skip_special && i == BOS))
            .map(|i| format!(" w{i}"))
            .collect()
    }
}

impl TokenizerSource for Words {
    fn encode(&self, text: &str, add_special: bool) -> Result<Vec<i32>, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut ids = if add_special { vec![BOS] } else { vec![] };
        for word in text.split_whitespace() {
            ids.push(
                *self
                    .index
                    .get(word)
                    .ok_or_else(|| format!("unknown word {word:?}"))?,
            );
        }
        Ok(ids)
    }

    fn decode(&self, ids: &[i32], skip_special: bool) -> Result<String, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let _ = &self.words;
        Ok(Words::decoded(ids, skip_special))
    }
}

#[test]
fn rust_tokenizer_encode_decode() {
    let tok = Tokenizer::from_source(Words::new(300), 300).unwrap();
    assert_eq!(tok.vocab_size(), 300);
    assert_eq!(tok.encode("w5 w6  w7", true).unwrap(), vec![1, 5, 6, 7]);
    assert_eq!(tok.encode("w5 w6", false).unwrap(), vec![5, 6]);
    assert_eq!(tok.decode(&[5, 1, 6], true).unwrap(), " w5 w6");
    assert_eq!(tok.decode(&[5, 1, 6], false).unwrap(), " w5 w1 w6");
    // Longer than the first buffers: the library retries, the result is cached.
    let ids: Vec<i32> = (0..5000).map(|i| i % 300).collect();
    assert_eq!(tok.encode(Words::text(&ids), false).unwrap(), ids);
    assert_eq!(
        tok.decode(&ids, false).unwrap(),
        Words::decoded(&ids, false)
    );
    assert_eq!(
        tok.decode(&[300], true).unwrap_err().code(),
        ErrorCode::TokenOutOfRange
    );
    // Errors and panics become ErrorCode::Callback with the message.
    let err = tok.encode("w1 nope", true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("unknown word \"nope\""), "{err}");
    assert_eq!(tok.encode("w2", false).unwrap(), vec![2]); // still usable
}

struct Panicking;

impl TokenizerSource for Panicking {
    fn encode(&self, _: &str, _: bool) -> Result<Vec<i32>, String> {
        panic!("encoder exploded")
    }
    fn decode(&self, _: &[i32], _: bool) -> Result<String, String> {
        Err("decoder refused".to_string())
    }
}

struct OutOfRange;

impl TokenizerSource for OutOfRange {
    fn encode(&self, _: &str, _: bool) -> Result<Vec<i32>, String> {
        Ok(vec![1_000_000])
    }
    fn decode(&self, _: &[i32], _: bool) -> Result<String, String> {
        Ok(String::new())
    }
}

#[test]
fn rust_tokenizer_failures() {
    let tok = Tokenizer::from_source(Panicking, 10).unwrap();
    let err = tok.encode("x", true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("encoder exploded"), "{err}");
    // A failing decode is ErrorCode::Callback too (the bindings report the host's failure;
    // see the note in the Python tests about the library's own status here).
    let err = tok.decode(&[1, 2], true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("decoder refused"), "{err}");
    let tok = Tokenizer::from_source(OutOfRange, 10).unwrap();
    let err = tok.encode("x", true).unwrap_err();
    assert!(err.message().contains("1000000"), "{err}");
}

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

struct Counted(Words, #[allow(dead_code)] DropCounter);

impl TokenizerSource for Counted {
    fn encode(&self, text: &str, add_special: bool) -> Result<Vec<i32>, String> {
        self.0.encode(text, add_special)
    }
    fn decode(&self, ids: &[i32], skip_special: bool) -> Result<String, String> {
        self.0.decode(ids, skip_special)
    }
}

#[test]
fn rust_tokenizer_is_dropped_with_the_tokenizer() {
    let drops = Arc::new(AtomicUsize::new(0));
    let tok = Tokenizer::from_source(Counted(Words::new(10), DropCounter(Arc::clone(&drops))), 10)
        .unwrap();
    assert_eq!(tok.encode("w3", false).unwrap(), vec![3]);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(tok);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

fn llama() -> (Model, Vec<i32>, Vec<i32>) {
    let reference = common::Reference::load("llama_f32");
    let model = Model::load(common::fixture("llama_f32")).unwrap();
    (
        model,
        reference.ids("prompt_ids"),
        reference.ids("greedy_ids"),
    )
}

/// Proposes known ids (what plain decoding produced).
struct Known(Vec<i32>);

impl DraftSource for Known {
    fn propose(
        &mut self,
        tokens: &[i32],
        n_prompt: usize,
        max_tokens: usize,
    ) -> Result<Vec<i32>, String> {
        let done = (tokens.len() - n_prompt).min(self.0.len());
        Ok(self.0[done..(done + max_tokens).min(self.0.len())].to_vec())
    }
}

#[test]
fn generate_text_with_a_rust_tokenizer() {
    let (model, prompt, greedy) = llama();
    let vocab = model.vocab_size();
    let words = Words::new(vocab);
    let calls = Arc::clone(&words.calls);
    let tok = Tokenizer::from_source(words, vocab as i32).unwrap();
    let mut session = Session::new(&model, &SessionParams::new().n_threads(1)).unwrap();
    let text_opts = TextOptions::new().tokenizer(&tok).add_special_tokens(false);
    let mut pieces = Vec::new();
    let text = session
        .generate_text_streaming(
            Words::text(&prompt),
            &GenerateOptions::greedy(12),
            &text_opts,
            |piece| {
                pieces.push(piece.to_string());
                Control::Continue
            },
        )
        .unwrap();
    assert_eq!(text, Words::decoded(&greedy[..12], true));
    assert_eq!(pieces.concat(), text);
    assert!(pieces.len() >= 2);
    assert_eq!(session.text().unwrap(), text);
    assert_eq!(session.stats().unwrap().generated_tokens, 12);
    assert_eq!(&session.tokens().unwrap()[..prompt.len()], &prompt[..]);
    assert!(calls.load(Ordering::SeqCst) > 0);

    // With BOS, speculatively: the ids of generate().
    let with_bos: Vec<i32> = std::iter::once(BOS).chain(prompt.iter().copied()).collect();
    let ids = session
        .generate(&with_bos, &GenerateOptions::greedy(10))
        .unwrap();
    let text = session
        .generate_text(
            Words::text(&prompt),
            &GenerateOptions::greedy(10),
            &TextOptions::new()
                .tokenizer(&tok)
                .speculation(Speculation::suffix()),
        )
        .unwrap();
    assert_eq!(text, Words::decoded(&ids, true));
    // A Rust drafter proposing those ids: all accepted, the same text.
    let drafter = Drafter::new(Known(ids.clone())).unwrap();
    let text = session
        .generate_text(
            Words::text(&prompt),
            &GenerateOptions::greedy(10),
            &TextOptions::new()
                .tokenizer(&tok)
                .speculation(Speculation::custom(&drafter)),
        )
        .unwrap();
    assert_eq!(text, Words::decoded(&ids, true));
    assert!(session.stats().unwrap().accepted_tokens > 0);

    // A failing Rust tokenizer: ErrorCode::Callback with its message; the session survives.
    let bad = Tokenizer::from_source(Panicking, vocab as i32).unwrap();
    let err = session
        .generate_text(
            "w1",
            &GenerateOptions::greedy(4),
            &TextOptions::new().tokenizer(&bad),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("encoder exploded"), "{err}");
    let text = session
        .generate_text(
            Words::text(&prompt),
            &GenerateOptions::greedy(3),
            &text_opts,
        )
        .unwrap();
    assert_eq!(text, Words::decoded(&greedy[..3], true));
}

#[test]
fn generate_text_needs_a_tokenizer() {
    let (model, _, _) = llama();
    let err = model.tokenizer().unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unsupported);
    assert!(err.message().contains("tokenizer"), "{err}");
    let mut session = Session::new(&model, &SessionParams::new().n_threads(1)).unwrap();
    let err = session
        .generate_text("hello", &GenerateOptions::greedy(4), &TextOptions::new())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unsupported);
}

// ---------------------------------------------------------------------------
// stories260K (../shared/models/stories260K, when present)
// ---------------------------------------------------------------------------

fn stories() -> Option<(PathBuf, Vec<Json>)> {
    let dir = common::repo_root()
        .join("..")
        .join("shared")
        .join("models")
        .join("stories260K");
    if !dir.join("config.json").is_file() || !dir.join("golden.json").is_file() {
        eprintln!(
            "skipped: {} is absent (the stories260K text generation tests need it)",
            dir.display()
        );
        return None;
    }
    let golden = Json::parse(&std::fs::read_to_string(dir.join("golden.json")).unwrap());
    let cases = golden.get("cases").as_array().to_vec();
    Some((dir, cases))
}

#[test]
fn stories_tokenizer_matches_reference() {
    let Some((dir, cases)) = stories() else {
        return;
    };
    let model = Model::load(&dir).unwrap();
    let tok = model.tokenizer().unwrap();
    assert_eq!(tok.vocab_size(), model.vocab_size());
    assert_eq!(tok.bos_token(), model.bos_token());
    for case in &cases {
        assert_eq!(
            tok.encode(case.get("prompt").as_str(), true).unwrap(),
            case.get("prompt_ids").i32s()
        );
        assert_eq!(
            tok.decode(&case.get("greedy_ids").i32s(), true).unwrap(),
            case.get("greedy_text").as_str()
        );
    }
    drop(model); // the tokenizer is a reference of its own
    assert!(!tok.encode("Once upon a time", true).unwrap().is_empty());
    for (kind, file, add_special) in [
        ("hf", "tokenizer.json", true),
        ("sp", "tokenizer.model", false),
    ] {
        if !dir.join(file).is_file() {
            continue;
        }
        let tok = Tokenizer::load(dir.join(file)).unwrap();
        let ids =
            std::fs::read_to_string(tokenizers_dir().join(format!("stories260K.{kind}.ids.txt")))
                .unwrap();
        for (line, row) in ids.lines().take(LINES).enumerate() {
            let reference: Vec<i32> = row.split_whitespace().map(|x| x.parse().unwrap()).collect();
            assert_eq!(
                tok.encode(&corpus()[line * 6], add_special).unwrap(),
                reference,
                "{kind} line {line}"
            );
        }
    }
}

#[test]
fn generate_text_matches_golden() {
    let Some((dir, cases)) = stories() else {
        return;
    };
    let model = Model::load(&dir).unwrap();
    let mut session = Session::new(&model, &SessionParams::new().n_threads(1)).unwrap();
    let options = GenerateOptions::greedy(64);
    for case in &cases {
        let prompt = case.get("prompt").as_str();
        let golden = case.get("greedy_text").as_str();
        let mut pieces = String::new();
        let mut count = 0;
        let text = session
            .generate_text_streaming(prompt, &options, &TextOptions::new(), |piece| {
                pieces.push_str(piece);
                count += 1;
                Control::Continue
            })
            .unwrap();
        assert_eq!(text, golden);
        assert_eq!(pieces, text);
        assert!(count > 10);
        assert_eq!(session.stats().unwrap().generated_tokens, 64);
        assert_eq!(session.text().unwrap(), text);
        // Speculatively (suffix and n-gram drafters), streaming too.
        for spec in [Speculation::suffix(), Speculation::ngram()] {
            let mut pieces = String::new();
            let text = session
                .generate_text_streaming(
                    prompt,
                    &options,
                    &TextOptions::new().speculation(spec),
                    |piece| {
                        pieces.push_str(piece);
                        Control::Continue
                    },
                )
                .unwrap();
            assert_eq!(text, golden);
            assert_eq!(pieces, golden);
            let stats = session.stats().unwrap();
            assert_eq!(stats.target_calls + stats.accepted_tokens, 63);
        }
        // An explicit tokenizer, and the prompt as bytes.
        let tok = Tokenizer::load(dir.join("tokenizer.json")).unwrap();
        assert_eq!(
            session
                .generate_text(
                    prompt.as_bytes(),
                    &options,
                    &TextOptions::new().tokenizer(&tok)
                )
                .unwrap(),
            golden
        );
    }
}

#[test]
fn generate_text_callbacks_stop_abort_and_panic() {
    let Some((dir, cases)) = stories() else {
        return;
    };
    let model = Model::load(&dir).unwrap();
    let mut session = Session::new(&model, &SessionParams::new().n_threads(1)).unwrap();
    let prompt = cases[0].get("prompt").as_str();
    let golden = cases[0].get("greedy_text").as_str();
    let options = GenerateOptions::greedy(64);

    let mut n = 0;
    let text = session
        .generate_text_streaming(prompt, &options, &TextOptions::new(), |_| {
            n += 1;
            if n == 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .unwrap();
    assert_eq!(n, 3);
    assert!(golden.starts_with(&text) && !text.is_empty());
    assert_eq!(session.stats().unwrap().stop_reason, StopReason::Callback);

    let err = session
        .generate_text_streaming(prompt, &options, &TextOptions::new(), |_| Control::Abort)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("Control::Abort"), "{err}");

    let mut n = 0;
    let err = session
        .generate_text_streaming(prompt, &options, &TextOptions::new(), |_| {
            n += 1;
            if n == 4 {
                panic!("text sink broke");
            }
            Control::Continue
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("text sink broke"), "{err}");

    // Still usable; bad prompts.
    assert_eq!(
        session
            .generate_text(prompt, &options, &TextOptions::new())
            .unwrap(),
        golden
    );
    let err = session
        .generate_text(&b"Once \xff upon"[..], &options, &TextOptions::new())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidUtf8);
    let err = session
        .generate_text("Once\0upon", &options, &TextOptions::new())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}
