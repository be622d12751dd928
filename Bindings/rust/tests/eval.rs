//! Teacher-forced eval against transformers' logits; truncate and re-eval.

use specdec::{GenerateOptions, Model};

mod common;
use common::{centered, log_softmax, max_abs_diff, Reference};

#[test]
fn eval_logits_match_reference() {
    for name in ["llama_f32", "gpt2_f32"] {
        let reference = Reference::load(name);
        let score_ids = reference.ids("score_ids");
        let expected = reference.get("logits");
        let expected = expected.as_array();
        let model = Model::load(common::fixture(name)).unwrap();
        let mut session = model.session().unwrap();
        let logits = session.eval(&score_ids, None).unwrap();
        assert_eq!(logits.len(), score_ids.len());
        assert_eq!(logits.vocab_size(), model.vocab_size());
        assert_eq!(session.len(), score_ids.len());
        assert_eq!(session.tokens().unwrap(), score_ids);
        let skip = score_ids.len() - expected.len();
        for (i, row) in expected.iter().enumerate() {
            let want = row.to_f32s();
            let got = logits.row(skip + i);
            let d = max_abs_diff(&centered(got), &centered(&want));
            assert!(d < 1e-3, "{name} row {i}: max |diff| {d}");
            let d = max_abs_diff(&log_softmax(got), &log_softmax(&want));
            assert!(d < 1e-3, "{name} row {i}: log-softmax max |diff| {d}");
        }
    }
}

#[test]
fn truncate_and_re_eval_gives_identical_logits() {
    let reference = Reference::load("llama_f32");
    let ids = reference.ids("score_ids");
    let model = Model::load(common::fixture("llama_f32")).unwrap();
    let mut session = model.session().unwrap();
    let first = session.eval(&ids, None).unwrap();
    let keep = ids.len() / 2;
    session.truncate(keep).unwrap();
    assert_eq!(session.len(), keep);
    assert_eq!(session.tokens().unwrap(), &ids[..keep]);
    let again = session.eval(&ids[keep..], None).unwrap();
    for i in 0..again.len() {
        assert_eq!(again.row(i), first.row(keep + i), "row {}", keep + i);
    }
    // Explicit positions equal the default ones.
    session.reset().unwrap();
    assert!(session.is_empty());
    let positions: Vec<i32> = (0..ids.len() as i32).collect();
    let explicit = session.eval(&ids, Some(&positions)).unwrap();
    assert_eq!(explicit, first);
}

#[test]
fn prefill_then_generate_continues_greedy() {
    let reference = Reference::load("llama_f32");
    let prompt = reference.ids("prompt_ids");
    let model = Model::load(common::fixture("llama_f32")).unwrap();
    let mut session = model.session().unwrap();
    session.prefill(&prompt).unwrap();
    assert_eq!(session.len(), prompt.len());
    let ids = session
        .generate(&prompt, &GenerateOptions::greedy(24))
        .unwrap();
    assert_eq!(ids, reference.ids("greedy_ids"));
}
