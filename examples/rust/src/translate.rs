//! Translation with an encoder-decoder model (Marian, BART) and the specdec crate.
//!
//!     cargo run --offline --bin translate -- MODEL_DIR [SOURCE_IDS] [max_new_tokens] [beams]
//!
//! Greedy decoding (`Session::translate_streaming`) prints the target ids as they are
//! produced, speculative decoding with prompt lookup over the source
//! (`Session::translate_speculative`) is checked to give the same ids, and beam search
//! (`Session::beam_search`) prints the n-best list with scores. SOURCE_IDS defaults to the
//! `source_ids` of the directory's reference.json (the fixtures under
//! Tests/Fixtures/seq2seq have one); when that file is there, the greedy ids are compared
//! with transformers' (exit status 1 on a difference).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use specdec::{BeamOptions, Control, GenerateOptions, Model, Session, SessionParams, Speculation};

fn parse_ids(text: &str) -> Result<Vec<i32>, String> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<i32>()
                .map_err(|e| format!("bad token id {s:?}: {e}"))
        })
        .collect()
}

/// The numbers of `"key": [ ... ]` in reference.json (enough JSON for this example).
fn reference_ids(text: &str, key: &str) -> Option<Vec<i32>> {
    let start = text.find(&format!("\"{key}\""))?;
    let rest = &text[start..];
    let open = rest.find('[')?;
    let close = rest.find(']')?;
    parse_ids(&rest[open + 1..close]).ok()
}

fn run(
    model_dir: &str,
    source: &[i32],
    max_new_tokens: i32,
    beams: i32,
    reference: Option<&[i32]>,
) -> specdec::Result<bool> {
    let model = Model::load(model_dir)?;
    let info = model.info();
    if !info.is_encoder_decoder {
        eprintln!(
            "error: {model_dir} is a decoder-only model ({})",
            model.model_type()
        );
        return Ok(false);
    }
    eprintln!(
        "{} ({:?}): source vocab {}, target vocab {}, decoder start {:?}, sources up to {} tokens",
        model.model_type(),
        info.architecture,
        info.source_vocab_size,
        info.vocab_size,
        info.decoder_start_token_id,
        info.max_source_length
    );
    let mut session = Session::new(&model, &SessionParams::new())?;
    let options = GenerateOptions::new().max_new_tokens(max_new_tokens);

    print!("greedy: ");
    let stdout = std::io::stdout();
    let greedy = session.translate_streaming(source, &[], &options, None, |token, index| {
        let mut out = stdout.lock();
        let _ = write!(out, "{}{token}", if index == 0 { "" } else { "," });
        let _ = out.flush();
        Control::Continue
    })?;
    println!();
    let mut ok = true;
    if let Some(reference) = reference {
        let same = greedy == reference;
        eprintln!(
            "greedy ids {} reference.json",
            if same { "equal" } else { "DIFFER FROM" }
        );
        ok &= same;
    }

    let speculative =
        session.translate_speculative(source, &[], &options, &Speculation::ngram())?;
    let stats = session.stats()?;
    eprintln!(
        "speculative (ngram over the source): {} ids, drafted {}, accepted {}, target calls {}",
        if speculative == greedy {
            "same"
        } else {
            "DIFFERENT"
        },
        stats.drafted_tokens,
        stats.accepted_tokens,
        stats.target_calls
    );
    ok &= speculative == greedy;

    let beam = BeamOptions::new()
        .beams(beams)
        .max_new_tokens(max_new_tokens)
        .num_return(beams);
    println!("beam search ({beams} beams):");
    for (rank, hyp) in session.beam_search(source, &beam)?.iter().enumerate() {
        let ids: Vec<String> = hyp.tokens.iter().map(|t| t.to_string()).collect();
        println!(
            "  {rank}: score {:+.6} [{}] {}",
            hyp.score,
            if hyp.ended_with_eos { "eos" } else { "max" },
            ids.join(",")
        );
    }
    Ok(ok)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 || args.len() > 5 {
        eprintln!(
            "usage: {} MODEL_DIR [id,id,id] [max_new_tokens] [beams]",
            args[0]
        );
        return ExitCode::from(2);
    }
    let reference = std::fs::read_to_string(Path::new(&args[1]).join("reference.json")).ok();
    let source = match args.get(2) {
        Some(text) => match parse_ids(text) {
            Ok(ids) => ids,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => match reference
            .as_deref()
            .and_then(|r| reference_ids(r, "source_ids"))
        {
            Some(ids) => ids,
            None => {
                eprintln!(
                    "error: no source ids given and no reference.json in {}",
                    args[1]
                );
                return ExitCode::from(2);
            }
        },
    };
    let default_max = reference
        .as_deref()
        .and_then(|r| {
            let at = r.find("\"max_new_tokens\"")?;
            let rest = r[at + 16..].trim_start_matches([':', ' ']);
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(64);
    let numbers: Result<Vec<i32>, _> = args.iter().skip(3).map(|s| s.parse::<i32>()).collect();
    let Ok(numbers) = numbers else {
        eprintln!("error: max_new_tokens and beams are integers");
        return ExitCode::from(2);
    };
    let max_new_tokens = numbers.first().copied().unwrap_or(default_max);
    let beams = numbers.get(1).copied().unwrap_or(4);
    // Compare with the reference only for its own source and length.
    let greedy_reference = reference.as_deref().and_then(|r| {
        (reference_ids(r, "source_ids").as_deref() == Some(&source[..])
            && max_new_tokens == default_max)
            .then(|| reference_ids(r, "greedy_ids"))
            .flatten()
    });
    match run(
        &args[1],
        &source,
        max_new_tokens,
        beams,
        greedy_reference.as_deref(),
    ) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("\nerror: {err}");
            ExitCode::from(1)
        }
    }
}
