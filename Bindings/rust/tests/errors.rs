//! Bad input gives an Err with the right code and a message, never a crash; the
//! session stays usable.

use specdec::{
    ArenaBackend, ErrorCode, GenerateOptions, Model, ModelParams, Session, SessionParams,
};

mod common;
use common::Reference;

#[test]
fn missing_directory_names_the_path() {
    let dir = std::env::temp_dir().join("specdec-no-such-model-dir");
    let err = Model::load(&dir).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io);
    assert_eq!(err.status(), 2);
    assert!(err.message().contains(dir.to_str().unwrap()), "{err}");
    assert!(err.to_string().contains(&err.status_string()));
    let err = Model::load_with(
        &dir,
        ModelParams {
            use_mmap: false,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io);
}

#[test]
fn nul_byte_in_path_is_invalid() {
    let err = Model::load("bad\0path").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

fn setup() -> (Model, Vec<i32>, Vec<i32>) {
    let reference = Reference::load("llama_f32");
    (
        Model::load(common::fixture("llama_f32")).unwrap(),
        reference.ids("prompt_ids"),
        reference.ids("greedy_ids"),
    )
}

#[test]
fn token_out_of_range() {
    let (model, prompt, greedy) = setup();
    let vocab = model.vocab_size() as i32;
    let mut session = model.session().unwrap();
    for bad in [vocab, -1, i32::MAX] {
        let err = session
            .generate(&[1, bad], &GenerateOptions::greedy(4))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::TokenOutOfRange, "{bad}");
        assert!(!err.message().is_empty());
    }
    let err = session.eval(&[0, vocab], None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TokenOutOfRange);
    assert_eq!(session.len(), 0);
    assert_eq!(
        session
            .generate(&prompt, &GenerateOptions::greedy(24))
            .unwrap(),
        greedy
    );
}

#[test]
fn prompt_longer_than_capacity() {
    let (model, prompt, greedy) = setup();
    let mut session = Session::new(&model, &SessionParams::new().kv_capacity(4)).unwrap();
    assert_eq!(session.capacity(), 4);
    let err = session
        .generate(&prompt, &GenerateOptions::greedy(4))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Capacity);
    assert!(!err.message().is_empty());
    assert_eq!(session.len(), 0);
    assert_eq!(
        session.eval(&prompt, None).unwrap_err().code(),
        ErrorCode::Capacity
    );
    let ids = session
        .generate(&prompt[..2], &GenerateOptions::greedy(1))
        .unwrap();
    assert_eq!(ids.len(), 1);
    drop(session);

    let err = Session::new(
        &model,
        &SessionParams::new().kv_capacity(model.context_length() as i32 + 1),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Capacity);
    let _ = greedy;
}

#[test]
fn eval_over_max_batch_and_bad_positions() {
    let (model, prompt, _) = setup();
    let mut session = Session::new(&model, &SessionParams::new().max_batch(4)).unwrap();
    assert_eq!(
        session.eval(&prompt[..5], None).unwrap_err().code(),
        ErrorCode::Capacity
    );
    assert_eq!(
        session
            .eval(&prompt[..4], Some(&[0, 1]))
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    let mut small = vec![0f32; 3];
    assert_eq!(
        session
            .eval_into(&prompt[..2], None, &mut small)
            .unwrap_err()
            .code(),
        ErrorCode::BufferTooSmall
    );
    assert_eq!(session.len(), 0);
    assert_eq!(session.eval(&prompt[..4], None).unwrap().len(), 4);
}

#[test]
fn bad_parameters() {
    let (model, prompt, greedy) = setup();
    let mut session = model.session().unwrap();
    let cases = [
        ("empty prompt", Vec::new(), GenerateOptions::greedy(4)),
        (
            "negative max_new_tokens",
            prompt.clone(),
            GenerateOptions::greedy(-1),
        ),
        (
            "negative temperature",
            prompt.clone(),
            GenerateOptions::greedy(4).temperature(-1.0),
        ),
        (
            "top_p 0",
            prompt.clone(),
            GenerateOptions::greedy(4).top_p(0.0),
        ),
        (
            "top_p above 1",
            prompt.clone(),
            GenerateOptions::greedy(4).top_p(1.5),
        ),
        (
            "min_p above 1",
            prompt.clone(),
            GenerateOptions::greedy(4).min_p(2.0),
        ),
        (
            "repetition_penalty 0",
            prompt.clone(),
            GenerateOptions::greedy(4).repetition_penalty(0.0),
        ),
    ];
    for (what, p, opts) in cases {
        let err = session.generate(&p, &opts).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{what}: {err}");
    }
    let err = Session::new(&model, &SessionParams::new().n_threads(-1)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert_eq!(
        session
            .generate(&prompt, &GenerateOptions::greedy(24))
            .unwrap(),
        greedy
    );
}

#[test]
fn truncate_out_of_range() {
    let (model, prompt, _) = setup();
    let mut session = model.session().unwrap();
    session.prefill(&prompt).unwrap();
    let err = session.truncate(prompt.len() + 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(!session.error_message().is_empty());
    assert_eq!(session.len(), prompt.len());
    assert_eq!(
        session.truncate(usize::MAX).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn arena_backend_is_reported() {
    let (model, _, _) = setup();
    // A Rust test binary does not link jemalloc: AUTO falls back to mmap.
    let session = Session::new(
        &model,
        &SessionParams::new().arena_backend(ArenaBackend::Mmap),
    )
    .unwrap();
    assert_eq!(session.arena_backend(), "mmap");
    let auto = model.session().unwrap();
    assert!(["mmap", "jemalloc"].contains(&auto.arena_backend().as_str()));
}
