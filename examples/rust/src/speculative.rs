//! Speculative decoding with the specdec crate.
//!
//!     cargo run --offline --bin speculative -- MODEL_DIR 1,2,3 [max_new_tokens] [DRAFTER]
//!
//! DRAFTER is `lookup` (default: a prompt-lookup drafter written in Rust, see
//! `PromptLookup`), `ngram`, `suffix`, `model=DIR` (a draft model with the same
//! vocabulary) or `plugin=PATH[:CONFIG]` (a drafter plugin such as
//! examples/plugins/build/lookup_drafter.so). Generates greedily twice, plainly and
//! speculatively, prints the speculative ids (streamed) and compares them with the plain
//! ones (greedy acceptance reproduces greedy decoding exactly), then the statistics on
//! stderr: target calls, drafted and accepted tokens, acceptance per draft depth.

use std::io::Write;
use std::process::ExitCode;

use specdec::{
    Control, DraftSource, Drafter, GenerateOptions, Model, Session, SessionParams, Speculation,
};

/// Prompt lookup: propose the tokens that followed the most recent earlier occurrence of
/// the sequence's last n tokens (n from `max_ngram` down to 1). (`DraftSource` also has
/// optional `propose_tree`, `begin` and `accepted` methods.)
struct PromptLookup {
    max_ngram: usize,
}

impl DraftSource for PromptLookup {
    fn propose(
        &mut self,
        tokens: &[i32],
        _n_prompt: usize,
        max_tokens: usize,
    ) -> Result<Vec<i32>, String> {
        for n in (1..=self.max_ngram).rev() {
            if tokens.len() <= n {
                continue;
            }
            let tail = &tokens[tokens.len() - n..];
            if let Some(start) = (0..tokens.len() - n)
                .rev()
                .find(|&s| &tokens[s..s + n] == tail)
            {
                let end = (start + n + max_tokens).min(tokens.len());
                return Ok(tokens[start + n..end].to_vec());
            }
        }
        Ok(Vec::new())
    }
}

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

fn run(
    model_dir: &str,
    prompt: &[i32],
    max_new_tokens: i32,
    drafter: &str,
) -> specdec::Result<bool> {
    let model = Model::load(model_dir)?;
    let mut session = Session::new(&model, &SessionParams::new())?;
    let options = GenerateOptions::greedy(max_new_tokens);
    let plain = session.generate(prompt, &options)?;
    let plain_calls = session.stats()?.target_calls;

    // The drafter's owner outlives the Speculation that borrows it.
    let draft_model;
    let custom;
    let spec = if drafter == "lookup" {
        custom = Drafter::new(PromptLookup { max_ngram: 3 })?;
        Speculation::custom(&custom)
    } else if drafter == "ngram" {
        Speculation::ngram()
    } else if drafter == "suffix" {
        Speculation::suffix()
    } else if let Some(dir) = drafter.strip_prefix("model=") {
        draft_model = Model::load(dir)?;
        Speculation::model(&draft_model)
    } else if let Some(spec) = drafter.strip_prefix("plugin=") {
        let (path, config) = match spec.split_once(':') {
            Some((path, config)) => (path, Some(config)),
            None => (spec, None),
        };
        custom = Drafter::load_plugin(path, config)?;
        Speculation::custom(&custom)
    } else {
        return Err(specdec::Error::new(
            specdec::ErrorCode::InvalidArgument,
            format!("unknown drafter {drafter:?} (lookup, ngram, suffix, model=DIR, plugin=PATH[:CONFIG])"),
        ));
    }
    .draft_length(5);

    let stdout = std::io::stdout();
    let ids = session.generate_speculative_streaming(prompt, &options, &spec, |token, index| {
        let mut out = stdout.lock();
        let _ = write!(out, "{}{token}", if index == 0 { "" } else { "," });
        let _ = out.flush();
        Control::Continue
    })?;
    println!();
    let stats = session.stats()?;
    let depth = session.acceptance_by_depth()?;
    eprintln!(
        "drafter {drafter}: {} tokens, identical to plain greedy: {}",
        ids.len(),
        if ids == plain { "yes" } else { "NO" }
    );
    eprintln!(
        "target calls {} (plain: {plain_calls}), drafted {}, accepted {} ({:.0}%), {:.2} tokens per target call",
        stats.target_calls,
        stats.drafted_tokens,
        stats.accepted_tokens,
        100.0 * stats.acceptance_rate(),
        stats.tokens_per_target_call
    );
    let depth: Vec<String> = depth.iter().map(|r| format!("{r:.2}")).collect();
    eprintln!("acceptance by depth: [{}]", depth.join(", "));
    eprintln!(
        "draft {:.6} s, verify {:.6} s, sample {:.6} s; decode {:.1} tok/s",
        stats.draft_seconds,
        stats.verify_seconds,
        stats.sample_seconds,
        stats.decode_tokens_per_second
    );
    Ok(ids == plain)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 || args.len() > 5 {
        eprintln!(
            "usage: {} MODEL_DIR id,id,id [max_new_tokens] [lookup|ngram|suffix|model=DIR|plugin=PATH[:CONFIG]]",
            args[0]
        );
        return ExitCode::from(2);
    }
    let prompt = match parse_ids(&args[2]) {
        Ok(ids) => ids,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let max_new_tokens = match args.get(3).map(|s| s.parse::<i32>()) {
        None => 32,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("error: bad max_new_tokens: {e}");
            return ExitCode::from(2);
        }
    };
    let drafter = args.get(4).map_or("lookup", String::as_str);
    match run(&args[1], &prompt, max_new_tokens, drafter) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("\nerror: {err}");
            ExitCode::from(1)
        }
    }
}
