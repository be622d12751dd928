//! Greedy generation against transformers' reference ids; streaming; stopping;
//! panics in the streaming closure.

use specdec::{
    Architecture, Control, ErrorCode, GenerateOptions, Model, Session, SessionParams, StopReason,
};

mod common;
use common::Reference;

const N: i32 = 24;

fn greedy_case(name: &str, arch: Architecture) {
    let reference = Reference::load(name);
    let prompt = reference.ids("prompt_ids");
    let greedy = reference.ids("greedy_ids");
    assert_eq!((prompt.len(), greedy.len()), (8, 24));

    let model = Model::load(common::fixture(name)).expect("load");
    let info = model.info();
    assert_eq!(info.architecture, arch);
    assert_eq!(info.vocab_size as usize, model.vocab_size());
    assert!(info.num_layers > 0 && info.num_parameters > 0);
    assert_eq!(
        model.eos_token(),
        model.eos_tokens().unwrap().first().copied()
    );

    let mut session = Session::new(&model, &SessionParams::new().n_threads(1)).expect("session");
    let ids = session
        .generate(&prompt, &GenerateOptions::greedy(N))
        .expect("generate");
    assert_eq!(ids, greedy, "{name}");
    let stats = session.stats().unwrap();
    assert_eq!(stats.prompt_tokens, 8);
    assert_eq!(stats.generated_tokens, N);
    assert_eq!(stats.stop_reason, StopReason::MaxTokens);
    let cached = session.tokens().unwrap();
    assert_eq!(&cached[..8], &prompt[..]);
    assert_eq!(&cached[8..], &greedy[..cached.len() - 8]);
}

#[test]
fn greedy_llama_matches_reference() {
    greedy_case("llama_f32", Architecture::Llama);
}

#[test]
fn greedy_gpt2_matches_reference() {
    greedy_case("gpt2_f32", Architecture::Gpt2);
}

struct Fixture {
    model: Model,
    prompt: Vec<i32>,
    greedy: Vec<i32>,
}

fn llama() -> Fixture {
    let reference = Reference::load("llama_f32");
    Fixture {
        model: Model::load(common::fixture("llama_f32")).unwrap(),
        prompt: reference.ids("prompt_ids"),
        greedy: reference.ids("greedy_ids"),
    }
}

#[test]
fn streaming_callback_sees_every_token_in_order() {
    let f = llama();
    let mut session = f.model.session().unwrap();
    let mut seen = Vec::new();
    let ids = session
        .generate_streaming(&f.prompt, &GenerateOptions::greedy(N), |token, index| {
            seen.push((token, index));
            Control::Continue
        })
        .unwrap();
    assert_eq!(ids, f.greedy);
    let expected: Vec<(i32, i32)> = f
        .greedy
        .iter()
        .enumerate()
        .map(|(i, &t)| (t, i as i32))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn callback_stop_keeps_the_token() {
    let f = llama();
    let mut session = f.model.session().unwrap();
    let ids = session
        .generate_streaming(&f.prompt, &GenerateOptions::greedy(N), |_, index| {
            Control::from(index == 5)
        })
        .unwrap();
    assert_eq!(ids, &f.greedy[..6]);
    let stats = session.stats().unwrap();
    assert_eq!(stats.stop_reason, StopReason::Callback);
    assert_eq!(stats.generated_tokens, 6);
}

#[test]
fn panic_in_callback_is_an_error_and_the_session_survives() {
    let f = llama();
    let mut session = f.model.session().unwrap();
    let err = session
        .generate_streaming(&f.prompt, &GenerateOptions::greedy(N), |_, index| {
            if index == 3 {
                panic!("boom at {index}");
            }
            Control::Continue
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert_eq!(err.status(), specdec::ffi::SPECDEC_ERR_CALLBACK);
    assert!(err.message().contains("boom at 3"), "{err}");
    assert_eq!(err.partial_tokens(), &f.greedy[..4]);
    assert_eq!(session.stats().unwrap().stop_reason, StopReason::Error);

    // Still usable, and still correct.
    assert_eq!(
        session
            .generate(&f.prompt, &GenerateOptions::greedy(N))
            .unwrap(),
        f.greedy
    );
    let mut n = 0;
    let ids = session
        .generate_streaming(&f.prompt, &GenerateOptions::greedy(N), |_, _| {
            n += 1;
            Control::Continue
        })
        .unwrap();
    assert_eq!(ids, f.greedy);
    assert_eq!(n, N);
}

#[test]
fn abort_from_callback_is_an_error() {
    let f = llama();
    let mut session = f.model.session().unwrap();
    let err = session
        .generate_streaming(&f.prompt, &GenerateOptions::greedy(N), |_, index| {
            if index == 1 {
                Control::Abort
            } else {
                Control::Continue
            }
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("Abort"), "{err}");
    assert_eq!(err.partial_tokens(), &f.greedy[..2]);
    assert_eq!(
        session
            .generate(&f.prompt, &GenerateOptions::greedy(4))
            .unwrap(),
        &f.greedy[..4]
    );
}

#[test]
fn stop_tokens_and_prefix_reuse() {
    let f = llama();
    let mut session = f.model.session().unwrap();
    let target = f.greedy[6];
    let first = f.greedy.iter().position(|&t| t == target).unwrap();
    let ids = session
        .generate(&f.prompt, &GenerateOptions::greedy(N).stop_tokens([target]))
        .unwrap();
    assert_eq!(ids, &f.greedy[..=first]);
    assert_eq!(session.stats().unwrap().stop_reason, StopReason::Token);

    let ids = session
        .generate(&f.prompt, &GenerateOptions::greedy(N))
        .unwrap();
    assert_eq!(ids, f.greedy);
    let reused = session.stats().unwrap().reused_tokens;
    assert!(reused > 0 && reused <= 8, "reused {reused}");
}

#[test]
fn seeded_sampling_is_reproducible() {
    let f = llama();
    let mut session = f.model.session().unwrap();
    let opts = GenerateOptions::greedy(N)
        .temperature(1.0)
        .top_k(40)
        .top_p(0.95)
        .seed(99);
    let a = session.generate(&f.prompt, &opts).unwrap();
    let b = session.generate(&f.prompt, &opts).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), N as usize);
}

#[test]
fn sessions_on_several_threads_share_one_model() {
    let f = llama();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut s = Session::new(&f.model, &SessionParams::new().n_threads(1)).unwrap();
                    s.generate(&f.prompt, &GenerateOptions::greedy(N)).unwrap()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), f.greedy);
        }
    });
}
