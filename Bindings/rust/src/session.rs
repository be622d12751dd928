//! `Session`: one sequence's KV cache, sampler state and statistics.

use std::any::Any;
use std::os::raw::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};

use crate::error::{c_str, check, last_message, Error, ErrorCode, Result};
use crate::ffi;
use crate::generate::{Control, GenerateOptions, Stats};
use crate::model::Model;
use crate::speculative::{merge_drafter_failure, Speculation};

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

pub(crate) fn count(n: usize, what: &str) -> Result<i32> {
    i32::try_from(n).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{what}: {n} does not fit in int32"),
        )
    })
}

pub(crate) struct CallbackState<F> {
    pub(crate) f: F,
    pub(crate) panic: Option<Box<dyn Any + Send>>,
    pub(crate) aborted: bool,
}

/// The C callback: runs the closure, and never lets a panic unwind into C.
pub(crate) unsafe extern "C" fn trampoline<F>(user_data: *mut c_void, token: i32, index: i32) -> i32
where
    F: FnMut(i32, i32) -> Control,
{
    // SAFETY: user_data is the &mut CallbackState<F> that generate_streaming passed,
    // alive for the whole specdec_generate call, on this thread.
    let state = unsafe { &mut *(user_data as *mut CallbackState<F>) };
    let f = &mut state.f;
    match panic::catch_unwind(AssertUnwindSafe(|| f(token, index))) {
        Ok(Control::Continue) => ffi::SPECDEC_CALLBACK_CONTINUE,
        Ok(Control::Stop) => ffi::SPECDEC_CALLBACK_STOP,
        Ok(Control::Abort) => {
            state.aborted = true;
            -1
        }
        Err(payload) => {
            state.panic = Some(payload);
            -1
        }
    }
}

/// The result of a streaming call, with the closure's panic or abort in the message.
pub(crate) fn streaming_result(
    result: Result<Vec<i32>>,
    panic: &mut Option<Box<dyn Any + Send>>,
    aborted: bool,
) -> Result<Vec<i32>> {
    match result {
        Err(err) if err.code() == ErrorCode::Callback => {
            let reason = if let Some(payload) = panic.take() {
                format!("token callback panicked: {}", panic_text(payload.as_ref()))
            } else if aborted {
                "token callback returned Control::Abort".to_string()
            } else {
                String::new()
            };
            let message = match (reason.is_empty(), err.message().is_empty()) {
                (true, _) => err.message().to_string(),
                (false, true) => reason,
                (false, false) => format!("{reason} ({})", err.message()),
            };
            let tokens = err.partial_tokens().to_vec();
            Err(Error::new(ErrorCode::Callback, message).with_partial_tokens(tokens))
        }
        other => other,
    }
}

pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_string()
    }
}

impl<'m> Session<'m> {
    /// Creates a session; its memory is allocated once, here.
    pub fn new(model: &'m Model, params: &SessionParams) -> Result<Session<'m>> {
        // SAFETY: cannot fail.
        let mut raw = unsafe { ffi::specdec_session_default_params() };
        raw.kv_capacity = params.kv_capacity;
        raw.n_threads = params.n_threads;
        raw.arena_backend = params.arena_backend.raw();
        if let Some(n) = params.max_batch {
            raw.max_batch = n;
        }
        let mut out: *mut ffi::specdec_session_t = ptr::null_mut();
        // SAFETY: live model, params and out-pointer valid for the call.
        let status = unsafe { ffi::specdec_session_create(model.as_ptr(), &raw, &mut out) };
        check(status, None)?;
        let ptr = NonNull::new(out).ok_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                "specdec_session_create returned OK without a session",
            )
        })?;
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
        unsafe { ffi::specdec_session_length(self.as_ptr()) }.max(0) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// KV capacity in tokens.
    pub fn capacity(&self) -> usize {
        // SAFETY: live session.
        unsafe { ffi::specdec_session_capacity(self.as_ptr()) }.max(0) as usize
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
        let mut buf = vec![0i32; self.len().max(1)];
        loop {
            let mut n = 0i32;
            // SAFETY: live session; buf holds buf.len() ids.
            let status = unsafe {
                ffi::specdec_session_tokens(
                    self.as_ptr(),
                    buf.as_mut_ptr(),
                    count(buf.len(), "cap")?,
                    &mut n,
                )
            };
            if status == ffi::SPECDEC_ERR_BUFFER_TOO_SMALL && n as usize > buf.len() {
                buf.resize(n as usize, 0);
                continue;
            }
            self.check(status)?;
            buf.truncate(n.max(0) as usize);
            return Ok(buf);
        }
    }

    /// Statistics of the most recent generate call.
    pub fn stats(&self) -> Result<Stats> {
        let mut raw = ffi::specdec_stats_t {
            struct_size: std::mem::size_of::<ffi::specdec_stats_t>() as u32,
            ..Default::default()
        };
        // SAFETY: live session, out-struct with its size set.
        self.check(unsafe { ffi::specdec_session_get_stats(self.as_ptr(), &mut raw) })?;
        Ok(Stats::from(raw))
    }

    /// Acceptance rate of the last request per draft depth (index 0 = first draft
    /// token); empty after plain decoding (`specdec_session_acceptance_by_depth`).
    pub fn acceptance_by_depth(&self) -> Result<Vec<f64>> {
        let mut buf = vec![0f64; 16];
        loop {
            let mut n = 0i32;
            // SAFETY: live session; buf holds buf.len() doubles.
            let status = unsafe {
                ffi::specdec_session_acceptance_by_depth(
                    self.as_ptr(),
                    buf.as_mut_ptr(),
                    count(buf.len(), "cap")?,
                    &mut n,
                )
            };
            if status == ffi::SPECDEC_ERR_BUFFER_TOO_SMALL && n as usize > buf.len() {
                buf.resize(n as usize, 0.0);
                continue;
            }
            self.check(status)?;
            buf.truncate((n.max(0) as usize).min(buf.len()));
            return Ok(buf);
        }
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
        self.run(prompt, options, None, None, ptr::null_mut())
    }

    /// Speculative decoding (`specdec_generate_speculative`): the drafter of `spec`
    /// proposes up to `draft_length` tokens, this session's model scores them in one
    /// pass, the acceptance rule keeps a prefix (or a tree path) and the model appends
    /// its own next token. With [`Acceptance::Greedy`](crate::Acceptance::Greedy) the
    /// output is identical to greedy [`generate`](Self::generate).
    ///
    /// A [`Drafter`](crate::Drafter) that fails (returns `Err`, panics, proposes too
    /// many tokens or ids outside the vocabulary) ends generation with
    /// `ErrorCode::Callback`; the message says why and `partial_tokens()` holds the ids
    /// generated before. The session stays usable. Statistics (drafted and accepted
    /// tokens, target calls) are in [`stats`](Self::stats) and
    /// [`acceptance_by_depth`](Self::acceptance_by_depth).
    pub fn generate_speculative(
        &mut self,
        prompt: &[i32],
        options: &GenerateOptions,
        spec: &Speculation<'_>,
    ) -> Result<Vec<i32>> {
        self.run_speculative(prompt, options, spec, None, ptr::null_mut())
    }

    /// [`generate_speculative`](Self::generate_speculative) with a streaming closure, as
    /// in [`generate_streaming`](Self::generate_streaming).
    pub fn generate_speculative_streaming<F>(
        &mut self,
        prompt: &[i32],
        options: &GenerateOptions,
        spec: &Speculation<'_>,
        on_token: F,
    ) -> Result<Vec<i32>>
    where
        F: FnMut(i32, i32) -> Control,
    {
        let mut state = CallbackState {
            f: on_token,
            panic: None,
            aborted: false,
        };
        let result = self.run_speculative(
            prompt,
            options,
            spec,
            Some(trampoline::<F>),
            &mut state as *mut CallbackState<F> as *mut c_void,
        );
        streaming_result(result, &mut state.panic, state.aborted)
    }

    pub(crate) fn run_speculative(
        &mut self,
        prompt: &[i32],
        options: &GenerateOptions,
        spec: &Speculation<'_>,
        callback: ffi::specdec_token_callback,
        user_data: *mut c_void,
    ) -> Result<Vec<i32>> {
        let custom = spec.custom_drafter();
        if let Some(drafter) = custom {
            drafter.enter()?;
        }
        let raw = spec.to_raw();
        let result = self.run(prompt, options, Some(&raw), callback, user_data);
        match custom {
            Some(drafter) => merge_drafter_failure(result, drafter.leave()),
            None => result,
        }
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
        let mut state = CallbackState {
            f: on_token,
            panic: None,
            aborted: false,
        };
        let result = self.run(
            prompt,
            options,
            None,
            Some(trampoline::<F>),
            &mut state as *mut CallbackState<F> as *mut c_void,
        );
        streaming_result(result, &mut state.panic, state.aborted)
    }

    fn run(
        &mut self,
        prompt: &[i32],
        options: &GenerateOptions,
        spec: Option<&ffi::specdec_speculative_params_t>,
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
                // the callback's user_data outlives the call (owned by the caller's frame);
                // `spec` and the model/drafter it points to are borrowed for the call.
                unsafe {
                    match spec {
                        None => ffi::specdec_generate(
                            session,
                            prompt.as_ptr(),
                            n_prompt,
                            raw,
                            out,
                            cap,
                            n_out,
                        ),
                        Some(spec) => ffi::specdec_generate_speculative(
                            session,
                            prompt.as_ptr(),
                            n_prompt,
                            raw,
                            spec,
                            out,
                            cap,
                            n_out,
                        ),
                    }
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
        out.truncate((n_out.max(0) as usize).min(out.len()));
        match ErrorCode::from_status(status) {
            None => Ok(out),
            Some(code) => {
                let err = Error::new(code, self.failure_message(code, expect));
                if code == ErrorCode::Callback {
                    Err(err.with_partial_tokens(out))
                } else {
                    Err(err)
                }
            }
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
