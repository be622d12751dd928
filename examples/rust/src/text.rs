//! Text generation with the specdec crate: a text prompt in, streamed text out.
//!
//!     cargo run --offline --bin text -- MODEL_DIR "PROMPT" [max_new_tokens] [ngram|suffix|words]
//!
//! The prompt is encoded with the tokenizer of the model's directory (tokenizer.json or
//! tokenizer.model, BOS included) and the generated text is printed piece by piece as the
//! library produces it (`Session::generate_text_streaming`). `ngram` or `suffix` decodes
//! speculatively (greedy: the same text). `words` uses a tokenizer written in Rust
//! instead (a `TokenizerSource`: "w<id>" words separated by spaces), which works with any
//! model, e.g. the fixtures under Tests/Fixtures/decoder, that have no tokenizer of their
//! own.

use std::io::Write;
use std::process::ExitCode;

use specdec::{
    Control, GenerateOptions, Model, Session, SessionParams, Speculation, TextOptions, Tokenizer,
    TokenizerSource,
};

/// A whitespace tokenizer over the words "w0", "w1", ...: "w5 w17" is [5, 17].
struct Words;

impl TokenizerSource for Words {
    fn encode(&self, text: &str, _add_special: bool) -> Result<Vec<i32>, String> {
        text.split_whitespace()
            .map(|word| {
                word.strip_prefix('w')
                    .and_then(|n| n.parse::<i32>().ok())
                    .ok_or_else(|| format!("not a word of this vocabulary: {word:?}"))
            })
            .collect()
    }

    fn decode(&self, ids: &[i32], _skip_special: bool) -> Result<String, String> {
        Ok(ids.iter().map(|id| format!(" w{id}")).collect())
    }
}

fn run(model_dir: &str, prompt: &str, max_new_tokens: i32, mode: &str) -> specdec::Result<()> {
    let model = Model::load(model_dir)?;
    let mut session = Session::new(&model, &SessionParams::new())?;
    let words = if mode == "words" {
        Some(Tokenizer::from_source(Words, model.vocab_size() as i32)?)
    } else {
        None
    };
    let mut text_options = TextOptions::new();
    if let Some(tokenizer) = &words {
        text_options = text_options.tokenizer(tokenizer);
    }
    match mode {
        "ngram" => text_options = text_options.speculation(Speculation::ngram()),
        "suffix" => text_options = text_options.speculation(Speculation::suffix()),
        _ => {}
    }
    let stdout = std::io::stdout();
    let text = session.generate_text_streaming(
        prompt,
        &GenerateOptions::greedy(max_new_tokens),
        &text_options,
        |piece| {
            let mut out = stdout.lock();
            let _ = write!(out, "{piece}");
            let _ = out.flush();
            Control::Continue
        },
    )?;
    println!();
    let stats = session.stats()?;
    eprintln!(
        "{} characters; prompt {} tokens, generated {}, stop: {:?}; target calls {}, accepted drafts {}",
        text.chars().count(),
        stats.prompt_tokens,
        stats.generated_tokens,
        stats.stop_reason,
        stats.target_calls,
        stats.accepted_tokens
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 || args.len() > 5 {
        eprintln!(
            "usage: {} MODEL_DIR PROMPT [max_new_tokens] [plain|ngram|suffix|words]",
            args[0]
        );
        return ExitCode::from(2);
    }
    let max_new_tokens = match args.get(3).map(|s| s.parse::<i32>()) {
        None => 64,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("error: bad max_new_tokens: {e}");
            return ExitCode::from(2);
        }
    };
    let mode = args.get(4).map(String::as_str).unwrap_or("plain");
    if !["plain", "ngram", "suffix", "words"].contains(&mode) {
        eprintln!("error: unknown mode {mode:?}");
        return ExitCode::from(2);
    }
    match run(&args[1], &args[2], max_new_tokens, mode) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nerror: {err}");
            ExitCode::from(1)
        }
    }
}
