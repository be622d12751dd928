//! Text generation (ABI 2): [`Session::generate_text`] and its streaming variant.

use std::any::Any;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use crate::error::{check, Error, ErrorCode, Result};
use crate::ffi;
use crate::generate::{Control, GenerateOptions};
use crate::session::{panic_text, ModelKind, Session};
use crate::speculative::Speculation;
use crate::tokenizer::{clear_host_failure, host_error, take_host_failure, Tokenizer};

/// Text options of [`Session::generate_text`] (builder style). Defaults are the
/// library's (`specdec_text_default_params`): the model's own tokenizer, the template's
/// BOS/EOS around the prompt, no special tokens in the output, plain decoding.
///
/// ```no_run
/// # use specdec::{Speculation, TextOptions, Tokenizer};
/// # let tok = Tokenizer::load("tokenizer.json")?;
/// let text = TextOptions::new().tokenizer(&tok).speculation(Speculation::suffix());
/// # Ok::<(), specdec::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TextOptions<'a> {
    /// `None`: the model's own tokenizer.
    pub tokenizer: Option<&'a Tokenizer>,
    /// Apply the tokenizer's template (BOS/EOS) to the prompt.
    pub add_special_tokens: bool,
    /// Leave special tokens out of the output text.
    pub skip_special_tokens: bool,
    /// Speculative decoding (`None`: plain decoding).
    pub speculation: Option<Speculation<'a>>,
}

impl Default for TextOptions<'_> {
    fn default() -> Self {
        // SAFETY: cannot fail.
        let raw = unsafe { ffi::specdec_text_default_params() };
        TextOptions {
            tokenizer: None,
            add_special_tokens: raw.add_special_tokens != 0,
            skip_special_tokens: raw.skip_special_tokens != 0,
            speculation: None,
        }
    }
}

impl<'a> TextOptions<'a> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn tokenizer(mut self, tokenizer: &'a Tokenizer) -> Self {
        self.tokenizer = Some(tokenizer);
        self
    }
    pub fn add_special_tokens(mut self, yes: bool) -> Self {
        self.add_special_tokens = yes;
        self
    }
    pub fn skip_special_tokens(mut self, yes: bool) -> Self {
        self.skip_special_tokens = yes;
        self
    }
    pub fn speculation(mut self, spec: Speculation<'a>) -> Self {
        self.speculation = Some(spec);
        self
    }
}

struct TextState<F> {
    f: F,
    panic: Option<Box<dyn Any + Send>>,
    aborted: bool,
}

/// The C text callback: runs the closure, and never lets a panic unwind into C.
unsafe extern "C" fn text_trampoline<F>(
    user_data: *mut c_void,
    text: *const c_char,
    len: usize,
) -> i32
where
    F: FnMut(&str) -> Control,
{
    // SAFETY: user_data is the &mut TextState<F> that generate_text_streaming passed,
    // alive for the whole call, on this thread.
    let state = unsafe { &mut *(user_data as *mut TextState<F>) };
    let bytes: &[u8] = if text.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the library passes `len` readable bytes of complete UTF-8 text.
        unsafe { std::slice::from_raw_parts(text as *const u8, len) }
    };
    let piece = String::from_utf8_lossy(bytes);
    let f = &mut state.f;
    match panic::catch_unwind(AssertUnwindSafe(|| f(&piece))) {
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

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Session<'_> {
    /// Generates from a text prompt (`specdec_generate_text`) and returns the generated
    /// text (the prompt not included).
    ///
    /// The prompt (`&str`, or UTF-8 bytes: invalid UTF-8 is `ErrorCode::InvalidUtf8`, a
    /// NUL byte `ErrorCode::InvalidArgument`) is encoded with `text.tokenizer` (by
    /// default the model's own), generation follows `options` (and `text.speculation`),
    /// and the output is decoded. The generated ids are in [`tokens`](Self::tokens)
    /// after the prompt's, the statistics in [`stats`](Self::stats). On an
    /// encoder-decoder model the encoded prompt is the source and the result its
    /// translation.
    ///
    /// A Rust [`TokenizerSource`](crate::TokenizerSource) that fails (or panics) ends the
    /// call with `ErrorCode::Callback` carrying its message; the session stays usable.
    pub fn generate_text(
        &mut self,
        prompt: impl AsRef<[u8]>,
        options: &GenerateOptions,
        text: &TextOptions<'_>,
    ) -> Result<String> {
        self.run_text(prompt.as_ref(), options, text, None, ptr::null_mut())
    }

    /// [`generate_text`](Self::generate_text), calling `on_text(piece)` with each new
    /// piece of complete text as it is generated (the pieces concatenate to the result).
    /// Return [`Control::Stop`] to end generation or [`Control::Abort`] to fail it. A
    /// panic in the closure is caught (it never unwinds into C): generation ends with
    /// `ErrorCode::Callback`, the message carrying the panic message. The session stays
    /// usable.
    pub fn generate_text_streaming<F>(
        &mut self,
        prompt: impl AsRef<[u8]>,
        options: &GenerateOptions,
        text: &TextOptions<'_>,
        on_text: F,
    ) -> Result<String>
    where
        F: FnMut(&str) -> Control,
    {
        let mut state = TextState {
            f: on_text,
            panic: None,
            aborted: false,
        };
        let result = self.run_text(
            prompt.as_ref(),
            options,
            text,
            Some(text_trampoline::<F>),
            &mut state as *mut TextState<F> as *mut c_void,
        );
        match result {
            Err(err) if err.code() == ErrorCode::Callback => {
                let reason = if let Some(payload) = state.panic.take() {
                    format!("text callback panicked: {}", panic_text(payload.as_ref()))
                } else if state.aborted {
                    "text callback returned Control::Abort".to_string()
                } else {
                    return Err(err);
                };
                let message = if err.message().is_empty() {
                    reason
                } else {
                    format!("{reason} ({})", err.message())
                };
                Err(Error::new(ErrorCode::Callback, message))
            }
            other => other,
        }
    }

    /// The text of the session's last `generate_text` call (`specdec_session_text`).
    pub fn text(&self) -> Result<String> {
        let (status, bytes) = self.session_text(256);
        check(status, Some(self.as_ptr()))?;
        Ok(utf8(bytes))
    }

    fn session_text(&self, needed: usize) -> (i32, Vec<u8>) {
        let mut buf = vec![0u8; needed.max(15) + 1];
        loop {
            let mut len = 0usize;
            // SAFETY: live session; buf holds buf.len() bytes.
            let status = unsafe {
                ffi::specdec_session_text(
                    self.as_ptr(),
                    buf.as_mut_ptr() as *mut c_char,
                    buf.len(),
                    &mut len,
                )
            };
            if status == ffi::SPECDEC_ERR_BUFFER_TOO_SMALL && len >= buf.len() {
                buf.resize(len + 1, 0);
                continue;
            }
            if status != ffi::SPECDEC_OK {
                return (status, Vec::new());
            }
            buf.truncate(len.min(buf.len()));
            return (status, buf);
        }
    }

    fn run_text(
        &mut self,
        prompt: &[u8],
        options: &GenerateOptions,
        text: &TextOptions<'_>,
        on_text: ffi::specdec_text_callback,
        user_data: *mut c_void,
    ) -> Result<String> {
        let prompt = CString::new(prompt).map_err(|_| {
            Error::new(ErrorCode::InvalidArgument, "the prompt contains a NUL byte")
        })?;
        crate::session::count(options.stop_tokens.len(), "n_stop_tokens")?;
        let raw = options.to_raw();
        // SAFETY: cannot fail.
        let mut text_raw = unsafe { ffi::specdec_text_default_params() };
        text_raw.struct_size = std::mem::size_of::<ffi::specdec_text_params_t>() as u32;
        text_raw.tokenizer = text.tokenizer.map_or(ptr::null(), |t| t.as_ptr());
        text_raw.add_special_tokens = text.add_special_tokens as i32;
        text_raw.skip_special_tokens = text.skip_special_tokens as i32;
        text_raw.on_text = on_text;
        text_raw.user_data = user_data;
        let spec = text.speculation.map(|s| s.to_raw());
        let custom = text.speculation.as_ref().and_then(|s| s.custom_drafter());
        if let Some(drafter) = custom {
            drafter.enter()?;
        }
        let mut buf = vec![0u8; 64 + 16 * options.max_new_tokens.max(0) as usize];
        let mut len = 0usize;
        clear_host_failure();
        // SAFETY: live session; NUL-terminated prompt; raw (and the stop tokens it points
        // to, owned by `options`), spec (and the model/drafter it points to), text_raw (and
        // the tokenizer and callback state it points to) live for the call; buf holds
        // buf.len() bytes.
        let status = unsafe {
            ffi::specdec_generate_text(
                self.as_ptr(),
                prompt.as_ptr(),
                &raw,
                spec.as_ref().map_or(ptr::null(), |s| s as *const _),
                &text_raw,
                buf.as_mut_ptr() as *mut c_char,
                buf.len(),
                &mut len,
            )
        };
        let drafter_failure = custom.and_then(|d| d.leave());
        let (status, bytes) = match status {
            // The call completed; the text waits in the session.
            ffi::SPECDEC_ERR_BUFFER_TOO_SMALL => self.session_text(len),
            ffi::SPECDEC_OK => {
                buf.truncate(len.min(buf.len()));
                (status, buf)
            }
            other => (other, Vec::new()),
        };
        let result = match ErrorCode::from_status(status) {
            None => {
                take_host_failure();
                Ok(utf8(bytes))
            }
            Some(code) => Err(host_error(code, self.failure_message(code, ModelKind::Any))),
        };
        match (result, drafter_failure) {
            (result, None) => result,
            (Err(err), Some(reason)) if err.code() == ErrorCode::Callback => {
                let message = if err.message().is_empty() {
                    reason
                } else {
                    format!("{reason} ({})", err.message())
                };
                Err(Error::new(ErrorCode::Callback, message))
            }
            (Err(err), Some(_)) => Err(err),
            (Ok(_), Some(reason)) => Err(Error::new(ErrorCode::Callback, reason)),
        }
    }
}
