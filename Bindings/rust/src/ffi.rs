//! Raw declarations mirroring `include/specdec.h` and `include/specdec_plugin.h` one
//! to one.
//!
//! Everything here is `unsafe` to use; the rest of the crate wraps it. Struct field
//! order and types follow the header exactly (checked by `tests/abi.rs`).

#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_void};

// ---------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------

pub const SPECDEC_VERSION_MAJOR: u32 = 0;
pub const SPECDEC_VERSION_MINOR: u32 = 3;
pub const SPECDEC_VERSION_PATCH: u32 = 0;
pub const SPECDEC_VERSION_NUMBER: u32 =
    SPECDEC_VERSION_MAJOR * 10000 + SPECDEC_VERSION_MINOR * 100 + SPECDEC_VERSION_PATCH;
pub const SPECDEC_VERSION_STRING: &str = "0.3.0";
pub const SPECDEC_ABI_VERSION: u32 = 3;

// ---------------------------------------------------------------------------
// Status codes (pinned forever)
// ---------------------------------------------------------------------------

pub type specdec_status = i32;

pub const SPECDEC_OK: specdec_status = 0;
pub const SPECDEC_ERR_INVALID_ARGUMENT: specdec_status = 1;
pub const SPECDEC_ERR_IO: specdec_status = 2;
pub const SPECDEC_ERR_FORMAT: specdec_status = 3;
pub const SPECDEC_ERR_UNSUPPORTED: specdec_status = 4;
pub const SPECDEC_ERR_SHAPE: specdec_status = 5;
pub const SPECDEC_ERR_TOKEN_OUT_OF_RANGE: specdec_status = 6;
pub const SPECDEC_ERR_BUFFER_TOO_SMALL: specdec_status = 7;
pub const SPECDEC_ERR_CAPACITY: specdec_status = 8;
pub const SPECDEC_ERR_OUT_OF_MEMORY: specdec_status = 9;
pub const SPECDEC_ERR_CANCELLED: specdec_status = 10;
pub const SPECDEC_ERR_CALLBACK: specdec_status = 11;
pub const SPECDEC_ERR_INTERNAL: specdec_status = 12;
/// ABI 2 (tokenizers): text input that is not valid UTF-8.
pub const SPECDEC_ERR_INVALID_UTF8: specdec_status = 13;

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

/// Opaque `struct specdec_model`.
#[repr(C)]
pub struct specdec_model {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}
pub type specdec_model_t = specdec_model;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct specdec_model_params_t {
    pub struct_size: u32,
    pub use_mmap: i32,
    // ABI 3
    pub weight_precision: i32,
    pub kernel_path: i32,
}

// ABI 3: weight precision and kernel path at load.
pub const SPECDEC_WEIGHTS_AUTO: i32 = 0;
pub const SPECDEC_WEIGHTS_FP32: i32 = 1;
pub const SPECDEC_WEIGHTS_BF16: i32 = 2;
pub const SPECDEC_WEIGHTS_INT8: i32 = 3;
pub const SPECDEC_KERNELS_AUTO: i32 = 0;
pub const SPECDEC_KERNELS_PORTABLE: i32 = 1;
pub const SPECDEC_KERNELS_AVX2: i32 = 2;
pub const SPECDEC_KERNELS_AVX512: i32 = 3;
pub const SPECDEC_KERNELS_AVX512_BF16: i32 = 4;
pub const SPECDEC_KERNELS_AMX: i32 = 5;

pub const SPECDEC_ARCH_UNKNOWN: i32 = 0;
pub const SPECDEC_ARCH_LLAMA: i32 = 1;
pub const SPECDEC_ARCH_GPT2: i32 = 2;
/// Marian / fairseq transformer (encoder-decoder, ABI 2).
pub const SPECDEC_ARCH_MARIAN: i32 = 3;
/// BART (encoder-decoder, ABI 2).
pub const SPECDEC_ARCH_BART: i32 = 4;
pub const SPECDEC_ARCH_SPEC_DRAFTER: i32 = 5;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct specdec_model_info_t {
    pub struct_size: u32,
    pub architecture: i32,
    pub vocab_size: i32,
    pub context_length: i32,
    pub hidden_size: i32,
    pub num_layers: i32,
    pub num_heads: i32,
    pub num_kv_heads: i32,
    pub bos_token_id: i32,
    pub eos_token_id: i32,
    pub pad_token_id: i32,
    pub num_parameters: i64,
    // ABI 2
    /// 1 for Marian/BART: generate with `specdec_generate_seq2seq`.
    pub is_encoder_decoder: i32,
    /// Encoder-decoder: ids the source may use; else vocab_size.
    pub source_vocab_size: i32,
    /// Encoder-decoder: the token decoding starts from; else -1.
    pub decoder_start_token_id: i32,
    /// Encoder-decoder: longest source; else 0.
    pub max_source_length: i32,
    // ABI 3
    pub weight_precision: i32,
    pub kernel_path: i32,
    pub weight_bytes: i64,
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

/// Opaque `struct specdec_session`.
#[repr(C)]
pub struct specdec_session {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}
pub type specdec_session_t = specdec_session;

pub const SPECDEC_ARENA_AUTO: i32 = 0;
pub const SPECDEC_ARENA_JEMALLOC: i32 = 1;
pub const SPECDEC_ARENA_MMAP: i32 = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct specdec_session_params_t {
    pub struct_size: u32,
    pub kv_capacity: i32,
    pub n_threads: i32,
    pub arena_backend: i32,
    pub max_batch: i32,
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/// `int32_t (*specdec_token_callback)(void *user_data, int32_t token, int32_t index)`;
/// `None` is NULL.
pub type specdec_token_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, token: i32, index: i32) -> i32>;

pub const SPECDEC_CALLBACK_CONTINUE: i32 = 0;
pub const SPECDEC_CALLBACK_STOP: i32 = 1;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_generate_params_t {
    pub struct_size: u32,
    pub max_new_tokens: i32,
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub repetition_penalty: f32,
    pub seed: u64,
    pub stop_tokens: *const i32,
    pub n_stop_tokens: i32,
    pub stop_at_eos: i32,
    pub callback: specdec_token_callback,
    pub callback_user_data: *mut c_void,
}

pub const SPECDEC_STOP_NONE: i32 = 0;
pub const SPECDEC_STOP_MAX_TOKENS: i32 = 1;
pub const SPECDEC_STOP_TOKEN: i32 = 2;
pub const SPECDEC_STOP_CALLBACK: i32 = 3;
pub const SPECDEC_STOP_CAPACITY: i32 = 4;
pub const SPECDEC_STOP_ERROR: i32 = 5;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct specdec_stats_t {
    pub struct_size: u32,
    pub prompt_tokens: i32,
    pub reused_tokens: i32,
    pub generated_tokens: i32,
    pub stop_reason: i32,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
    pub prefill_tokens_per_second: f64,
    pub decode_tokens_per_second: f64,
    // ABI 2
    pub target_calls: i32,
    pub drafted_tokens: i32,
    pub accepted_tokens: i32,
    pub reserved0: i32,
    pub tokens_per_target_call: f64,
    pub draft_seconds: f64,
    pub verify_seconds: f64,
    pub sample_seconds: f64,
}

// ---------------------------------------------------------------------------
// Speculative decoding (ABI 2)
// ---------------------------------------------------------------------------

pub const SPECDEC_DRAFTER_NONE: i32 = 0;
pub const SPECDEC_DRAFTER_MODEL: i32 = 1;
pub const SPECDEC_DRAFTER_NGRAM: i32 = 2;
pub const SPECDEC_DRAFTER_SUFFIX: i32 = 3;
pub const SPECDEC_DRAFTER_CUSTOM: i32 = 4;
pub const SPECDEC_DRAFTER_SPECDEC: i32 = 5;

pub const SPECDEC_ACCEPT_GREEDY: i32 = 0;
pub const SPECDEC_ACCEPT_SAMPLE: i32 = 1;
pub const SPECDEC_ACCEPT_TOPK: i32 = 2;

/// Opaque `struct specdec_drafter`.
#[repr(C)]
pub struct specdec_drafter {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}
pub type specdec_drafter_t = specdec_drafter;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_speculative_params_t {
    pub struct_size: u32,
    pub drafter: i32,
    pub acceptance: i32,
    pub draft_length: i32,
    pub adaptive: i32,
    pub top_beta: i32,
    pub tolerance_tau: f32,
    pub ngram_min: i32,
    pub ngram_max: i32,
    pub draft_model: *const specdec_model_t,
    pub custom_drafter: *mut specdec_drafter_t,
}

// ---------------------------------------------------------------------------
// Encoder-decoder models (ABI 2)
// ---------------------------------------------------------------------------

/// transformers' `early_stopping=False`.
pub const SPECDEC_EARLY_STOP_HEURISTIC: i32 = 0;
/// `early_stopping=True`: stop when num_beams hypotheses ended.
pub const SPECDEC_EARLY_STOP_BEAMS: i32 = 1;
/// `early_stopping="never"`.
pub const SPECDEC_EARLY_STOP_NEVER: i32 = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct specdec_beam_params_t {
    pub struct_size: u32,
    pub beam_size: i32,
    pub max_new_tokens: i32,
    pub length_penalty: f32,
    pub early_stopping: i32,
    pub num_return: i32,
}

// ---------------------------------------------------------------------------
// Tokenizers and text (ABI 2)
// ---------------------------------------------------------------------------

/// Opaque `struct specdec_tokenizer`.
#[repr(C)]
pub struct specdec_tokenizer {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}
pub type specdec_tokenizer_t = specdec_tokenizer;

pub const SPECDEC_TOKEN_BOS: i32 = 0;
pub const SPECDEC_TOKEN_EOS: i32 = 1;
pub const SPECDEC_TOKEN_PAD: i32 = 2;
pub const SPECDEC_TOKEN_UNK: i32 = 3;

/// `int32_t (*specdec_text_callback)(void *user_data, const char *text, size_t len)`.
pub type specdec_text_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, text: *const c_char, len: usize) -> i32>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_text_params_t {
    pub struct_size: u32,
    pub tokenizer: *const specdec_tokenizer_t,
    pub add_special_tokens: i32,
    pub skip_special_tokens: i32,
    pub on_text: specdec_text_callback,
    pub user_data: *mut c_void,
}

// ---------------------------------------------------------------------------
// specdec_plugin.h: what drafter, verifier and tokenizer authors implement
// ---------------------------------------------------------------------------

pub const SPECDEC_PLUGIN_ABI_VERSION: u32 = 1;
pub const SPECDEC_PLUGIN_ENTRY_SYMBOL: &str = "specdec_plugin_entry";

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_draft_request_t {
    pub struct_size: u32,
    pub tokens: *const i32,
    pub n_tokens: i32,
    pub n_prompt: i32,
    pub source: *const i32,
    pub n_source: i32,
    pub max_tokens: i32,
    pub vocab_size: i32,
    pub want_probabilities: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_draft_output_t {
    pub tokens: *mut i32,
    pub parents: *mut i32,
    pub probabilities: *mut f32,
    pub n_tokens: i32,
    pub has_probabilities: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_drafter_vtable_t {
    pub struct_size: u32,
    pub abi_version: u32,
    pub propose: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            request: *const specdec_draft_request_t,
            output: *mut specdec_draft_output_t,
        ) -> i32,
    >,
    pub begin: Option<
        unsafe extern "C" fn(instance: *mut c_void, request: *const specdec_draft_request_t) -> i32,
    >,
    pub accepted: Option<
        unsafe extern "C" fn(instance: *mut c_void, path: *const i32, n_path: i32, next_token: i32),
    >,
    pub create: Option<unsafe extern "C" fn(config: *const c_char) -> *mut c_void>,
    pub destroy: Option<unsafe extern "C" fn(instance: *mut c_void)>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_verifier_vtable_t {
    pub struct_size: u32,
    pub abi_version: u32,
    pub prefill: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            tokens: *const i32,
            n_tokens: i32,
            logits: *mut f32,
        ) -> i32,
    >,
    pub score: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            tokens: *const i32,
            parents: *const i32,
            n_tokens: i32,
            logits: *mut f32,
        ) -> i32,
    >,
    pub commit:
        Option<unsafe extern "C" fn(instance: *mut c_void, path: *const i32, n_path: i32) -> i32>,
    pub remaining_capacity: Option<unsafe extern "C" fn(instance: *mut c_void) -> i32>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_tokenizer_vtable_t {
    pub struct_size: u32,
    pub abi_version: u32,
    pub encode: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            text: *const c_char,
            len: usize,
            add_special: i32,
            ids: *mut i32,
            cap: i32,
            out_len: *mut i32,
        ) -> i32,
    >,
    pub decode: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            ids: *const i32,
            n: i32,
            skip_special: i32,
            buf: *mut c_char,
            cap: usize,
            out_len: *mut usize,
        ) -> i32,
    >,
    pub destroy: Option<unsafe extern "C" fn(instance: *mut c_void)>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_host_api_t {
    pub struct_size: u32,
    pub abi_version: u32,
    pub status_string: Option<unsafe extern "C" fn(status: specdec_status) -> *const c_char>,
    pub version_number: Option<unsafe extern "C" fn() -> u32>,
}

/// `const specdec_drafter_vtable_t *(*specdec_plugin_entry_fn)(uint32_t abi_version,
/// const specdec_host_api_t *host)`.
pub type specdec_plugin_entry_fn = Option<
    unsafe extern "C" fn(
        abi_version: u32,
        host: *const specdec_host_api_t,
    ) -> *const specdec_drafter_vtable_t,
>;

// ---------------------------------------------------------------------------
// Functions (in header order)
// ---------------------------------------------------------------------------

extern "C" {
    pub fn specdec_version_number() -> u32;
    pub fn specdec_version_string() -> *const c_char;
    pub fn specdec_abi_version() -> u32;

    pub fn specdec_status_string(status: specdec_status) -> *const c_char;
    pub fn specdec_last_error_message() -> *const c_char;

    pub fn specdec_model_default_params() -> specdec_model_params_t;
    pub fn specdec_kernel_path_name(kernel_path: i32) -> *const c_char;
    pub fn specdec_kernel_path_supported(kernel_path: i32) -> i32;
    pub fn specdec_model_load(
        dir: *const c_char,
        params: *const specdec_model_params_t,
        out_model: *mut *mut specdec_model_t,
    ) -> specdec_status;
    pub fn specdec_model_destroy(model: *mut specdec_model_t);
    pub fn specdec_model_get_info(
        model: *const specdec_model_t,
        out_info: *mut specdec_model_info_t,
    ) -> specdec_status;
    pub fn specdec_model_vocab_size(model: *const specdec_model_t) -> i32;
    pub fn specdec_model_context_length(model: *const specdec_model_t) -> i32;
    pub fn specdec_model_bos_token(model: *const specdec_model_t) -> i32;
    pub fn specdec_model_eos_token(model: *const specdec_model_t) -> i32;
    pub fn specdec_model_eos_tokens(
        model: *const specdec_model_t,
        buf: *mut i32,
        cap: i32,
        out_len: *mut i32,
    ) -> specdec_status;
    pub fn specdec_model_type(model: *const specdec_model_t) -> *const c_char;

    pub fn specdec_session_default_params() -> specdec_session_params_t;
    pub fn specdec_session_create(
        model: *const specdec_model_t,
        params: *const specdec_session_params_t,
        out_session: *mut *mut specdec_session_t,
    ) -> specdec_status;
    pub fn specdec_session_destroy(session: *mut specdec_session_t);
    pub fn specdec_session_reset(session: *mut specdec_session_t) -> specdec_status;
    pub fn specdec_session_length(session: *const specdec_session_t) -> i32;
    pub fn specdec_session_capacity(session: *const specdec_session_t) -> i32;
    pub fn specdec_session_arena_backend(session: *const specdec_session_t) -> *const c_char;
    pub fn specdec_session_error_message(session: *const specdec_session_t) -> *const c_char;
    pub fn specdec_session_tokens(
        session: *const specdec_session_t,
        buf: *mut i32,
        cap: i32,
        out_len: *mut i32,
    ) -> specdec_status;
    pub fn specdec_session_truncate(session: *mut specdec_session_t, length: i32)
        -> specdec_status;
    pub fn specdec_session_eval(
        session: *mut specdec_session_t,
        tokens: *const i32,
        positions: *const i32,
        n_tokens: i32,
        logits: *mut f32,
        logits_cap: usize,
    ) -> specdec_status;

    pub fn specdec_generate_default_params() -> specdec_generate_params_t;
    pub fn specdec_generate(
        session: *mut specdec_session_t,
        prompt: *const i32,
        n_prompt: i32,
        params: *const specdec_generate_params_t,
        out_tokens: *mut i32,
        out_cap: i32,
        out_n_tokens: *mut i32,
    ) -> specdec_status;
    pub fn specdec_session_get_stats(
        session: *const specdec_session_t,
        out_stats: *mut specdec_stats_t,
    ) -> specdec_status;

    // Speculative decoding (ABI 2)
    pub fn specdec_speculative_default_params() -> specdec_speculative_params_t;
    pub fn specdec_generate_speculative(
        session: *mut specdec_session_t,
        prompt: *const i32,
        n_prompt: i32,
        params: *const specdec_generate_params_t,
        spec: *const specdec_speculative_params_t,
        out_tokens: *mut i32,
        out_cap: i32,
        out_n_tokens: *mut i32,
    ) -> specdec_status;
    pub fn specdec_session_acceptance_by_depth(
        session: *const specdec_session_t,
        rates: *mut f64,
        cap: i32,
        out_len: *mut i32,
    ) -> specdec_status;
    pub fn specdec_drafter_create(
        vtable: *const specdec_drafter_vtable_t,
        instance: *mut c_void,
        out_drafter: *mut *mut specdec_drafter_t,
    ) -> specdec_status;
    pub fn specdec_drafter_load_plugin(
        path: *const c_char,
        config: *const c_char,
        out_drafter: *mut *mut specdec_drafter_t,
    ) -> specdec_status;
    pub fn specdec_drafter_destroy(drafter: *mut specdec_drafter_t);
    pub fn specdec_generate_with_verifier(
        verifier: *const specdec_verifier_vtable_t,
        instance: *mut c_void,
        vocab_size: i32,
        prompt: *const i32,
        n_prompt: i32,
        params: *const specdec_generate_params_t,
        spec: *const specdec_speculative_params_t,
        out_tokens: *mut i32,
        out_cap: i32,
        out_n_tokens: *mut i32,
        out_stats: *mut specdec_stats_t,
    ) -> specdec_status;

    // Encoder-decoder models (ABI 2)
    pub fn specdec_session_set_source(
        session: *mut specdec_session_t,
        source: *const i32,
        n_source: i32,
    ) -> specdec_status;
    pub fn specdec_generate_seq2seq(
        session: *mut specdec_session_t,
        source: *const i32,
        n_source: i32,
        prefix: *const i32,
        n_prefix: i32,
        params: *const specdec_generate_params_t,
        spec: *const specdec_speculative_params_t,
        out_tokens: *mut i32,
        out_cap: i32,
        out_n_tokens: *mut i32,
    ) -> specdec_status;
    pub fn specdec_beam_default_params() -> specdec_beam_params_t;
    pub fn specdec_beam_search(
        session: *mut specdec_session_t,
        source: *const i32,
        n_source: i32,
        params: *const specdec_beam_params_t,
        out_tokens: *mut i32,
        out_lengths: *mut i32,
        out_scores: *mut f32,
        out_ended_with_eos: *mut i32,
        out_n_hypotheses: *mut i32,
    ) -> specdec_status;

    // Tokenizers and text (ABI 2). A libspecdec built before this part of ABI 2 does
    // not export these; they are only linked when used.
    pub fn specdec_tokenizer_load(
        path: *const c_char,
        out_tokenizer: *mut *mut specdec_tokenizer_t,
    ) -> specdec_status;
    pub fn specdec_model_get_tokenizer(
        model: *const specdec_model_t,
        out_tokenizer: *mut *mut specdec_tokenizer_t,
    ) -> specdec_status;
    pub fn specdec_tokenizer_create(
        vtable: *const specdec_tokenizer_vtable_t,
        instance: *mut c_void,
        vocab_size: i32,
        out_tokenizer: *mut *mut specdec_tokenizer_t,
    ) -> specdec_status;
    pub fn specdec_tokenizer_destroy(tokenizer: *mut specdec_tokenizer_t);
    pub fn specdec_tokenizer_vocab_size(tokenizer: *const specdec_tokenizer_t) -> i32;
    pub fn specdec_tokenizer_special_token(
        tokenizer: *const specdec_tokenizer_t,
        which: i32,
    ) -> i32;
    pub fn specdec_tokenize(
        tokenizer: *const specdec_tokenizer_t,
        text: *const c_char,
        len: usize,
        add_special: i32,
        ids: *mut i32,
        cap: i32,
        out_len: *mut i32,
    ) -> specdec_status;
    pub fn specdec_detokenize(
        tokenizer: *const specdec_tokenizer_t,
        ids: *const i32,
        n: i32,
        skip_special: i32,
        buf: *mut c_char,
        cap: usize,
        out_len: *mut usize,
    ) -> specdec_status;
    pub fn specdec_token_to_piece(
        tokenizer: *const specdec_tokenizer_t,
        id: i32,
        buf: *mut c_char,
        cap: usize,
        out_len: *mut usize,
    ) -> specdec_status;
    pub fn specdec_piece_to_token(
        tokenizer: *const specdec_tokenizer_t,
        piece: *const c_char,
        out_id: *mut i32,
    ) -> specdec_status;
    pub fn specdec_text_default_params() -> specdec_text_params_t;
    pub fn specdec_generate_text(
        session: *mut specdec_session_t,
        prompt: *const c_char,
        params: *const specdec_generate_params_t,
        spec: *const specdec_speculative_params_t,
        text_params: *const specdec_text_params_t,
        out_text: *mut c_char,
        cap: usize,
        out_len: *mut usize,
    ) -> specdec_status;
    pub fn specdec_session_text(
        session: *const specdec_session_t,
        buf: *mut c_char,
        cap: usize,
        out_len: *mut usize,
    ) -> specdec_status;
}
