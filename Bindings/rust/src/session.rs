//! `Session`: one sequence's KV cache, sampler state and statistics.

use std::os::raw::c_void;
use std::ptr::{self, NonNull};

use crate::callback::{token_callback, Control, Streaming};
use crate::convert::{
    c_str, check, count, created, fill_counted, last_message, length, SizedDefault,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ffi;
use crate::generate::{GenerateOptions, Stats};
use crate::model::Model;

/// Where a session's memory comes from (`SPECDEC_ARENA_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ArenaBackend {
    /// jemalloc when usable in this process, else mmap.
    #[default]
    Auto,
    /// jemalloc, or fail with `ErrorCode::Unsupported`.
    Jemalloc,
    /// An anonymous memory mapping.
    Mmap,
}

impl ArenaBackend {
    fn raw(self) -> i32 {
        match self {
            ArenaBackend::Auto => ffi::SPECDEC_ARENA_AUTO,
            ArenaBackend::Jemalloc => ffi::SPECDEC_ARENA_JEMALLOC,
            ArenaBackend::Mmap => ffi::SPECDEC_ARENA_MMAP,
        }
    }
}

/// Options of [`Session::new`] (builder style). Zero values mean the library's
/// defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionParams {
    /// Tokens the KV cache holds; 0 means the model's context length.
    pub kv_capacity: i32,
    /// Compute threads; 0 means one per online CPU.
    pub n_threads: i32,
    pub arena_backend: ArenaBackend,
    /// Most tokens one eval call may score; `None` keeps the library default (64).
    pub max_batch: Option<i32>,
    /// Sequences a batch call decodes together (ABI 4; library default 1).
    pub max_sequences: Option<i32>,
}

impl SessionParams {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn kv_capacity(mut self, tokens: i32) -> Self {
        self.kv_capacity = tokens;
        self
    }
    pub fn n_threads(mut self, n: i32) -> Self {
        self.n_threads = n;
        self
    }
    pub fn arena_backend(mut self, backend: ArenaBackend) -> Self {
        self.arena_backend = backend;
        self
    }
    pub fn max_batch(mut self, n: i32) -> Self {
        self.max_batch = Some(n);
        self
    }

    /// Sequences [`Session::generate_batch`] and [`Session::translate_batch`] decode
    /// together; each gets a KV cache of `kv_capacity`, allocated with the session.
    pub fn max_sequences(mut self, n: i32) -> Self {
        self.max_sequences = Some(n);
        self
    }
}

/// Logits of an eval call: one row of `vocab_size` floats per token.
#[derive(Debug, Clone, PartialEq)]
pub struct Logits {
    data: Vec<f32>,
    vocab: usize,
}

impl Logits {
    /// Number of rows (tokens scored).
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.vocab).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn vocab_size(&self) -> usize {
        self.vocab
    }
    /// Row `i` (panics when out of range, like slice indexing).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.vocab..(i + 1) * self.vocab]
    }
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.data.chunks_exact(self.vocab.max(1))
    }
    /// All rows, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }
}

/// A generation session on a [`Model`], which it borrows.
///
/// `Send` but not `Sync`: the contract allows one thread at a time, which `&mut self`
/// on every mutating call enforces.
#[derive(Debug)]
pub struct Session<'m> {
    ptr: NonNull<ffi::specdec_session_t>,
    model: &'m Model,
    vocab: usize,
}

// SAFETY: a session may move between threads; it is used by one at a time.
unsafe impl Send for Session<'_> {}

impl<'m> Session<'m> {
    /// Creates a session; its memory is allocated once, here.
    pub fn new(model: &'m Model, params: &SessionParams) -> Result<Session<'m>> {
        let mut raw = ffi::specdec_session_params_t {
            kv_capacity: params.kv_capacity,
            n_threads: params.n_threads,
            arena_backend: params.arena_backend.raw(),
            ..ffi::specdec_session_params_t::sized_default()
        };
        if let Some(n) = params.max_batch {
            raw.max_batch = n;
        }
        if let Some(n) = params.max_sequences {
            raw.max_sequences = n;
        }
        let mut out: *mut ffi::specdec_session_t = ptr::null_mut();
        // SAFETY: live model, params and out-pointer valid for the call.
        let status = unsafe { ffi::specdec_session_create(model.as_ptr(), &raw, &mut out) };
        let ptr = created(status, out, "specdec_session_create")?;
        Ok(Session {
            ptr,
            model,
            vocab: model.vocab_size(),
        })
    }

    /// The raw handle (owned by this `Session`).
    pub fn as_ptr(&self) -> *mut ffi::specdec_session_t {
        self.ptr.as_ptr()
    }

    fn check(&self, status: i32) -> Result<()> {
        check(status, Some(self.as_ptr()))
    }

    /// The model this session runs.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Tokens currently held in the KV cache.
    pub fn len(&self) -> usize {
        // SAFETY: live session.
        length(unsafe { ffi::specdec_session_length(self.as_ptr()) })
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// KV capacity in tokens.
    pub fn capacity(&self) -> usize {
        // SAFETY: live session.
        length(unsafe { ffi::specdec_session_capacity(self.as_ptr()) })
    }

    /// "jemalloc" or "mmap": where this session's memory comes from.
    pub fn arena_backend(&self) -> String {
        // SAFETY: live session; string owned by the library.
        c_str(unsafe { ffi::specdec_session_arena_backend(self.as_ptr()) })
    }

    /// The session's most recent failure message ("" if none).
    pub fn error_message(&self) -> String {
        // SAFETY: live session.
        c_str(unsafe { ffi::specdec_session_error_message(self.as_ptr()) })
    }

    /// The token ids held in the KV cache, in cache order.
    pub fn tokens(&self) -> Result<Vec<i32>> {
        let (status, ids) = fill_counted(self.len(), |buf, cap, needed| {
            // SAFETY: live session; buf holds cap ids.
            unsafe { ffi::specdec_session_tokens(self.as_ptr(), buf, cap, needed) }
        })?;
        self.check(status)?;
        Ok(ids)
    }

    /// Statistics of the most recent generate call.
    pub fn stats(&self) -> Result<Stats> {
        let mut raw = ffi::specdec_stats_t::sized_default();
        // SAFETY: live session, out-struct with its size set.
        self.check(unsafe { ffi::specdec_session_get_stats(self.as_ptr(), &mut raw) })?;
        Ok(Stats::from(raw))
    }

    /// Acceptance rate of the last request per draft depth (index 0 = first draft
    /// token); empty after plain decoding (`specdec_session_acceptance_by_depth`).
    pub fn acceptance_by_depth(&self) -> Result<Vec<f64>> {
        let (status, rates) = fill_counted(16, |buf, cap, needed| {
            // SAFETY: live session; buf holds cap doubles.
            unsafe { ffi::specdec_session_acceptance_by_depth(self.as_ptr(), buf, cap, needed) }
        })?;
        self.check(status)?;
        Ok(rates)
    }

    /// Empties the KV cache and clears statistics (keeps the memory).
    pub fn reset(&mut self) -> Result<()> {
        // SAFETY: live session.
        self.check(unsafe { ffi::specdec_session_reset(self.as_ptr()) })
    }

    /// Drops cached tokens beyond `length` (at most the current length).
    pub fn truncate(&mut self, length: usize) -> Result<()> {
        let length = count(length, "length")?;
        // SAFETY: live session.
        self.check(unsafe { ffi::specdec_session_truncate(self.as_ptr(), length) })
    }

    /// Runs the model over `tokens` (appending them to the cache) and returns each
    /// position's logits. `positions` defaults to length, length+1, ...
    pub fn eval(&mut self, tokens: &[i32], positions: Option<&[i32]>) -> Result<Logits> {
        let mut data = vec![0f32; tokens.len() * self.vocab];
        self.eval_into(tokens, positions, &mut data)?;
        Ok(Logits {
            data,
            vocab: self.vocab,
        })
    }

    /// Like [`eval`](Self::eval), writing the logits into `out` (at least
    /// `tokens.len() * vocab_size` floats).
    pub fn eval_into(
        &mut self,
        tokens: &[i32],
        positions: Option<&[i32]>,
        out: &mut [f32],
    ) -> Result<()> {
        self.eval_raw(tokens, positions, out.as_mut_ptr(), out.len())
    }

    /// Appends `tokens` to the cache without computing logits.
    pub fn prefill(&mut self, tokens: &[i32]) -> Result<()> {
        self.eval_raw(tokens, None, ptr::null_mut(), 0)
    }

    fn eval_raw(
        &mut self,
        tokens: &[i32],
        positions: Option<&[i32]>,
        logits: *mut f32,
        cap: usize,
    ) -> Result<()> {
        let n = count(tokens.len(), "n_tokens")?;
        if let Some(p) = positions {
            if p.len() != tokens.len() {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("{} positions given for {} tokens", p.len(), tokens.len()),
                ));
            }
        }
        let pos = positions.map_or(ptr::null(), |p| p.as_ptr());
        // SAFETY: live session; tokens/positions hold n ids; logits holds cap floats or is NULL.
        self.check(unsafe {
            ffi::specdec_session_eval(self.as_ptr(), tokens.as_ptr(), pos, n, logits, cap)
        })
    }

    /// Generates a continuation of `prompt` (used verbatim: no BOS is added) and
    /// returns the generated ids (prompt not included).
    pub fn generate(&mut self, prompt: &[i32], options: &GenerateOptions) -> Result<Vec<i32>> {
        self.run(prompt, options, None, ptr::null_mut())
    }

    /// Like [`generate`](Self::generate), calling `on_token(token, index)` for each
    /// generated token. Return [`Control::Stop`] to end generation (keeping the token)
    /// or [`Control::Abort`] to fail it. A panic in the closure is caught (it never
    /// unwinds into C): generation ends and `Err` with `ErrorCode::Callback` is
    /// returned, its message carrying the panic message. The session stays usable.
    pub fn generate_streaming<F>(
        &mut self,
        prompt: &[i32],
        options: &GenerateOptions,
        on_token: F,
    ) -> Result<Vec<i32>>
    where
        F: FnMut(i32, i32) -> Control,
    {
        let mut stream = Streaming::new(on_token);
        let result = self.run(
            prompt,
            options,
            Some(token_callback::<F>),
            stream.user_data(),
        );
        stream.finish(result, "token callback")
    }

    fn run(
        &mut self,
        prompt: &[i32],
        options: &GenerateOptions,
        callback: ffi::specdec_token_callback,
        user_data: *mut c_void,
    ) -> Result<Vec<i32>> {
        let n_prompt = count(prompt.len(), "n_prompt")?;
        self.run_tokens(
            options,
            callback,
            user_data,
            ModelKind::DecoderOnly,
            |session, raw, out, cap, n_out| {
                // SAFETY: live session; prompt holds n_prompt ids; raw (and the stop tokens
                // it points to, owned by `options`) live for the call; out holds cap ids;
                // the callback's user_data outlives the call (owned by the caller's frame).
                unsafe {
                    ffi::specdec_generate(session, prompt.as_ptr(), n_prompt, raw, out, cap, n_out)
                }
            },
        )
    }

    /// Runs one token-producing call (`call(session, params, out, cap, n_out)`: generate,
    /// speculative or seq2seq) with the options and streaming callback wired up, and turns
    /// its status into the result (partial tokens on `ErrorCode::Callback`).
    pub(crate) fn run_tokens(
        &mut self,
        options: &GenerateOptions,
        callback: ffi::specdec_token_callback,
        user_data: *mut c_void,
        expect: ModelKind,
        call: impl FnOnce(
            *mut ffi::specdec_session_t,
            &ffi::specdec_generate_params_t,
            *mut i32,
            i32,
            &mut i32,
        ) -> i32,
    ) -> Result<Vec<i32>> {
        count(options.stop_tokens.len(), "n_stop_tokens")?;
        let mut raw = options.to_raw();
        raw.callback = callback;
        raw.callback_user_data = user_data;
        let mut out = vec![0i32; options.max_new_tokens.max(1) as usize];
        let cap = count(out.len(), "out_cap")?;
        let mut n_out = 0i32;
        let status = call(self.as_ptr(), &raw, out.as_mut_ptr(), cap, &mut n_out);
        out.truncate(length(n_out).min(out.len()));
        match self.check_call(status, expect) {
            Ok(()) => Ok(out),
            Err(err) if err.code() == ErrorCode::Callback => Err(err.with_partial_tokens(out)),
            Err(err) => Err(err),
        }
    }

    /// `Ok(())` for SPECDEC_OK, else the error with [`failure_message`](Self::failure_message).
    pub(crate) fn check_call(&self, status: i32, expect: ModelKind) -> Result<()> {
        match ErrorCode::from_status(status) {
            None => Ok(()),
            Some(code) => Err(Error::new(code, self.failure_message(code, expect))),
        }
    }

    /// The session's message for a failed call, with a hint when the library refused a
    /// call meant for the other kind of model (decoder-only vs encoder-decoder).
    pub(crate) fn failure_message(&self, code: ErrorCode, expect: ModelKind) -> String {
        let message = last_message(Some(self.as_ptr()));
        if code != ErrorCode::InvalidArgument
            || !(message.contains("encoder-decoder") || message.contains("decoder-only"))
        {
            return message;
        }
        let encoder_decoder = self.model.info().is_encoder_decoder;
        match expect {
            ModelKind::DecoderOnly if encoder_decoder => format!(
                "{message} (encoder-decoder models generate with Session::translate or Session::beam_search)"
            ),
            ModelKind::EncoderDecoder if !encoder_decoder => format!(
                "{message} (decoder-only models generate with Session::generate or Session::generate_text)"
            ),
            _ => message,
        }
    }
}

/// Which kind of model a call is meant for (for the hint in refusal messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelKind {
    DecoderOnly,
    EncoderDecoder,
    /// Either kind (no hint).
    Any,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        // SAFETY: owned handle, destroyed once.
        unsafe { ffi::specdec_session_destroy(self.ptr.as_ptr()) }
    }
}

impl Model {
    /// A session with default parameters (shorthand for `Session::new`).
    pub fn session(&self) -> Result<Session<'_>> {
        Session::new(self, &SessionParams::default())
    }
}
