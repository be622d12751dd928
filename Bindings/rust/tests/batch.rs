//! Batched decoding (ABI 4) on the shipped pair: `Session::translate_batch` and
//! `beam_search_batch` equal transformers' greedy and beam-5 translations recorded in
//! Tests/Fixtures/specdec-pair/reference.json; `generate_batch` on a decoder fixture
//! equals one-by-one generation; a bad input fails alone.

use specdec::{
    BatchOptions, BeamOptions, ErrorCode, GenerateOptions, Model, Session, SessionParams,
    Speculation,
};

mod common;
use common::json::Json;

fn cases() -> Vec<(Vec<i32>, Vec<i32>, Vec<i32>)> {
    let path = common::repo_root().join("Tests/Fixtures/specdec-pair/reference.json");
    let reference = Json::parse(&std::fs::read_to_string(path).unwrap());
    reference
        .get("cases")
        .as_array()
        .iter()
        .map(|c| {
            (
                c.get("source_ids").i32s(),
                c.get("greedy_ids").i32s(),
                c.get("beam5_ids").i32s(),
            )
        })
        .collect()
}

#[test]
fn translate_batch_equals_transformers() {
    let verifier = Model::load(common::repo_root().join("models/specdec-en-de-verifier")).unwrap();
    let mut session = Session::new(
        &verifier,
        &SessionParams::new()
            .kv_capacity(160)
            .n_threads(2)
            .max_sequences(6),
    )
    .unwrap();
    let cases = cases();
    let sources: Vec<&[i32]> = cases.iter().map(|c| c.0.as_slice()).collect();
    let options = GenerateOptions::default();
    let out = session
        .translate_batch(&sources, &options, &BatchOptions::default(), None)
        .unwrap();
    for (sequence, case) in out.iter().zip(&cases) {
        assert_eq!(sequence.output.as_ref().unwrap(), &case.1);
    }
    let ngram = session
        .translate_batch(
            &sources[..6],
            &options,
            &BatchOptions::default(),
            Some(&Speculation::ngram()),
        )
        .unwrap();
    for (sequence, case) in ngram.iter().zip(&cases) {
        assert_eq!(sequence.output.as_ref().unwrap(), &case.1);
    }
    let beams = session
        .beam_search_batch(&sources[..4], &BeamOptions::new().beams(5))
        .unwrap();
    for (hypotheses, case) in beams.iter().zip(&cases) {
        assert_eq!(hypotheses.as_ref().unwrap()[0].tokens, case.2);
    }

    // A bad source fails alone; a whole-call failure is Err.
    let bad: Vec<&[i32]> = vec![sources[0], &[], sources[1]];
    let out = session
        .translate_batch(&bad, &options, &BatchOptions::default(), None)
        .unwrap();
    assert_eq!(out[0].output.as_ref().unwrap(), &cases[0].1);
    assert_eq!(out[2].output.as_ref().unwrap(), &cases[1].1);
    let err = out[1].output.as_ref().unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.to_string().contains("sequence 1"), "{err}");
    let too_many = session.translate_batch(
        &sources[..2],
        &options,
        &BatchOptions::default().batch_size(7),
        None,
    );
    assert_eq!(too_many.unwrap_err().code(), ErrorCode::Capacity);
    assert_eq!(
        session
            .translate_batch(&[], &options, &BatchOptions::default(), None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn generate_batch_equals_one_by_one() {
    let dir = common::repo_root().join("Tests/Fixtures/decoder/llama_f32");
    let model = Model::load(&dir).unwrap();
    let mut batch = Session::new(
        &model,
        &SessionParams::new().kv_capacity(64).max_sequences(3),
    )
    .unwrap();
    let mut alone = Session::new(&model, &SessionParams::new().kv_capacity(64)).unwrap();
    let prompts: Vec<Vec<i32>> = vec![vec![1, 5, 9], vec![2], vec![3, 4, 5, 6, 7, 8], vec![9, 9]];
    let inputs: Vec<&[i32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let mut options = GenerateOptions::default()
        .max_new_tokens(12)
        .stop_at_eos(false)
        .temperature(0.8);
    options.seed = 5;
    let out = batch
        .generate_batch(
            &inputs,
            &options,
            &BatchOptions::default().seeds(vec![5, 5, 5, 5]),
            None,
        )
        .unwrap();
    for (sequence, prompt) in out.iter().zip(&prompts) {
        assert_eq!(
            sequence.output.as_ref().unwrap(),
            &alone.generate(prompt, &options).unwrap()
        );
    }
}
