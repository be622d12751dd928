//! Speculative decoding: built-in drafters, Rust drafters (DraftSource), the C plugin
//! of examples/plugins. Greedy acceptance must reproduce plain greedy output exactly.
//! The fixture models are tiny random models; a repetitive prompt (the reference
//! prompt twice) gives prompt lookup something to find.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use specdec::{
    Acceptance, Control, DraftSource, Drafter, DrafterKind, ErrorCode, GenerateOptions, Model,
    Session, SessionParams, Speculation, Stats, StopReason,
};

mod common;
use common::Reference;

const N: i32 = 40;

struct Case {
    model: Model,
    prompt: Vec<i32>,
    plain: Vec<i32>,
    plain_stats: Stats,
}

fn case(name: &str) -> Case {
    let reference = Reference::load(name);
    let once = reference.ids("prompt_ids");
    let prompt: Vec<i32> = once.iter().chain(once.iter()).copied().collect();
    let model = Model::load(common::fixture(name)).expect("load");
    let (plain, plain_stats) = {
        let mut session = session(&model);
        let plain = session
            .generate(&prompt, &GenerateOptions::greedy(N))
            .unwrap();
        (plain, session.stats().unwrap())
    };
    Case {
        model,
        prompt,
        plain,
        plain_stats,
    }
}

fn session(model: &Model) -> Session<'_> {
    Session::new(model, &SessionParams::new().n_threads(1)).unwrap()
}

fn greedy() -> GenerateOptions {
    GenerateOptions::greedy(N)
}

fn check_stats(stats: &Stats, draft_length: usize, depth: &[f64]) {
    assert_eq!(stats.generated_tokens, N);
    assert_eq!(stats.stop_reason, StopReason::MaxTokens);
    assert!(stats.target_calls >= 1 && stats.target_calls <= stats.generated_tokens);
    assert!(stats.drafted_tokens > 0, "{stats:?}");
    assert!(stats.accepted_tokens >= 0 && stats.accepted_tokens <= stats.drafted_tokens);
    // Each token after the first comes from a target call or an accepted draft token.
    assert_eq!(
        stats.target_calls + stats.accepted_tokens,
        stats.generated_tokens - 1
    );
    let per_call = (stats.generated_tokens - 1) as f64 / stats.target_calls as f64;
    assert!((stats.tokens_per_target_call - per_call).abs() < 1e-9);
    assert!(depth.len() <= draft_length);
    assert!(depth.iter().all(|r| (0.0..=1.0).contains(r)), "{depth:?}");
}

/// Prompt lookup in Rust: what followed the most recent earlier occurrence of the
/// last n tokens (n = max_ngram .. 1).
struct PromptLookup {
    max_ngram: usize,
    skip: usize,
    proposed: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
    begun: Arc<AtomicUsize>,
}

impl PromptLookup {
    fn new() -> Self {
        PromptLookup {
            max_ngram: 3,
            skip: 0,
            proposed: Arc::default(),
            accepted: Arc::default(),
            begun: Arc::default(),
        }
    }

    fn find(&self, tokens: &[i32], max_tokens: usize, skip: usize) -> Vec<i32> {
        let mut found = 0;
        for n in (1..=self.max_ngram).rev() {
            if tokens.len() <= n {
                continue;
            }
            let tail = &tokens[tokens.len() - n..];
            for start in (0..tokens.len() - n).rev() {
                if &tokens[start..start + n] == tail {
                    if found == skip {
                        let end = (start + n + max_tokens).min(tokens.len());
                        return tokens[start + n..end].to_vec();
                    }
                    found += 1;
                }
            }
        }
        Vec::new()
    }
}

impl DraftSource for PromptLookup {
    fn propose(
        &mut self,
        tokens: &[i32],
        n_prompt: usize,
        max_tokens: usize,
    ) -> Result<Vec<i32>, String> {
        assert!(n_prompt > 0 && n_prompt <= tokens.len());
        let draft = self.find(tokens, max_tokens, self.skip);
        self.proposed.fetch_add(draft.len(), Ordering::SeqCst);
        Ok(draft)
    }

    fn begin(&mut self, _tokens: &[i32], _n_prompt: usize) -> Result<(), String> {
        self.begun.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn accepted(&mut self, path: &[i32], _next_token: i32) {
        self.accepted.fetch_add(path.len(), Ordering::SeqCst);
    }
}

/// Two lookup continuations as the two branches of a tree.
struct TreeLookup {
    inner: PromptLookup,
    trees: Arc<AtomicUsize>,
}

impl DraftSource for TreeLookup {
    fn propose(&mut self, _: &[i32], _: usize, _: usize) -> Result<Vec<i32>, String> {
        unreachable!("propose_tree is overridden")
    }

    fn propose_tree(
        &mut self,
        tokens: &[i32],
        _n_prompt: usize,
        max_tokens: usize,
    ) -> Result<(Vec<i32>, Vec<i32>), String> {
        let mut first = self.inner.find(tokens, max_tokens, 0);
        if first.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut second = self.inner.find(tokens, max_tokens, 1);
        if !second.is_empty() {
            first.truncate(max_tokens - (max_tokens / 2).max(1).min(second.len()));
            second.truncate(max_tokens - first.len());
        }
        let mut parents: Vec<i32> = (0..first.len() as i32).map(|i| i - 1).collect();
        let mut all = first;
        if !second.is_empty() {
            self.trees.fetch_add(1, Ordering::SeqCst);
            let base = all.len() as i32;
            parents.push(-1);
            parents.extend((0..second.len() as i32 - 1).map(|i| base + i));
            all.extend(second);
        }
        Ok((all, parents))
    }
}

// ---------------------------------------------------------------------------
// Rust drafters
// ---------------------------------------------------------------------------

fn rust_drafter_case(name: &str) {
    let c = case(name);
    let mut s = session(&c.model);
    let lookup = PromptLookup::new();
    let (proposed, accepted, begun) = (
        lookup.proposed.clone(),
        lookup.accepted.clone(),
        lookup.begun.clone(),
    );
    let drafter = Drafter::new(lookup).unwrap();
    assert!(drafter.plugin_path().is_none());
    let ids = s
        .generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&drafter))
        .unwrap();
    assert_eq!(ids, c.plain, "{name}");
    let stats = s.stats().unwrap();
    check_stats(&stats, 5, &s.acceptance_by_depth().unwrap());
    assert_eq!(
        stats.drafted_tokens as usize,
        proposed.load(Ordering::SeqCst)
    );
    assert_eq!(
        stats.accepted_tokens as usize,
        accepted.load(Ordering::SeqCst)
    );
    assert!(stats.accepted_tokens > 0, "{name}: {stats:?}");
    assert!(stats.target_calls < c.plain_stats.target_calls);
    assert_eq!(begun.load(Ordering::SeqCst), 1);

    // The same algorithm as the built-in n-gram drafter.
    s.generate_speculative(&c.prompt, &greedy(), &Speculation::ngram())
        .unwrap();
    assert_eq!(s.stats().unwrap().accepted_tokens, stats.accepted_tokens);

    // Reusable, with other options; greedy output whatever the options.
    for spec in [
        Speculation::custom(&drafter).draft_length(2),
        Speculation::custom(&drafter).adaptive(true),
        Speculation::custom(&drafter).acceptance(Acceptance::TopK { beta: 1, tau: 3.0 }),
    ] {
        assert_eq!(
            s.generate_speculative(&c.prompt, &greedy(), &spec).unwrap(),
            c.plain
        );
    }
    assert_eq!(begun.load(Ordering::SeqCst), 4);
}

#[test]
fn rust_prompt_lookup_reproduces_greedy_llama() {
    rust_drafter_case("llama_f32");
}

#[test]
fn rust_prompt_lookup_reproduces_greedy_gpt2() {
    rust_drafter_case("gpt2_f32");
}

#[test]
fn rust_tree_drafter_reproduces_greedy() {
    let c = case("llama_f32");
    let mut s = session(&c.model);
    let trees = Arc::new(AtomicUsize::new(0));
    let drafter = Drafter::new(TreeLookup {
        inner: PromptLookup::new(),
        trees: trees.clone(),
    })
    .unwrap();
    let ids = s
        .generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&drafter))
        .unwrap();
    assert_eq!(ids, c.plain);
    assert!(
        trees.load(Ordering::SeqCst) > 0,
        "some proposals were trees"
    );
    check_stats(&s.stats().unwrap(), 5, &s.acceptance_by_depth().unwrap());
}

struct Failing(&'static str);

impl DraftSource for Failing {
    fn propose(
        &mut self,
        tokens: &[i32],
        n_prompt: usize,
        max_tokens: usize,
    ) -> Result<Vec<i32>, String> {
        if tokens.len() < n_prompt + 3 {
            return Ok(Vec::new()); // let a few tokens through first
        }
        match self.0 {
            "panic" => panic!("drafter exploded at {}", tokens.len()),
            "err" => Err("no draft for you".to_string()),
            "vocab" => Ok(vec![256]),
            "negative" => Ok(vec![-1]),
            "too_many" => Ok(vec![1; max_tokens + 1]),
            other => unreachable!("{other}"),
        }
    }
}

#[test]
fn failing_rust_drafters_are_callback_errors_and_the_session_survives() {
    let c = case("llama_f32");
    let mut s = session(&c.model);
    for (mode, needle) in [
        ("panic", "drafter panicked: drafter exploded"),
        ("err", "drafter failed: no draft for you"),
        ("vocab", "256"),
        ("negative", "-1"),
        ("too_many", "more than max_tokens"),
    ] {
        let drafter = Drafter::new(Failing(mode)).unwrap();
        let err = s
            .generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&drafter))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Callback, "{mode}: {err}");
        assert_eq!(err.status(), specdec::ffi::SPECDEC_ERR_CALLBACK);
        assert!(err.message().contains(needle), "{mode}: {err}");
        let partial = err.partial_tokens();
        assert!(!partial.is_empty() && partial.len() < N as usize, "{mode}");
        assert_eq!(partial, &c.plain[..partial.len()], "{mode}");
        // Still usable, plainly and speculatively.
        assert_eq!(s.generate(&c.prompt, &greedy()).unwrap(), c.plain, "{mode}");
        let good = Drafter::new(PromptLookup::new()).unwrap();
        assert_eq!(
            s.generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&good))
                .unwrap(),
            c.plain,
            "{mode}"
        );
        // The failing drafter itself can be used again: it fails the same way.
        let again = s
            .generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&drafter))
            .unwrap_err();
        assert_eq!(again.code(), ErrorCode::Callback);
    }
}

#[test]
fn panic_in_accepted_is_a_callback_error() {
    struct BadAccepted(PromptLookup);
    impl DraftSource for BadAccepted {
        fn propose(&mut self, t: &[i32], n: usize, m: usize) -> Result<Vec<i32>, String> {
            self.0.propose(t, n, m)
        }
        fn accepted(&mut self, _: &[i32], _: i32) {
            panic!("accepted blew up");
        }
    }
    let c = case("llama_f32");
    let mut s = session(&c.model);
    let drafter = Drafter::new(BadAccepted(PromptLookup::new())).unwrap();
    let err = s
        .generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&drafter))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("accepted blew up"), "{err}");
    assert_eq!(s.generate(&c.prompt, &greedy()).unwrap(), c.plain);
}

#[test]
fn streaming_with_a_drafter() {
    let c = case("llama_f32");
    let mut s = session(&c.model);
    let drafter = Drafter::new(PromptLookup::new()).unwrap();
    let mut seen = Vec::new();
    let ids = s
        .generate_speculative_streaming(
            &c.prompt,
            &greedy(),
            &Speculation::custom(&drafter),
            |token, index| {
                seen.push((index, token));
                Control::Continue
            },
        )
        .unwrap();
    assert_eq!(ids, c.plain);
    let expected: Vec<(i32, i32)> = c
        .plain
        .iter()
        .enumerate()
        .map(|(i, &t)| (i as i32, t))
        .collect();
    assert_eq!(seen, expected);
    let ids = s
        .generate_speculative_streaming(&c.prompt, &greedy(), &Speculation::ngram(), |_, i| {
            Control::from(i == 9)
        })
        .unwrap();
    assert_eq!(ids, &c.plain[..10]);
    assert_eq!(s.stats().unwrap().stop_reason, StopReason::Callback);
    // A panic in the token callback is reported as before.
    let err = s
        .generate_speculative_streaming(
            &c.prompt,
            &greedy(),
            &Speculation::custom(&drafter),
            |_, i| {
                if i == 4 {
                    panic!("token callback boom");
                }
                Control::Continue
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    assert!(err.message().contains("token callback boom"), "{err}");
}

#[test]
fn drafters_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Drafter>();
    let c = case("llama_f32");
    // Send, not Sync: a drafter is moved to the thread that uses it.
    let drafter = Drafter::new(PromptLookup::new()).unwrap();
    let (ids, drafter) = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut s = session(&c.model);
                let ids = s
                    .generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&drafter))
                    .unwrap();
                (ids, drafter)
            })
            .join()
            .unwrap()
    });
    assert_eq!(ids, c.plain);
    let mut s = session(&c.model);
    assert_eq!(
        s.generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&drafter))
            .unwrap(),
        c.plain
    );
}

// ---------------------------------------------------------------------------
// Built-in drafters
// ---------------------------------------------------------------------------

fn builtin_case(name: &str) {
    let c = case(name);
    let mut s = session(&c.model);
    for (label, spec) in [
        ("ngram", Speculation::ngram()),
        ("suffix", Speculation::suffix()),
        ("ngram 2..4", Speculation::ngram().ngram_range(2, 4)),
    ] {
        let ids = s.generate_speculative(&c.prompt, &greedy(), &spec).unwrap();
        assert_eq!(ids, c.plain, "{name} {label}");
        let stats = s.stats().unwrap();
        let depth = s.acceptance_by_depth().unwrap();
        check_stats(&stats, 5, &depth);
        if label != "ngram 2..4" {
            // (the matches these tiny models repeat are short: 1-grams)
            assert!(stats.accepted_tokens > 0, "{name} {label}: {stats:?}");
            assert!(depth[0] > 0.0);
        }
    }
    // topk with beta 1 is greedy; draft length 0 and drafter None are plain decoding.
    let topk = Speculation::ngram().acceptance(Acceptance::TopK { beta: 1, tau: 3.0 });
    assert_eq!(
        s.generate_speculative(&c.prompt, &greedy(), &topk).unwrap(),
        c.plain
    );
    for spec in [
        Speculation::ngram().draft_length(0),
        Speculation::new(DrafterKind::None),
    ] {
        assert_eq!(
            s.generate_speculative(&c.prompt, &greedy(), &spec).unwrap(),
            c.plain
        );
        let stats = s.stats().unwrap();
        assert_eq!(stats.drafted_tokens, 0);
        assert_eq!(stats.target_calls, c.plain_stats.target_calls);
        assert!(s.acceptance_by_depth().unwrap().is_empty());
    }
    assert_eq!(c.plain_stats.target_calls, N - 1);
    assert_eq!(c.plain_stats.tokens_per_target_call, 1.0);
    assert_eq!(c.plain_stats.acceptance_rate(), 0.0);
}

#[test]
fn builtin_drafters_reproduce_greedy_llama() {
    builtin_case("llama_f32");
}

#[test]
fn builtin_drafters_reproduce_greedy_gpt2() {
    builtin_case("gpt2_f32");
}

#[test]
fn model_drafter_reproduces_greedy() {
    let c = case("llama_f32");
    let draft = Model::load(common::fixture("llama_f16")).unwrap();
    let mut s = session(&c.model);
    let ids = s
        .generate_speculative(&c.prompt, &greedy(), &Speculation::model(&draft))
        .unwrap();
    assert_eq!(ids, c.plain);
    check_stats(&s.stats().unwrap(), 5, &s.acceptance_by_depth().unwrap());

    // The target drafting for itself: everything drafted is accepted.
    let ids = s
        .generate_speculative(
            &c.prompt,
            &greedy(),
            &Speculation::model(&c.model).draft_length(4),
        )
        .unwrap();
    assert_eq!(ids, c.plain);
    let stats = s.stats().unwrap();
    check_stats(&stats, 4, &s.acceptance_by_depth().unwrap());
    assert_eq!(stats.accepted_tokens, stats.drafted_tokens);
    assert_eq!(stats.acceptance_rate(), 1.0);
    assert!(stats.target_calls <= N / 4);
}

#[test]
fn bad_speculation_options_are_invalid_arguments() {
    let c = case("llama_f32");
    let mut s = session(&c.model);
    let err = s
        .generate_speculative(&c.prompt, &greedy(), &Speculation::ngram().draft_length(-1))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(!err.message().is_empty());
    let sampled = GenerateOptions::greedy(N).temperature(0.8).seed(3);
    let spec = Speculation::ngram().acceptance(Acceptance::Sample);
    let a = s.generate_speculative(&c.prompt, &sampled, &spec).unwrap();
    let b = s.generate_speculative(&c.prompt, &sampled, &spec).unwrap();
    assert_eq!(a, b, "seeded speculative sampling is reproducible");
    assert_eq!(s.generate(&c.prompt, &greedy()).unwrap(), c.plain);
}

// ---------------------------------------------------------------------------
// The C plugin of examples/plugins
// ---------------------------------------------------------------------------

/// Builds examples/plugins (and a .so without the entry symbol) once; None when no C
/// compiler or make is available.
fn plugin_dir() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let have = |tool: &str| {
            Command::new(tool)
                .arg("--version")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        if !have("gcc") || !have("make") {
            eprintln!("skipping plugin tests: gcc or make is missing");
            return None;
        }
        let build = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugins");
        let out = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(common::repo_root().join("examples").join("plugins"))
            .arg(format!("BUILD={}", build.display()))
            .output()
            .expect("run make");
        assert!(
            out.status.success(),
            "make -C examples/plugins failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let src = build.join("no_entry.c");
        std::fs::write(
            &src,
            "int not_a_drafter(void);\nint not_a_drafter(void) { return 42; }\n",
        )
        .unwrap();
        let status = Command::new("gcc")
            .args(["-fPIC", "-shared"])
            .arg(&src)
            .arg("-o")
            .arg(build.join("no_entry.so"))
            .status()
            .unwrap();
        assert!(status.success());
        Some(build)
    })
    .as_ref()
}

#[test]
fn c_plugin_reproduces_greedy() {
    let Some(dir) = plugin_dir() else { return };
    let plugin = dir.join("lookup_drafter.so");
    for name in ["llama_f32", "gpt2_f32"] {
        let c = case(name);
        let mut s = session(&c.model);
        let drafter = Drafter::load_plugin(&plugin, Some("max_ngram=3")).unwrap();
        assert_eq!(drafter.plugin_path(), Some(plugin.as_path()));
        let spec = Speculation::custom(&drafter).acceptance(Acceptance::Greedy);
        let ids = s.generate_speculative(&c.prompt, &greedy(), &spec).unwrap();
        assert_eq!(ids, c.plain, "{name}");
        let stats = s.stats().unwrap();
        check_stats(&stats, 5, &s.acceptance_by_depth().unwrap());
        assert!(stats.accepted_tokens > 0, "{name}: {stats:?}");
        // Same algorithm as the Rust PromptLookup.
        let lookup = Drafter::new(PromptLookup::new()).unwrap();
        s.generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&lookup))
            .unwrap();
        let rust = s.stats().unwrap();
        assert_eq!(
            (rust.drafted_tokens, rust.accepted_tokens),
            (stats.drafted_tokens, stats.accepted_tokens)
        );
    }
    // No config is fine too.
    let c = case("llama_f32");
    let mut s = session(&c.model);
    let drafter = Drafter::load_plugin(&plugin, None).unwrap();
    assert_eq!(
        s.generate_speculative(&c.prompt, &greedy(), &Speculation::custom(&drafter))
            .unwrap(),
        c.plain
    );
}

#[test]
fn plugin_load_errors() {
    let Some(dir) = plugin_dir() else { return };
    let missing = dir.join("no-such-plugin.so");
    let err = Drafter::load_plugin(&missing, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io);
    assert!(err.message().contains(missing.to_str().unwrap()), "{err}");
    let err = Drafter::load_plugin(dir.join("no_entry.so"), None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Format);
    assert!(err.message().contains("specdec_plugin_entry"), "{err}");
    let err =
        Drafter::load_plugin(dir.join("lookup_drafter.so"), Some("max_ngram=zero")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Callback);
    let err = Drafter::load_plugin(dir.join("lookup_drafter.so"), Some("a\0b")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}
