//! Streaming generation with the specdec crate.
//!
//!     cargo run --offline -- MODEL_DIR 1,2,3 [max_new_tokens]
//!
//! Prints each generated id as the library produces it, then statistics and the
//! arena backend on stderr.

use std::io::Write;
use std::process::ExitCode;

use specdec::{Control, GenerateOptions, Model, Session, SessionParams};

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

fn run(model_dir: &str, prompt: &[i32], max_new_tokens: i32) -> specdec::Result<()> {
    let model = Model::load(model_dir)?;
    let mut session = Session::new(&model, &SessionParams::new())?;
    let options = GenerateOptions::greedy(max_new_tokens);
    let stdout = std::io::stdout();
    let ids = session.generate_streaming(prompt, &options, |token, index| {
        let mut out = stdout.lock();
        let _ = write!(out, "{}{token}", if index == 0 { "" } else { "," });
        let _ = out.flush();
        Control::Continue
    })?;
    println!();
    let stats = session.stats()?;
    let info = model.info();
    eprintln!(
        "libspecdec {}: {} ({:?}), vocab {}, {} parameters",
        specdec::version_string(),
        model.model_type(),
        info.architecture,
        info.vocab_size,
        info.num_parameters
    );
    eprintln!(
        "prompt {} ({} reused), generated {}, stop: {:?}; decode {:.1} tok/s",
        stats.prompt_tokens,
        stats.reused_tokens,
        ids.len(),
        stats.stop_reason,
        stats.decode_tokens_per_second
    );
    eprintln!("arena backend: {}", session.arena_backend());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 || args.len() > 4 {
        eprintln!("usage: {} MODEL_DIR id,id,id [max_new_tokens]", args[0]);
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
    match run(&args[1], &prompt, max_new_tokens) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nerror: {err}");
            ExitCode::from(1)
        }
    }
}
