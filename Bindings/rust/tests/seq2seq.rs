//! Encoder-decoder models (ABI 2): `Session::translate`, `Session::beam_search`,
//! `Session::set_source` with eval/truncate on the decoder side, against the references
//! transformers computed for Tests/Fixtures/seq2seq/<name>/reference.json (fairseq_f32:
//! a converted fairseq transformer, without beam runs).

use std::path::PathBuf;

use specdec::{
    Architecture, BeamOptions, Control, DraftSource, Drafter, EarlyStopping, ErrorCode,
    GenerateOptions, Hypothesis, Model, Session, SessionParams, Speculation, StopReason,
    TextOptions, Tokenizer, TokenizerSource,
};

mod common;
use common::json::Json;

const TRANSFORMERS: &[&str] = &["marian_f32", "marian_f16", "bart_f32"];
const ALL: &[&str] = &["marian_f32", "marian_f16", "bart_f32", "fairseq_f32"];

struct Fixture {
    model: Model,
    reference: Json,
}

impl Fixture {
    fn load(name: &'static str) -> Fixture {
        let dir: PathBuf = common::repo_root()
            .join("Tests")
            .join("Fixtures")
            .join("seq2seq")
            .join(name);
        let text = std::fs::read_to_string(dir.join("reference.json"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let model = Model::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        Fixture {
            model,
            reference: Json::parse(&text),
        }
    }

    fn session(&self) -> Session<'_> {
        Session::new(
            &self.model,
            &SessionParams::new().n_threads(1).kv_capacity(64),
        )
        .unwrap()
    }

    fn source(&self) -> Vec<i32> {
        self.reference.get("source_ids").i32s()
    }

    fn greedy(&self) -> Vec<i32> {
        self.reference.get("greedy_ids").i32s()
    }

    fn max_new_tokens(&self) -> i32 {
        self.reference.get("max_new_tokens").as_i32()
    }

    fn start(&self) -> i32 {
        self.reference.get("decoder_start_token_id").as_i32()
    }

    fn options(&self) -> GenerateOptions {
        GenerateOptions::new().max_new_tokens(self.max_new_tokens())
    }
}

#[test]
fn model_info() {
    for &name in ALL {
        let f = Fixture::load(name);
        let info = f.model.info();
        assert!(
            info.is_encoder_decoder && f.model.is_encoder_decoder(),
            "{name}"
        );
        let expected = match f.reference.get("model_type").as_str() {
            "bart" => Architecture::Bart,
            _ => Architecture::Marian,
        };
        assert_eq!(info.architecture, expected);
        assert_eq!(info.decoder_start_token_id, Some(f.start()));
        assert_eq!(info.vocab_size, f.reference.get("vocab_size").as_i32());
        assert_eq!(f.model.vocab_size(), info.vocab_size as usize);
        assert!(info.source_vocab_size > *f.source().iter().max().unwrap());
        assert!(info.max_source_length >= f.source().len() as i32);
    }
    let llama = Model::load(common::fixture("llama_f32")).unwrap();
    let info = llama.info();
    assert!(!info.is_encoder_decoder && !llama.is_encoder_decoder());
    assert_eq!(info.decoder_start_token_id, None);
    assert_eq!(info.max_source_length, 0);
    assert_eq!(info.source_vocab_size, info.vocab_size);
}

#[test]
fn translate_is_greedy_plain_speculative_and_streamed() {
    for &name in ALL {
        let f = Fixture::load(name);
        let mut session = f.session();
        let greedy = f.greedy();
        let source = f.source();
        let options = f.options();
        assert_eq!(
            session.translate(&source, &[], &options).unwrap(),
            greedy,
            "{name}"
        );
        let stats = session.stats().unwrap();
        assert_eq!(stats.generated_tokens as usize, greedy.len());
        let ended = f.reference.get("greedy_ended_with_eos").as_bool();
        assert_eq!(
            stats.stop_reason,
            if ended {
                StopReason::Token
            } else {
                StopReason::MaxTokens
            }
        );
        let cached = session.tokens().unwrap();
        assert_eq!(cached[0], f.start());
        assert_eq!(&cached[1..], &greedy[..cached.len() - 1]);

        for spec in [Speculation::ngram(), Speculation::suffix()] {
            assert_eq!(
                session
                    .translate_speculative(&source, &[], &options, &spec)
                    .unwrap(),
                greedy,
                "{name} {:?}",
                spec.drafter
            );
            let stats = session.stats().unwrap();
            assert_eq!(
                stats.target_calls + stats.accepted_tokens,
                stats.generated_tokens - 1
            );
        }

        let mut seen = Vec::new();
        let out = session
            .translate_streaming(&source, &[], &options, None, |token, index| {
                seen.push((index, token));
                Control::Continue
            })
            .unwrap();
        assert_eq!(out, greedy);
        assert_eq!(
            seen,
            greedy
                .iter()
                .enumerate()
                .map(|(i, &t)| (i as i32, t))
                .collect::<Vec<_>>()
        );
        let out = session
            .translate_streaming(
                &source,
                &[],
                &options,
                Some(&Speculation::ngram()),
                |_, index| Control::from(index == 2),
            )
            .unwrap();
        assert_eq!(out, greedy[..3]);
        let err = session
            .translate_streaming(&source, &[], &options, None, |_, index| {
                if index == 1 {
                    panic!("sink broke");
                }
                Control::Continue
            })
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Callback);
        assert!(err.message().contains("sink broke"), "{err}");
        assert_eq!(err.partial_tokens(), &greedy[..2]);
        assert_eq!(session.translate(&source, &[], &options).unwrap(), greedy);
    }
}

/// Proposes the reference translation: every draft is accepted.
struct Oracle(Vec<i32>);

impl DraftSource for Oracle {
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

/// Proposes a token the model never picks: every draft is rejected.
struct Wrong(i32);

impl DraftSource for Wrong {
    fn propose(&mut self, _: &[i32], _: usize, max_tokens: usize) -> Result<Vec<i32>, String> {
        Ok(vec![self.0; max_tokens])
    }
}

struct Broken;

impl DraftSource for Broken {
    fn propose(&mut self, _: &[i32], _: usize, _: usize) -> Result<Vec<i32>, String> {
        Err("no draft today".to_string())
    }
}

#[test]
fn translate_with_rust_drafters() {
    for &name in ALL {
        let f = Fixture::load(name);
        let mut session = f.session();
        let (source, greedy, options) = (f.source(), f.greedy(), f.options());
        let oracle = Drafter::new(Oracle(greedy.clone())).unwrap();
        assert_eq!(
            session
                .translate_speculative(&source, &[], &options, &Speculation::custom(&oracle))
                .unwrap(),
            greedy
        );
        let stats = session.stats().unwrap();
        assert_eq!(stats.accepted_tokens, stats.drafted_tokens, "{name}");
        if greedy.len() > 6 {
            assert!(stats.accepted_tokens > 0);
        }
        let unused = (0..f.model.vocab_size() as i32)
            .find(|t| !greedy.contains(t))
            .unwrap();
        let wrong = Drafter::new(Wrong(unused)).unwrap();
        assert_eq!(
            session
                .translate_speculative(
                    &source,
                    &[],
                    &options,
                    &Speculation::custom(&wrong).draft_length(3)
                )
                .unwrap(),
            greedy
        );
        assert_eq!(session.stats().unwrap().accepted_tokens, 0);
        let broken = Drafter::new(Broken).unwrap();
        let err = session
            .translate_speculative(&source, &[], &options, &Speculation::custom(&broken))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Callback);
        assert!(err.message().contains("no draft today"), "{err}");
        assert_eq!(session.translate(&source, &[], &options).unwrap(), greedy);
    }
}

#[test]
fn forced_prefix() {
    for &name in ALL {
        let f = Fixture::load(name);
        let mut session = f.session();
        let (source, greedy, options) = (f.source(), f.greedy(), f.options());
        let out = session.translate(&source, &greedy[..3], &options).unwrap();
        assert_eq!(&out[..greedy.len() - 3], &greedy[3..], "{name}");
        let spec = session
            .translate_speculative(&source, &greedy[..3], &options, &Speculation::ngram())
            .unwrap();
        assert_eq!(spec, out);
        let tokens = session.tokens().unwrap();
        assert_eq!(tokens[0], f.start());
        assert_eq!(&tokens[1..4], &greedy[..3]);
        let exact = GenerateOptions::new().max_new_tokens(greedy.len() as i32 - 3);
        assert_eq!(
            session.translate(&source, &greedy[..3], &exact).unwrap(),
            &greedy[3..]
        );
    }
}

fn early_stopping(value: &Json) -> EarlyStopping {
    match value {
        Json::Bool(b) => EarlyStopping::from(*b),
        Json::String(s) if s == "never" => EarlyStopping::Never,
        other => panic!("unexpected early_stopping {other:?}"),
    }
}

#[test]
fn beam_search_matches_transformers() {
    for &name in TRANSFORMERS {
        let f = Fixture::load(name);
        let mut session = f.session();
        let runs = f.reference.get("beam").as_array();
        assert!(!runs.is_empty());
        for run in runs {
            let options = BeamOptions::new()
                .beams(run.get("num_beams").as_i32())
                .max_new_tokens(run.get("max_new_tokens").as_i32())
                .length_penalty(run.get("length_penalty").as_f64() as f32)
                .early_stopping(early_stopping(run.get("early_stopping")))
                .num_return(run.get("num_return_sequences").as_i32());
            let hyps: Vec<Hypothesis> = session.beam_search(&f.source(), &options).unwrap();
            let expected = run.get("hypotheses").as_array();
            assert_eq!(hyps.len(), expected.len(), "{name} {options:?}");
            for (i, (ours, reference)) in hyps.iter().zip(expected).enumerate() {
                let what = format!("{name} {options:?} hypothesis {i}");
                assert_eq!(ours.tokens, reference.get("tokens").i32s(), "{what}");
                assert!(
                    (ours.score as f64 - reference.get("score").as_f64()).abs() < 1e-3,
                    "{what}: {} vs {}",
                    ours.score,
                    reference.get("score").as_f64()
                );
                assert_eq!(
                    ours.ended_with_eos,
                    reference.get("ended_with_eos").as_bool(),
                    "{what}"
                );
            }
            assert!(hyps.windows(2).all(|w| w[0].score >= w[1].score));
        }
    }
}

#[test]
fn beam_search_options() {
    for &name in TRANSFORMERS {
        let f = Fixture::load(name);
        let mut session = f.session();
        let source = f.source();
        let n = f.max_new_tokens();
        let four = BeamOptions::new().beams(4).max_new_tokens(n).num_return(4);
        let all = session.beam_search(&source, &four).unwrap();
        let best = session
            .beam_search(&source, &BeamOptions::new().beams(4).max_new_tokens(n))
            .unwrap();
        assert_eq!(best.len(), 1);
        assert_eq!(best[0], all[0]);
        let one = session
            .beam_search(&source, &BeamOptions::new().beams(1).max_new_tokens(n))
            .unwrap();
        assert_eq!(
            one[0].tokens,
            f.greedy(),
            "{name}: one beam is greedy search"
        );
        for bad in [
            four.num_return(5),
            four.beams(0),
            four.max_new_tokens(0),
            four.length_penalty(f32::NAN),
        ] {
            let err = session.beam_search(&source, &bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidArgument, "{bad:?}");
        }
        assert_eq!(session.beam_search(&source, &four).unwrap(), all);
    }
}

fn log_softmax_at(row: &[f32], index: usize) -> f64 {
    common::log_softmax(row)[index]
}

#[test]
fn teacher_forcing_with_set_source_and_eval() {
    for &name in ALL {
        let f = Fixture::load(name);
        let mut session = f.session();
        let targets = f.reference.get("score_target_ids").i32s();
        let logprobs = f.reference.get("logprobs").f64s();
        let input: Vec<i32> = std::iter::once(f.start())
            .chain(targets[..targets.len() - 1].iter().copied())
            .collect();
        session.set_source(&f.source()).unwrap();
        assert_eq!(session.len(), 0);
        let logits = session.eval(&input, None).unwrap();
        assert_eq!(logits.len(), input.len());
        assert_eq!(logits.vocab_size(), f.model.vocab_size());
        assert_eq!(session.tokens().unwrap(), input);
        for (i, (&target, &expected)) in targets.iter().zip(&logprobs).enumerate() {
            let ours = log_softmax_at(logits.row(i), target as usize);
            assert!(
                (ours - expected).abs() < 1e-3,
                "{name} row {i}: {ours} vs {expected}"
            );
        }
        session.truncate(4).unwrap();
        assert_eq!(session.len(), 4);
        let again = session.eval(&input[4..], None).unwrap();
        for i in 0..again.len() {
            let diff = common::max_abs_diff(
                &again.row(i).iter().map(|&x| x as f64).collect::<Vec<_>>(),
                &logits
                    .row(i + 4)
                    .iter()
                    .map(|&x| x as f64)
                    .collect::<Vec<_>>(),
            );
            assert!(diff < 1e-4, "{name} row {}: {diff}", i + 4);
        }
        session.set_source(&f.source()).unwrap();
        assert_eq!(session.len(), 0);
        // No source yet on a fresh session.
        let mut fresh = f.session();
        let err = fresh.eval(&[f.start()], None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(err.message().contains("source"), "{err}");
    }
}

#[test]
fn decoder_only_api_is_refused_with_a_clear_message() {
    for &name in ALL {
        let f = Fixture::load(name);
        let mut session = f.session();
        let err = session
            .generate(&f.source(), &GenerateOptions::greedy(4))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(err.message().contains("encoder-decoder"), "{err}");
        assert!(err.message().contains("Session::translate"), "{err}");
        let err = session
            .generate_speculative(
                &f.source(),
                &GenerateOptions::greedy(4),
                &Speculation::ngram(),
            )
            .unwrap_err();
        assert!(err.message().contains("encoder-decoder"), "{err}");
        assert_eq!(
            session.translate(&f.source(), &[], &f.options()).unwrap(),
            f.greedy()
        );
    }
}

/// Ids written as decimal numbers.
struct Numbers;

impl TokenizerSource for Numbers {
    fn encode(&self, text: &str, _: bool) -> Result<Vec<i32>, String> {
        text.split_whitespace()
            .map(|w| w.parse::<i32>().map_err(|e| e.to_string()))
            .collect()
    }
    fn decode(&self, ids: &[i32], _: bool) -> Result<String, String> {
        Ok(ids.iter().map(|i| format!(" {i}")).collect())
    }
}

#[test]
fn generate_text_translates_on_encoder_decoder_models() {
    let f = Fixture::load("marian_f32");
    let mut session = f.session();
    let tok = Tokenizer::from_source(Numbers, f.model.info().source_vocab_size).unwrap();
    let prompt = f
        .source()
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let text = session
        .generate_text(
            prompt,
            &f.options(),
            &TextOptions::new()
                .tokenizer(&tok)
                .skip_special_tokens(false),
        )
        .unwrap();
    let expected: String = f.greedy().iter().map(|i| format!(" {i}")).collect();
    assert_eq!(text, expected);
}

#[test]
fn seq2seq_api_on_a_decoder_only_model() {
    let model = Model::load(common::fixture("llama_f32")).unwrap();
    let mut session = Session::new(&model, &SessionParams::new().n_threads(1)).unwrap();
    let results = [
        session.set_source(&[1, 2, 3]).unwrap_err(),
        session
            .translate(&[1, 2, 3], &[], &GenerateOptions::greedy(4))
            .unwrap_err(),
        session
            .beam_search(&[1, 2, 3], &BeamOptions::new().max_new_tokens(4))
            .unwrap_err(),
    ];
    for err in results {
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(err.message().contains("decoder-only"), "{err}");
        assert!(err.message().contains("Session::generate"), "{err}");
    }
}

#[test]
fn bad_sources() {
    for &name in ALL {
        let f = Fixture::load(name);
        let mut session = f.session();
        let info = f.model.info();
        let options = GenerateOptions::greedy(4);
        let too_long = vec![5; info.max_source_length as usize + 1];
        let err = session.translate(&too_long, &[], &options).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Capacity, "{name}");
        assert!(err.message().contains("source"), "{err}");
        assert_eq!(
            session
                .beam_search(&too_long, &BeamOptions::new().max_new_tokens(4))
                .unwrap_err()
                .code(),
            ErrorCode::Capacity
        );
        assert_eq!(
            session.set_source(&too_long).unwrap_err().code(),
            ErrorCode::Capacity
        );
        assert_eq!(
            session
                .translate(&vec![5; 10_000], &[], &options)
                .unwrap_err()
                .code(),
            ErrorCode::Capacity
        );
        assert_eq!(
            session
                .translate(&[5, info.source_vocab_size], &[], &options)
                .unwrap_err()
                .code(),
            ErrorCode::TokenOutOfRange
        );
        assert_eq!(
            session.set_source(&[5, -1]).unwrap_err().code(),
            ErrorCode::TokenOutOfRange
        );
        assert_eq!(
            session.set_source(&[]).unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            session
                .translate(&f.source(), &[info.vocab_size], &options)
                .unwrap_err()
                .code(),
            ErrorCode::TokenOutOfRange
        );
        assert_eq!(
            session.translate(&f.source(), &[], &f.options()).unwrap(),
            f.greedy()
        );
    }
}

/// SpecDec with the shipped pair (models/specdec-en-de-*): beta 1 gives transformers' greedy
/// translation (Tests/Fixtures/specdec-pair/reference.json) with drafts accepted; another k
/// than the drafter's is refused and the session stays usable.
#[test]
fn specdec_with_the_shipped_pair() {
    let root = common::repo_root();
    let verifier = Model::load(root.join("models").join("specdec-en-de-verifier")).unwrap();
    let drafter = Model::load(root.join("models").join("specdec-en-de-drafter")).unwrap();
    let text = std::fs::read_to_string(
        root.join("Tests")
            .join("Fixtures")
            .join("specdec-pair")
            .join("reference.json"),
    )
    .unwrap();
    let reference = Json::parse(&text);
    let mut session = Session::new(&verifier, &SessionParams::new().n_threads(2)).unwrap();
    let options = GenerateOptions::new().max_new_tokens(200);
    let exact = Speculation::specdec(&drafter)
        .draft_length(12)
        .acceptance(specdec::Acceptance::TopK { beta: 1, tau: 0.0 });
    let mut accepted = 0;
    for case in reference.get("cases").as_array().iter().take(6) {
        let source = case.get("source_ids").i32s();
        let ids = session
            .translate_speculative(&source, &[], &options, &exact)
            .unwrap();
        assert_eq!(ids, case.get("greedy_ids").i32s());
        accepted += session.stats().unwrap().accepted_tokens;
    }
    assert!(accepted > 0);

    let source = reference.get("cases").as_array()[0]
        .get("source_ids")
        .i32s();
    let wrong_k = Speculation::specdec(&drafter)
        .draft_length(4)
        .acceptance(specdec::Acceptance::TopK { beta: 5, tau: 3.0 });
    let err = session
        .translate_speculative(&source, &[], &options, &wrong_k)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.message().contains("trained for k = 12"), "{err}");
    assert_eq!(
        session.translate(&source, &[], &options).unwrap(),
        reference.get("cases").as_array()[0]
            .get("greedy_ids")
            .i32s()
    );
}
