//! Raw declarations mirroring `include/specdec.h` and `include/specdec_plugin.h` one
//! to one.
//!
//! Everything here is `unsafe` to use; the rest of the crate wraps it. Struct field
//! order and types follow the header exactly (checked by `tests/abi.rs`). Declarations
//! that share a shape in the header are written with the shape macros below, so each
//! one states only what differs; they expand to plain `#[repr(C)]` structs, type
//! aliases, constants and `extern "C"` functions.

#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_void};

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

/// `#define NAME value` constants of one C type.
macro_rules! constants {
    ($ty:ty { $($(#[$doc:meta])* $name:ident = $value:expr,)* }) => {
        $($(#[$doc])* pub const $name: $ty = $value;)*
    };
}

/// `typedef struct name alias;` (an opaque handle) and its `void destroy(alias *arg)`.
macro_rules! opaque_handle {
    ($name:ident, $alias:ident, $destroy:ident($arg:ident)) => {
        #[doc = concat!("Opaque `struct ", stringify!($name), "`.")]
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
        pub type $alias = $name;
        extern "C" {
            pub fn $destroy($arg: *mut $alias);
        }
    };
}

/// A struct that starts with `uint32_t struct_size` (the size the caller was compiled
/// with: the library reads only the fields it covers, so fields can be appended).
macro_rules! sized_struct {
    ($(#[$attr:meta])* $name:ident { $($(#[$doc:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$attr])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy)]
        pub struct $name {
            pub struct_size: u32,
            $($(#[$doc])* pub $field: $ty,)*
        }
    };
}

/// A params struct (a `sized_struct!`) and `name defaults(void)`, which returns the
/// library's defaults with `struct_size` set.
macro_rules! params_struct {
    ($(#[$attr:meta])* $name:ident = $defaults:ident() { $($fields:tt)* }) => {
        sized_struct!($(#[$attr])* $name { $($fields)* });
        extern "C" {
            pub fn $defaults() -> $name;
        }
    };
}

/// A specdec_plugin.h table: `struct_size`, `abi_version`, then nullable C function
/// pointers.
macro_rules! vtable {
    ($name:ident {
        $($(#[$doc:meta])* $field:ident: fn($($arg:ident: $argty:ty),*) $(-> $ret:ty)?,)*
    }) => {
        #[repr(C)]
        #[derive(Debug, Clone, Copy)]
        pub struct $name {
            pub struct_size: u32,
            pub abi_version: u32,
            $($(#[$doc])* pub $field: Option<unsafe extern "C" fn($($arg: $argty),*) $(-> $ret)?>,)*
        }
    };
}

/// `specdec_status name(args..., alias **out)`: creates a handle.
macro_rules! constructors {
    ($($name:ident($($arg:ident: $ty:ty),*) => $out:ident: $handle:ty;)*) => {
        extern "C" {
            $(pub fn $name($($arg: $ty,)* $out: *mut *mut $handle) -> specdec_status;)*
        }
    };
}

/// `specdec_status name(args..., T *buf, int32_t cap, int32_t *out_len)`: fills a
/// caller buffer of `cap` elements; the needed count goes to `*out_len`.
macro_rules! counted_buffers {
    ($($name:ident($($arg:ident: $ty:ty),*) => [$elem:ty];)*) => {
        extern "C" {
            $(pub fn $name($($arg: $ty,)* buf: *mut $elem, cap: i32, out_len: *mut i32)
                -> specdec_status;)*
        }
    };
}

/// `specdec_status name(args..., char *buf, size_t cap, size_t *out_len)`: fills a
/// caller buffer of `cap` bytes with UTF-8 text (NUL-terminated when room allows).
macro_rules! text_buffers {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        extern "C" {
            $(pub fn $name($($arg: $ty,)* buf: *mut c_char, cap: usize, out_len: *mut usize)
                -> specdec_status;)*
        }
    };
}

/// `specdec_status name(args..., int32_t *out_tokens, int32_t out_cap,
/// int32_t *out_n_tokens)`: generates into a caller buffer of `out_cap` ids.
macro_rules! generators {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        extern "C" {
            $(pub fn $name($($arg: $ty,)* out_tokens: *mut i32, out_cap: i32,
                out_n_tokens: *mut i32) -> specdec_status;)*
        }
    };
}

// ---------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------

constants!(u32 {
    SPECDEC_VERSION_MAJOR = 0,
    SPECDEC_VERSION_MINOR = 4,
    SPECDEC_VERSION_PATCH = 0,
    SPECDEC_VERSION_NUMBER =
        SPECDEC_VERSION_MAJOR * 10000 + SPECDEC_VERSION_MINOR * 100 + SPECDEC_VERSION_PATCH,
    SPECDEC_ABI_VERSION = 4,
});
pub const SPECDEC_VERSION_STRING: &str = "0.4.0";

extern "C" {
    pub fn specdec_version_number() -> u32;
    pub fn specdec_version_string() -> *const c_char;
    pub fn specdec_abi_version() -> u32;
}

// ---------------------------------------------------------------------------
// Status codes (pinned forever)
// ---------------------------------------------------------------------------

pub type specdec_status = i32;

constants!(specdec_status {
    SPECDEC_OK = 0,
    SPECDEC_ERR_INVALID_ARGUMENT = 1,
    SPECDEC_ERR_IO = 2,
    SPECDEC_ERR_FORMAT = 3,
    SPECDEC_ERR_UNSUPPORTED = 4,
    SPECDEC_ERR_SHAPE = 5,
    SPECDEC_ERR_TOKEN_OUT_OF_RANGE = 6,
    SPECDEC_ERR_BUFFER_TOO_SMALL = 7,
    SPECDEC_ERR_CAPACITY = 8,
    SPECDEC_ERR_OUT_OF_MEMORY = 9,
    SPECDEC_ERR_CANCELLED = 10,
    SPECDEC_ERR_CALLBACK = 11,
    SPECDEC_ERR_INTERNAL = 12,
    /// ABI 2 (tokenizers): text input that is not valid UTF-8.
    SPECDEC_ERR_INVALID_UTF8 = 13,
});

extern "C" {
    pub fn specdec_status_string(status: specdec_status) -> *const c_char;
    pub fn specdec_last_error_message() -> *const c_char;
}

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

opaque_handle! { specdec_model, specdec_model_t, specdec_model_destroy(model) }

// Weight precision and kernel path at load (ABI 3), architectures.
constants!(i32 {
    SPECDEC_WEIGHTS_AUTO = 0,
    SPECDEC_WEIGHTS_FP32 = 1,
    SPECDEC_WEIGHTS_BF16 = 2,
    SPECDEC_WEIGHTS_INT8 = 3,
    SPECDEC_KERNELS_AUTO = 0,
    SPECDEC_KERNELS_PORTABLE = 1,
    SPECDEC_KERNELS_AVX2 = 2,
    SPECDEC_KERNELS_AVX512 = 3,
    SPECDEC_KERNELS_AVX512_BF16 = 4,
    SPECDEC_KERNELS_AMX = 5,
    SPECDEC_ARCH_UNKNOWN = 0,
    SPECDEC_ARCH_LLAMA = 1,
    SPECDEC_ARCH_GPT2 = 2,
    /// Marian / fairseq transformer (encoder-decoder, ABI 2).
    SPECDEC_ARCH_MARIAN = 3,
    /// BART (encoder-decoder, ABI 2).
    SPECDEC_ARCH_BART = 4,
    SPECDEC_ARCH_SPEC_DRAFTER = 5,
});

params_struct!(
    #[derive(Default, PartialEq)]
    specdec_model_params_t = specdec_model_default_params() {
        use_mmap: i32,
        // ABI 3
        weight_precision: i32,
        kernel_path: i32,
    }
);

constructors! {
    specdec_model_load(dir: *const c_char, params: *const specdec_model_params_t)
        => out_model: specdec_model_t;
}

sized_struct!(
    #[derive(Default, PartialEq)]
    specdec_model_info_t {
        architecture: i32,
        vocab_size: i32,
        context_length: i32,
        hidden_size: i32,
        num_layers: i32,
        num_heads: i32,
        num_kv_heads: i32,
        bos_token_id: i32,
        eos_token_id: i32,
        pad_token_id: i32,
        num_parameters: i64,
        // ABI 2
        /// 1 for Marian/BART: generate with `specdec_generate_seq2seq`.
        is_encoder_decoder: i32,
        /// Encoder-decoder: ids the source may use; else vocab_size.
        source_vocab_size: i32,
        /// Encoder-decoder: the token decoding starts from; else -1.
        decoder_start_token_id: i32,
        /// Encoder-decoder: longest source; else 0.
        max_source_length: i32,
        // ABI 3
        weight_precision: i32,
        kernel_path: i32,
        weight_bytes: i64,
    }
);

extern "C" {
    pub fn specdec_model_get_info(
        model: *const specdec_model_t,
        out_info: *mut specdec_model_info_t,
    ) -> specdec_status;
    pub fn specdec_kernel_path_name(kernel_path: i32) -> *const c_char;
    pub fn specdec_kernel_path_supported(kernel_path: i32) -> i32;
    pub fn specdec_model_vocab_size(model: *const specdec_model_t) -> i32;
    pub fn specdec_model_context_length(model: *const specdec_model_t) -> i32;
    pub fn specdec_model_bos_token(model: *const specdec_model_t) -> i32;
    pub fn specdec_model_eos_token(model: *const specdec_model_t) -> i32;
    pub fn specdec_model_type(model: *const specdec_model_t) -> *const c_char;
}

counted_buffers! {
    specdec_model_eos_tokens(model: *const specdec_model_t) => [i32];
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

opaque_handle! { specdec_session, specdec_session_t, specdec_session_destroy(session) }

constants!(i32 {
    SPECDEC_ARENA_AUTO = 0,
    SPECDEC_ARENA_JEMALLOC = 1,
    SPECDEC_ARENA_MMAP = 2,
});

params_struct!(
    #[derive(Default, PartialEq)]
    specdec_session_params_t = specdec_session_default_params() {
        kv_capacity: i32,
        n_threads: i32,
        arena_backend: i32,
        max_batch: i32,
        /// ABI 4
        max_sequences: i32,
    }
);

constructors! {
    specdec_session_create(model: *const specdec_model_t, params: *const specdec_session_params_t)
        => out_session: specdec_session_t;
}

extern "C" {
    pub fn specdec_session_reset(session: *mut specdec_session_t) -> specdec_status;
    pub fn specdec_session_length(session: *const specdec_session_t) -> i32;
    pub fn specdec_session_capacity(session: *const specdec_session_t) -> i32;
    pub fn specdec_session_arena_backend(session: *const specdec_session_t) -> *const c_char;
    pub fn specdec_session_error_message(session: *const specdec_session_t) -> *const c_char;
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
}

counted_buffers! {
    specdec_session_tokens(session: *const specdec_session_t) => [i32];
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/// `int32_t (*specdec_token_callback)(void *user_data, int32_t token, int32_t index)`;
/// `None` is NULL.
pub type specdec_token_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, token: i32, index: i32) -> i32>;

constants!(i32 {
    SPECDEC_CALLBACK_CONTINUE = 0,
    SPECDEC_CALLBACK_STOP = 1,
});

params_struct!(
    specdec_generate_params_t = specdec_generate_default_params() {
        max_new_tokens: i32,
        temperature: f32,
        top_k: i32,
        top_p: f32,
        min_p: f32,
        repetition_penalty: f32,
        seed: u64,
        stop_tokens: *const i32,
        n_stop_tokens: i32,
        stop_at_eos: i32,
        callback: specdec_token_callback,
        callback_user_data: *mut c_void,
    }
);

generators! {
    specdec_generate(
        session: *mut specdec_session_t,
        prompt: *const i32,
        n_prompt: i32,
        params: *const specdec_generate_params_t
    );
}

constants!(i32 {
    SPECDEC_STOP_NONE = 0,
    SPECDEC_STOP_MAX_TOKENS = 1,
    SPECDEC_STOP_TOKEN = 2,
    SPECDEC_STOP_CALLBACK = 3,
    SPECDEC_STOP_CAPACITY = 4,
    SPECDEC_STOP_ERROR = 5,
});

sized_struct!(
    #[derive(Default, PartialEq)]
    specdec_stats_t {
        prompt_tokens: i32,
        reused_tokens: i32,
        generated_tokens: i32,
        stop_reason: i32,
        prefill_seconds: f64,
        decode_seconds: f64,
        prefill_tokens_per_second: f64,
        decode_tokens_per_second: f64,
        // ABI 2
        target_calls: i32,
        drafted_tokens: i32,
        accepted_tokens: i32,
        reserved0: i32,
        tokens_per_target_call: f64,
        draft_seconds: f64,
        verify_seconds: f64,
        sample_seconds: f64,
    }
);

extern "C" {
    pub fn specdec_session_get_stats(
        session: *const specdec_session_t,
        out_stats: *mut specdec_stats_t,
    ) -> specdec_status;
}

// ---------------------------------------------------------------------------
// Speculative decoding (ABI 2)
// ---------------------------------------------------------------------------

constants!(i32 {
    SPECDEC_DRAFTER_NONE = 0,
    SPECDEC_DRAFTER_MODEL = 1,
    SPECDEC_DRAFTER_NGRAM = 2,
    SPECDEC_DRAFTER_SUFFIX = 3,
    SPECDEC_DRAFTER_CUSTOM = 4,
    SPECDEC_DRAFTER_SPECDEC = 5,
    SPECDEC_ACCEPT_GREEDY = 0,
    SPECDEC_ACCEPT_SAMPLE = 1,
    SPECDEC_ACCEPT_TOPK = 2,
});

opaque_handle! { specdec_drafter, specdec_drafter_t, specdec_drafter_destroy(drafter) }

params_struct!(
    specdec_speculative_params_t = specdec_speculative_default_params() {
        drafter: i32,
        acceptance: i32,
        draft_length: i32,
        adaptive: i32,
        top_beta: i32,
        tolerance_tau: f32,
        ngram_min: i32,
        ngram_max: i32,
        draft_model: *const specdec_model_t,
        custom_drafter: *mut specdec_drafter_t,
    }
);

generators! {
    specdec_generate_speculative(
        session: *mut specdec_session_t,
        prompt: *const i32,
        n_prompt: i32,
        params: *const specdec_generate_params_t,
        spec: *const specdec_speculative_params_t
    );
}

counted_buffers! {
    specdec_session_acceptance_by_depth(session: *const specdec_session_t) => [f64];
}

constructors! {
    specdec_drafter_create(vtable: *const specdec_drafter_vtable_t, instance: *mut c_void)
        => out_drafter: specdec_drafter_t;
    specdec_drafter_load_plugin(path: *const c_char, config: *const c_char)
        => out_drafter: specdec_drafter_t;
}

extern "C" {
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
}

// ---------------------------------------------------------------------------
// Encoder-decoder models (ABI 2)
// ---------------------------------------------------------------------------

extern "C" {
    pub fn specdec_session_set_source(
        session: *mut specdec_session_t,
        source: *const i32,
        n_source: i32,
    ) -> specdec_status;
}

generators! {
    specdec_generate_seq2seq(
        session: *mut specdec_session_t,
        source: *const i32,
        n_source: i32,
        prefix: *const i32,
        n_prefix: i32,
        params: *const specdec_generate_params_t,
        spec: *const specdec_speculative_params_t
    );
}

constants!(i32 {
    /// transformers' `early_stopping=False`.
    SPECDEC_EARLY_STOP_HEURISTIC = 0,
    /// `early_stopping=True`: stop when num_beams hypotheses ended.
    SPECDEC_EARLY_STOP_BEAMS = 1,
    /// `early_stopping="never"`.
    SPECDEC_EARLY_STOP_NEVER = 2,
});

params_struct!(
    #[derive(Default, PartialEq)]
    specdec_beam_params_t = specdec_beam_default_params() {
        beam_size: i32,
        max_new_tokens: i32,
        length_penalty: f32,
        early_stopping: i32,
        num_return: i32,
    }
);

extern "C" {
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
}

// ---------------------------------------------------------------------------
// Batched decoding (ABI 4)
// ---------------------------------------------------------------------------

params_struct!(
    #[derive(PartialEq)]
    specdec_batch_params_t = specdec_batch_default_params() {
        batch_size: i32,
        batch_tokens: i32,
        reserved0: i32,
        seeds: *const u64,
    }
);

extern "C" {
    pub fn specdec_generate_batch(
        session: *mut specdec_session_t,
        inputs: *const *const i32,
        input_lengths: *const i32,
        n_inputs: i32,
        params: *const specdec_generate_params_t,
        spec: *const specdec_speculative_params_t,
        batch: *const specdec_batch_params_t,
        out_tokens: *mut i32,
        out_cap: i32,
        out_lengths: *mut i32,
        out_stop_reasons: *mut i32,
        out_statuses: *mut i32,
    ) -> specdec_status;
    pub fn specdec_beam_search_batch(
        session: *mut specdec_session_t,
        sources: *const *const i32,
        source_lengths: *const i32,
        n_sources: i32,
        params: *const specdec_beam_params_t,
        out_tokens: *mut i32,
        out_lengths: *mut i32,
        out_scores: *mut f32,
        out_ended_with_eos: *mut i32,
        out_n_hypotheses: *mut i32,
        out_statuses: *mut i32,
    ) -> specdec_status;
}

// ---------------------------------------------------------------------------
// Tokenizers and text (ABI 2). A libspecdec built before this part of ABI 2 does not
// export these functions; they are only linked when used.
// ---------------------------------------------------------------------------

opaque_handle! { specdec_tokenizer, specdec_tokenizer_t, specdec_tokenizer_destroy(tokenizer) }

constructors! {
    specdec_tokenizer_load(path: *const c_char) => out_tokenizer: specdec_tokenizer_t;
    specdec_model_get_tokenizer(model: *const specdec_model_t)
        => out_tokenizer: specdec_tokenizer_t;
    specdec_tokenizer_create(
        vtable: *const specdec_tokenizer_vtable_t,
        instance: *mut c_void,
        vocab_size: i32
    ) => out_tokenizer: specdec_tokenizer_t;
}

constants!(i32 {
    SPECDEC_TOKEN_BOS = 0,
    SPECDEC_TOKEN_EOS = 1,
    SPECDEC_TOKEN_PAD = 2,
    SPECDEC_TOKEN_UNK = 3,
});

extern "C" {
    pub fn specdec_tokenizer_vocab_size(tokenizer: *const specdec_tokenizer_t) -> i32;
    pub fn specdec_tokenizer_special_token(
        tokenizer: *const specdec_tokenizer_t,
        which: i32,
    ) -> i32;
    pub fn specdec_piece_to_token(
        tokenizer: *const specdec_tokenizer_t,
        piece: *const c_char,
        out_id: *mut i32,
    ) -> specdec_status;
}

counted_buffers! {
    specdec_tokenize(
        tokenizer: *const specdec_tokenizer_t,
        text: *const c_char,
        len: usize,
        add_special: i32
    ) => [i32];
}

text_buffers! {
    specdec_detokenize(
        tokenizer: *const specdec_tokenizer_t,
        ids: *const i32,
        n: i32,
        skip_special: i32
    );
    specdec_token_to_piece(tokenizer: *const specdec_tokenizer_t, id: i32);
}

/// `int32_t (*specdec_text_callback)(void *user_data, const char *text, size_t len)`.
pub type specdec_text_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, text: *const c_char, len: usize) -> i32>;

params_struct!(
    specdec_text_params_t = specdec_text_default_params() {
        tokenizer: *const specdec_tokenizer_t,
        add_special_tokens: i32,
        skip_special_tokens: i32,
        on_text: specdec_text_callback,
        user_data: *mut c_void,
    }
);

text_buffers! {
    specdec_generate_text(
        session: *mut specdec_session_t,
        prompt: *const c_char,
        params: *const specdec_generate_params_t,
        spec: *const specdec_speculative_params_t,
        text_params: *const specdec_text_params_t
    );
    specdec_session_text(session: *const specdec_session_t);
}

// ---------------------------------------------------------------------------
// specdec_plugin.h: what drafter, verifier and tokenizer authors implement
// ---------------------------------------------------------------------------

pub const SPECDEC_PLUGIN_ABI_VERSION: u32 = 1;
pub const SPECDEC_PLUGIN_ENTRY_SYMBOL: &str = "specdec_plugin_entry";

sized_struct!(specdec_draft_request_t {
    tokens: *const i32,
    n_tokens: i32,
    n_prompt: i32,
    source: *const i32,
    n_source: i32,
    max_tokens: i32,
    vocab_size: i32,
    want_probabilities: i32,
});

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct specdec_draft_output_t {
    pub tokens: *mut i32,
    pub parents: *mut i32,
    pub probabilities: *mut f32,
    pub n_tokens: i32,
    pub has_probabilities: i32,
}

vtable!(specdec_drafter_vtable_t {
    propose: fn(
        instance: *mut c_void,
        request: *const specdec_draft_request_t,
        output: *mut specdec_draft_output_t
    ) -> i32,
    begin: fn(instance: *mut c_void, request: *const specdec_draft_request_t) -> i32,
    accepted: fn(instance: *mut c_void, path: *const i32, n_path: i32, next_token: i32),
    create: fn(config: *const c_char) -> *mut c_void,
    destroy: fn(instance: *mut c_void),
});

vtable!(specdec_verifier_vtable_t {
    prefill: fn(instance: *mut c_void, tokens: *const i32, n_tokens: i32, logits: *mut f32)
        -> i32,
    score: fn(
        instance: *mut c_void,
        tokens: *const i32,
        parents: *const i32,
        n_tokens: i32,
        logits: *mut f32
    ) -> i32,
    commit: fn(instance: *mut c_void, path: *const i32, n_path: i32) -> i32,
    remaining_capacity: fn(instance: *mut c_void) -> i32,
});

vtable!(specdec_tokenizer_vtable_t {
    encode: fn(
        instance: *mut c_void,
        text: *const c_char,
        len: usize,
        add_special: i32,
        ids: *mut i32,
        cap: i32,
        out_len: *mut i32
    ) -> i32,
    decode: fn(
        instance: *mut c_void,
        ids: *const i32,
        n: i32,
        skip_special: i32,
        buf: *mut c_char,
        cap: usize,
        out_len: *mut usize
    ) -> i32,
    destroy: fn(instance: *mut c_void),
});

vtable!(specdec_host_api_t {
    status_string: fn(status: specdec_status) -> *const c_char,
    version_number: fn() -> u32,
});

/// `const specdec_drafter_vtable_t *(*specdec_plugin_entry_fn)(uint32_t abi_version,
/// const specdec_host_api_t *host)`.
pub type specdec_plugin_entry_fn = Option<
    unsafe extern "C" fn(
        abi_version: u32,
        host: *const specdec_host_api_t,
    ) -> *const specdec_drafter_vtable_t,
>;
