//! Versions, statuses and the exact layout of every struct of specdec.h and
//! specdec_plugin.h.

use std::mem::{align_of, offset_of, size_of};
use std::process::Command;

use specdec::ffi::*;

mod common;

#[test]
fn runtime_versions_match_the_header() {
    assert_eq!(specdec::version_number(), SPECDEC_VERSION_NUMBER);
    assert_eq!(specdec::version_number(), 400);
    assert_eq!(specdec::VERSION_STRING, "0.4.0");
    assert_eq!(specdec::abi_version(), 4);
    assert_eq!(specdec::ABI_VERSION, 4);
    assert_eq!(SPECDEC_PLUGIN_ABI_VERSION, 1);
    assert_eq!(SPECDEC_PLUGIN_ENTRY_SYMBOL, "specdec_plugin_entry");
}

#[test]
fn runtime_version_string_matches_the_header() {
    assert_eq!(specdec::version_string(), SPECDEC_VERSION_STRING);
}

#[test]
fn status_strings_are_distinct_and_unknown_is_reported() {
    let mut seen = std::collections::HashSet::new();
    for code in 0..=12 {
        let text = specdec::status_string(code);
        assert!(
            !text.is_empty() && text != "unknown status",
            "status {code}"
        );
        seen.insert(text);
    }
    assert_eq!(seen.len(), 13);
    assert_eq!(specdec::status_string(4242), "unknown status");
}

#[test]
fn error_codes_round_trip() {
    use specdec::ErrorCode;
    assert_eq!(ErrorCode::from_status(0), None);
    for status in 1..=12 {
        let code = ErrorCode::from_status(status).unwrap();
        assert!(!matches!(code, ErrorCode::Unknown(_)));
        assert_eq!(code.status(), status);
    }
    assert_eq!(
        ErrorCode::from_status(SPECDEC_ERR_INVALID_UTF8),
        Some(ErrorCode::InvalidUtf8)
    );
    assert_eq!(ErrorCode::InvalidUtf8.status(), 13);
    assert_eq!(ErrorCode::from_status(99), Some(ErrorCode::Unknown(99)));
    assert_eq!(ErrorCode::Callback.status(), SPECDEC_ERR_CALLBACK);
}

/// Hand-computed x86-64 (LP64) layouts of the header's structs.
#[test]
fn struct_layouts_match_hand_computed_c_layouts() {
    assert_eq!(
        (
            size_of::<specdec_model_params_t>(),
            align_of::<specdec_model_params_t>()
        ),
        (16, 4)
    );
    assert_eq!(offset_of!(specdec_model_params_t, use_mmap), 4);
    // ABI 3: appended.
    assert_eq!(offset_of!(specdec_model_params_t, weight_precision), 8);
    assert_eq!(offset_of!(specdec_model_params_t, kernel_path), 12);

    assert_eq!(
        (
            size_of::<specdec_model_info_t>(),
            align_of::<specdec_model_info_t>()
        ),
        (88, 8)
    );
    assert_eq!(offset_of!(specdec_model_info_t, architecture), 4);
    // ABI 3: appended (72 bytes in ABI 2).
    assert_eq!(offset_of!(specdec_model_info_t, weight_precision), 72);
    assert_eq!(offset_of!(specdec_model_info_t, kernel_path), 76);
    assert_eq!(offset_of!(specdec_model_info_t, weight_bytes), 80);
    assert_eq!(offset_of!(specdec_model_info_t, pad_token_id), 40);
    assert_eq!(offset_of!(specdec_model_info_t, num_parameters), 48);
    // ABI 2: appended (56 bytes in ABI 1).
    assert_eq!(offset_of!(specdec_model_info_t, is_encoder_decoder), 56);
    assert_eq!(offset_of!(specdec_model_info_t, source_vocab_size), 60);
    assert_eq!(offset_of!(specdec_model_info_t, decoder_start_token_id), 64);
    assert_eq!(offset_of!(specdec_model_info_t, max_source_length), 68);

    assert_eq!(
        (
            size_of::<specdec_session_params_t>(),
            align_of::<specdec_session_params_t>()
        ),
        (24, 4)
    );
    assert_eq!(offset_of!(specdec_session_params_t, max_batch), 16);
    assert_eq!(offset_of!(specdec_session_params_t, max_sequences), 20);
    assert_eq!(
        (
            size_of::<specdec_batch_params_t>(),
            align_of::<specdec_batch_params_t>()
        ),
        (24, 8)
    );
    assert_eq!(offset_of!(specdec_batch_params_t, seeds), 16);

    assert_eq!(
        (
            size_of::<specdec_generate_params_t>(),
            align_of::<specdec_generate_params_t>()
        ),
        (72, 8)
    );
    assert_eq!(offset_of!(specdec_generate_params_t, max_new_tokens), 4);
    assert_eq!(offset_of!(specdec_generate_params_t, temperature), 8);
    assert_eq!(offset_of!(specdec_generate_params_t, top_k), 12);
    assert_eq!(offset_of!(specdec_generate_params_t, top_p), 16);
    assert_eq!(offset_of!(specdec_generate_params_t, min_p), 20);
    assert_eq!(
        offset_of!(specdec_generate_params_t, repetition_penalty),
        24
    );
    assert_eq!(offset_of!(specdec_generate_params_t, seed), 32);
    assert_eq!(offset_of!(specdec_generate_params_t, stop_tokens), 40);
    assert_eq!(offset_of!(specdec_generate_params_t, n_stop_tokens), 48);
    assert_eq!(offset_of!(specdec_generate_params_t, stop_at_eos), 52);
    assert_eq!(offset_of!(specdec_generate_params_t, callback), 56);
    assert_eq!(
        offset_of!(specdec_generate_params_t, callback_user_data),
        64
    );
    assert_eq!(size_of::<specdec_token_callback>(), size_of::<usize>());

    assert_eq!(
        (size_of::<specdec_stats_t>(), align_of::<specdec_stats_t>()),
        (104, 8)
    );
    assert_eq!(offset_of!(specdec_stats_t, stop_reason), 16);
    assert_eq!(offset_of!(specdec_stats_t, prefill_seconds), 24);
    assert_eq!(offset_of!(specdec_stats_t, decode_tokens_per_second), 48);
    // ABI 2: appended.
    assert_eq!(offset_of!(specdec_stats_t, target_calls), 56);
    assert_eq!(offset_of!(specdec_stats_t, drafted_tokens), 60);
    assert_eq!(offset_of!(specdec_stats_t, accepted_tokens), 64);
    assert_eq!(offset_of!(specdec_stats_t, reserved0), 68);
    assert_eq!(offset_of!(specdec_stats_t, tokens_per_target_call), 72);
    assert_eq!(offset_of!(specdec_stats_t, draft_seconds), 80);
    assert_eq!(offset_of!(specdec_stats_t, verify_seconds), 88);
    assert_eq!(offset_of!(specdec_stats_t, sample_seconds), 96);
}

#[test]
fn abi2_struct_layouts_match_hand_computed_c_layouts() {
    assert_eq!(
        (
            size_of::<specdec_speculative_params_t>(),
            align_of::<specdec_speculative_params_t>()
        ),
        (56, 8)
    );
    assert_eq!(offset_of!(specdec_speculative_params_t, drafter), 4);
    assert_eq!(offset_of!(specdec_speculative_params_t, acceptance), 8);
    assert_eq!(offset_of!(specdec_speculative_params_t, draft_length), 12);
    assert_eq!(offset_of!(specdec_speculative_params_t, adaptive), 16);
    assert_eq!(offset_of!(specdec_speculative_params_t, top_beta), 20);
    assert_eq!(offset_of!(specdec_speculative_params_t, tolerance_tau), 24);
    assert_eq!(offset_of!(specdec_speculative_params_t, ngram_min), 28);
    assert_eq!(offset_of!(specdec_speculative_params_t, ngram_max), 32);
    assert_eq!(offset_of!(specdec_speculative_params_t, draft_model), 40);
    assert_eq!(offset_of!(specdec_speculative_params_t, custom_drafter), 48);

    assert_eq!(
        (
            size_of::<specdec_draft_request_t>(),
            align_of::<specdec_draft_request_t>()
        ),
        (48, 8)
    );
    assert_eq!(offset_of!(specdec_draft_request_t, tokens), 8);
    assert_eq!(offset_of!(specdec_draft_request_t, n_tokens), 16);
    assert_eq!(offset_of!(specdec_draft_request_t, n_prompt), 20);
    assert_eq!(offset_of!(specdec_draft_request_t, source), 24);
    assert_eq!(offset_of!(specdec_draft_request_t, n_source), 32);
    assert_eq!(offset_of!(specdec_draft_request_t, max_tokens), 36);
    assert_eq!(offset_of!(specdec_draft_request_t, vocab_size), 40);
    assert_eq!(offset_of!(specdec_draft_request_t, want_probabilities), 44);

    assert_eq!(
        (
            size_of::<specdec_draft_output_t>(),
            align_of::<specdec_draft_output_t>()
        ),
        (32, 8)
    );
    assert_eq!(offset_of!(specdec_draft_output_t, probabilities), 16);
    assert_eq!(offset_of!(specdec_draft_output_t, n_tokens), 24);
    assert_eq!(offset_of!(specdec_draft_output_t, has_probabilities), 28);

    assert_eq!(size_of::<specdec_drafter_vtable_t>(), 48);
    assert_eq!(offset_of!(specdec_drafter_vtable_t, propose), 8);
    assert_eq!(offset_of!(specdec_drafter_vtable_t, begin), 16);
    assert_eq!(offset_of!(specdec_drafter_vtable_t, accepted), 24);
    assert_eq!(offset_of!(specdec_drafter_vtable_t, create), 32);
    assert_eq!(offset_of!(specdec_drafter_vtable_t, destroy), 40);

    assert_eq!(size_of::<specdec_verifier_vtable_t>(), 40);
    assert_eq!(offset_of!(specdec_verifier_vtable_t, prefill), 8);
    assert_eq!(
        offset_of!(specdec_verifier_vtable_t, remaining_capacity),
        32
    );

    assert_eq!(size_of::<specdec_host_api_t>(), 24);
    assert_eq!(offset_of!(specdec_host_api_t, version_number), 16);

    assert_eq!(
        (
            size_of::<specdec_beam_params_t>(),
            align_of::<specdec_beam_params_t>()
        ),
        (24, 4)
    );
    assert_eq!(offset_of!(specdec_beam_params_t, beam_size), 4);
    assert_eq!(offset_of!(specdec_beam_params_t, max_new_tokens), 8);
    assert_eq!(offset_of!(specdec_beam_params_t, length_penalty), 12);
    assert_eq!(offset_of!(specdec_beam_params_t, early_stopping), 16);
    assert_eq!(offset_of!(specdec_beam_params_t, num_return), 20);

    assert_eq!(size_of::<specdec_text_params_t>(), 40);
    assert_eq!(offset_of!(specdec_text_params_t, tokenizer), 8);
    assert_eq!(offset_of!(specdec_text_params_t, on_text), 24);
    assert_eq!(size_of::<specdec_tokenizer_vtable_t>(), 32);
    assert_eq!(offset_of!(specdec_tokenizer_vtable_t, destroy), 24);
    assert_eq!(size_of::<specdec_plugin_entry_fn>(), size_of::<usize>());
}

/// When a C compiler is present, examples/c/struct_sizes.c prints the sizes the C
/// compiler computes; they must equal Rust's.
#[test]
fn struct_sizes_match_the_c_compiler() {
    let root = common::repo_root();
    let src = root.join("examples").join("c").join("struct_sizes.c");
    let exe = std::env::temp_dir().join(format!("specdec_struct_sizes_{}", std::process::id()));
    let built = Command::new("cc")
        .arg("-std=c99")
        .arg(format!("-I{}", root.join("include").display()))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .status();
    match built {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("skipping: cannot compile {} ({other:?})", src.display());
            return;
        }
    }
    let out = Command::new(&exe).output().expect("run struct_sizes");
    let _ = std::fs::remove_file(&exe);
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = [
        (
            "specdec_model_params_t",
            size_of::<specdec_model_params_t>(),
        ),
        ("specdec_model_info_t", size_of::<specdec_model_info_t>()),
        (
            "specdec_session_params_t",
            size_of::<specdec_session_params_t>(),
        ),
        (
            "specdec_generate_params_t",
            size_of::<specdec_generate_params_t>(),
        ),
        ("specdec_stats_t", size_of::<specdec_stats_t>()),
        (
            "specdec_speculative_params_t",
            size_of::<specdec_speculative_params_t>(),
        ),
        (
            "specdec_draft_request_t",
            size_of::<specdec_draft_request_t>(),
        ),
        (
            "specdec_draft_output_t",
            size_of::<specdec_draft_output_t>(),
        ),
        (
            "specdec_drafter_vtable_t",
            size_of::<specdec_drafter_vtable_t>(),
        ),
        (
            "specdec_verifier_vtable_t",
            size_of::<specdec_verifier_vtable_t>(),
        ),
        ("specdec_host_api_t", size_of::<specdec_host_api_t>()),
        ("specdec_text_params_t", size_of::<specdec_text_params_t>()),
        (
            "specdec_tokenizer_vtable_t",
            size_of::<specdec_tokenizer_vtable_t>(),
        ),
        ("specdec_beam_params_t", size_of::<specdec_beam_params_t>()),
        (
            "specdec_batch_params_t",
            size_of::<specdec_batch_params_t>(),
        ),
    ];
    for (name, size) in expected {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not printed:\n{text}"));
        let c_size: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(c_size, size, "{name}");
    }
}

#[test]
fn default_params_carry_their_size_and_documented_defaults() {
    unsafe {
        let m = specdec_model_default_params();
        assert_eq!(m.struct_size as usize, size_of::<specdec_model_params_t>());
        assert_eq!(m.use_mmap, 1);
        let s = specdec_session_default_params();
        assert_eq!(
            s.struct_size as usize,
            size_of::<specdec_session_params_t>()
        );
        assert_eq!(
            (
                s.kv_capacity,
                s.n_threads,
                s.arena_backend,
                s.max_batch,
                s.max_sequences
            ),
            (0, 0, SPECDEC_ARENA_AUTO, 64, 1)
        );
        let g = specdec_generate_default_params();
        assert_eq!(
            g.struct_size as usize,
            size_of::<specdec_generate_params_t>()
        );
        assert_eq!(g.max_new_tokens, 128);
        assert_eq!(
            (
                g.temperature,
                g.top_k,
                g.top_p,
                g.min_p,
                g.repetition_penalty
            ),
            (0.0, 0, 1.0, 0.0, 1.0)
        );
        assert_eq!((g.seed, g.n_stop_tokens, g.stop_at_eos), (0, 0, 1));
        assert!(g.stop_tokens.is_null() && g.callback.is_none());
    }
    let opts = specdec::GenerateOptions::default();
    assert_eq!(opts.max_new_tokens, 128);
    assert!(opts.stop_at_eos);
    unsafe {
        let sp = specdec_speculative_default_params();
        assert_eq!(
            sp.struct_size as usize,
            size_of::<specdec_speculative_params_t>()
        );
        assert_eq!(
            (sp.drafter, sp.acceptance, sp.draft_length, sp.adaptive),
            (SPECDEC_DRAFTER_NGRAM, SPECDEC_ACCEPT_GREEDY, 5, 0)
        );
        assert_eq!(
            (sp.top_beta, sp.tolerance_tau, sp.ngram_min, sp.ngram_max),
            (5, 3.0, 1, 3)
        );
        assert!(sp.draft_model.is_null() && sp.custom_drafter.is_null());
    }
    unsafe {
        let b = specdec_beam_default_params();
        assert_eq!(b.struct_size as usize, size_of::<specdec_beam_params_t>());
        assert_eq!(
            (
                b.beam_size,
                b.max_new_tokens,
                b.length_penalty,
                b.early_stopping,
                b.num_return
            ),
            (4, 128, 1.0, SPECDEC_EARLY_STOP_HEURISTIC, 1)
        );
        let t = specdec_text_default_params();
        assert_eq!(t.struct_size as usize, size_of::<specdec_text_params_t>());
        assert_eq!((t.add_special_tokens, t.skip_special_tokens), (1, 1));
        assert!(t.tokenizer.is_null() && t.on_text.is_none() && t.user_data.is_null());
    }
    let beam = specdec::BeamOptions::default();
    assert_eq!(
        (beam.beam_size, beam.max_new_tokens, beam.num_return),
        (4, 128, 1)
    );
    assert_eq!(beam.early_stopping, specdec::EarlyStopping::Heuristic);
    let text = specdec::TextOptions::default();
    assert!(text.add_special_tokens && text.skip_special_tokens && text.tokenizer.is_none());
    let spec = specdec::Speculation::default();
    assert!(matches!(spec.drafter, specdec::DrafterKind::Ngram));
    assert_eq!(spec.acceptance, specdec::Acceptance::Greedy);
    assert_eq!((spec.draft_length, spec.adaptive), (5, false));
    assert_eq!((spec.ngram_min, spec.ngram_max), (1, 3));
}
