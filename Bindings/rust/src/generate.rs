//! Options of a generate call and the statistics it leaves.

use crate::convert::{ptr_or_null, SizedDefault};
use crate::ffi;

/// Sampling and stopping options of a generate call (builder style).
///
/// ```no_run
/// let opts = specdec::GenerateOptions::new().max_new_tokens(32).temperature(0.8).top_p(0.95).seed(7);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    pub max_new_tokens: i32,
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub repetition_penalty: f32,
    pub seed: u64,
    pub stop_tokens: Vec<i32>,
    pub stop_at_eos: bool,
}

impl Default for GenerateOptions {
    /// The library's defaults (`specdec_generate_default_params`): greedy, 128 tokens,
    /// stop at EOS.
    fn default() -> Self {
        let raw = ffi::specdec_generate_params_t::sized_default();
        GenerateOptions {
            max_new_tokens: raw.max_new_tokens,
            temperature: raw.temperature,
            top_k: raw.top_k,
            top_p: raw.top_p,
            min_p: raw.min_p,
            repetition_penalty: raw.repetition_penalty,
            seed: raw.seed,
            stop_tokens: Vec::new(),
            stop_at_eos: raw.stop_at_eos != 0,
        }
    }
}

impl GenerateOptions {
    /// Same as `Default::default()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Greedy decoding of `max_new_tokens` tokens that ignores EOS.
    pub fn greedy(max_new_tokens: i32) -> Self {
        Self::new()
            .max_new_tokens(max_new_tokens)
            .stop_at_eos(false)
    }

    pub fn max_new_tokens(mut self, n: i32) -> Self {
        self.max_new_tokens = n;
        self
    }
    /// 0 is greedy; above 0 samples.
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = t;
        self
    }
    /// 0 is off.
    pub fn top_k(mut self, k: i32) -> Self {
        self.top_k = k;
        self
    }
    /// 1 is off; in (0, 1].
    pub fn top_p(mut self, p: f32) -> Self {
        self.top_p = p;
        self
    }
    /// 0 is off; in [0, 1].
    pub fn min_p(mut self, p: f32) -> Self {
        self.min_p = p;
        self
    }
    /// 1 is off; above 0, as in HF transformers.
    pub fn repetition_penalty(mut self, r: f32) -> Self {
        self.repetition_penalty = r;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub fn stop_tokens(mut self, tokens: impl IntoIterator<Item = i32>) -> Self {
        self.stop_tokens = tokens.into_iter().collect();
        self
    }
    /// Whether the model's EOS ids also stop generation (default true).
    pub fn stop_at_eos(mut self, yes: bool) -> Self {
        self.stop_at_eos = yes;
        self
    }

    /// The raw params (without callback); `stop_tokens` points into `self`.
    pub(crate) fn to_raw(&self) -> ffi::specdec_generate_params_t {
        ffi::specdec_generate_params_t {
            max_new_tokens: self.max_new_tokens,
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            min_p: self.min_p,
            repetition_penalty: self.repetition_penalty,
            seed: self.seed,
            stop_tokens: ptr_or_null(&self.stop_tokens),
            n_stop_tokens: self.stop_tokens.len() as i32,
            stop_at_eos: self.stop_at_eos as i32,
            callback: None,
            callback_user_data: std::ptr::null_mut(),
            ..ffi::specdec_generate_params_t::sized_default()
        }
    }
}

/// Why the last generation ended (`SPECDEC_STOP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopReason {
    None,
    MaxTokens,
    /// A stop or EOS token was generated (it is kept).
    Token,
    Callback,
    Capacity,
    Error,
    Other(i32),
}

impl StopReason {
    pub fn from_raw(value: i32) -> StopReason {
        match value {
            ffi::SPECDEC_STOP_NONE => StopReason::None,
            ffi::SPECDEC_STOP_MAX_TOKENS => StopReason::MaxTokens,
            ffi::SPECDEC_STOP_TOKEN => StopReason::Token,
            ffi::SPECDEC_STOP_CALLBACK => StopReason::Callback,
            ffi::SPECDEC_STOP_CAPACITY => StopReason::Capacity,
            ffi::SPECDEC_STOP_ERROR => StopReason::Error,
            other => StopReason::Other(other),
        }
    }
}

/// `specdec_stats_t`: statistics of a session's most recent generate call.
///
/// The speculative fields (ABI 2) count the target's forward passes after the prefill,
/// the draft tokens it scored and those it kept; for plain decoding
/// `tokens_per_target_call` is 1 and nothing is drafted. The acceptance rate per draft
/// depth is [`Session::acceptance_by_depth`](crate::Session::acceptance_by_depth).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub prompt_tokens: i32,
    pub reused_tokens: i32,
    pub generated_tokens: i32,
    pub stop_reason: StopReason,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
    pub prefill_tokens_per_second: f64,
    pub decode_tokens_per_second: f64,
    /// Target forward passes after the prefill.
    pub target_calls: i32,
    /// Draft tokens scored by the target.
    pub drafted_tokens: i32,
    /// Draft tokens kept.
    pub accepted_tokens: i32,
    /// (generated - 1) / target_calls: 1 for plain decoding.
    pub tokens_per_target_call: f64,
    pub draft_seconds: f64,
    pub verify_seconds: f64,
    pub sample_seconds: f64,
}

impl Stats {
    /// accepted_tokens / drafted_tokens (0 when nothing was drafted).
    pub fn acceptance_rate(&self) -> f64 {
        if self.drafted_tokens > 0 {
            self.accepted_tokens as f64 / self.drafted_tokens as f64
        } else {
            0.0
        }
    }
}

impl From<ffi::specdec_stats_t> for Stats {
    fn from(raw: ffi::specdec_stats_t) -> Stats {
        Stats {
            prompt_tokens: raw.prompt_tokens,
            reused_tokens: raw.reused_tokens,
            generated_tokens: raw.generated_tokens,
            stop_reason: StopReason::from_raw(raw.stop_reason),
            prefill_seconds: raw.prefill_seconds,
            decode_seconds: raw.decode_seconds,
            prefill_tokens_per_second: raw.prefill_tokens_per_second,
            decode_tokens_per_second: raw.decode_tokens_per_second,
            target_calls: raw.target_calls,
            drafted_tokens: raw.drafted_tokens,
            accepted_tokens: raw.accepted_tokens,
            tokens_per_target_call: raw.tokens_per_target_call,
            draft_seconds: raw.draft_seconds,
            verify_seconds: raw.verify_seconds,
            sample_seconds: raw.sample_seconds,
        }
    }
}
