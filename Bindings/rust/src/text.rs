//! Text generation (ABI 2): [`Session::generate_text`] and its streaming variant.

use std::os::raw::{c_char, c_void};
use std::ptr;

use crate::callback::{Control, Streaming};
use crate::convert::{borrowed, check, count, cstring, fill_text, utf8, SizedDefault};
use crate::error::{ErrorCode, Result};
use crate::ffi;
use crate::generate::GenerateOptions;
use crate::session::{ModelKind, Session};
use crate::speculative::{with_speculation, Speculation};
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
        let raw = ffi::specdec_text_params_t::sized_default();
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

/// The C text callback (`specdec_text_callback`) of a [`Streaming`] closure.
unsafe extern "C" fn text_callback<F>(
    user_data: *mut c_void,
    text: *const c_char,
    len: usize,
) -> i32
where
    F: FnMut(&str) -> Control,
{
    // SAFETY: the library passes `len` readable bytes of complete UTF-8 text.
    let piece = String::from_utf8_lossy(unsafe { borrowed(text as *const u8, len) });
    // SAFETY: user_data is the Streaming<F> of the generate_text call on this thread.
    unsafe { Streaming::<F>::call(user_data, |f| f(&piece)) }
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
        let mut stream = Streaming::new(on_text);
        let result = self.run_text(
            prompt.as_ref(),
            options,
            text,
            Some(text_callback::<F>),
            stream.user_data(),
        );
        stream.finish(result, "text callback")
    }

    /// The text of the session's last `generate_text` call (`specdec_session_text`).
    pub fn text(&self) -> Result<String> {
        let (status, bytes) = self.session_text(256);
        check(status, Some(self.as_ptr()))?;
        Ok(utf8(bytes))
    }

    fn session_text(&self, needed: usize) -> (i32, Vec<u8>) {
        fill_text(needed.max(15) + 1, |buf, cap, len| {
            // SAFETY: live session; buf holds cap bytes.
            unsafe { ffi::specdec_session_text(self.as_ptr(), buf, cap, len) }
        })
    }

    fn run_text(
        &mut self,
        prompt: &[u8],
        options: &GenerateOptions,
        text: &TextOptions<'_>,
        on_text: ffi::specdec_text_callback,
        user_data: *mut c_void,
    ) -> Result<String> {
        let prompt = cstring(prompt, "the prompt")?;
        count(options.stop_tokens.len(), "n_stop_tokens")?;
        let raw = options.to_raw();
        let text_raw = ffi::specdec_text_params_t {
            tokenizer: text.tokenizer.map_or(ptr::null(), |t| t.as_ptr()),
            add_special_tokens: text.add_special_tokens as i32,
            skip_special_tokens: text.skip_special_tokens as i32,
            on_text,
            user_data,
            ..ffi::specdec_text_params_t::sized_default()
        };
        with_speculation(
            text.speculation.as_ref(),
            |_| Vec::new(),
            |spec| {
                let mut buf = vec![0u8; 64 + 16 * options.max_new_tokens.max(0) as usize];
                let mut len = 0usize;
                clear_host_failure();
                // SAFETY: live session; NUL-terminated prompt; raw (and the stop tokens it
                // points to, owned by `options`), spec (and the model/drafter it points to),
                // text_raw (and the tokenizer and callback state it points to) live for the
                // call; buf holds buf.len() bytes.
                let status = unsafe {
                    ffi::specdec_generate_text(
                        self.as_ptr(),
                        prompt.as_ptr(),
                        &raw,
                        spec,
                        &text_raw,
                        buf.as_mut_ptr() as *mut c_char,
                        buf.len(),
                        &mut len,
                    )
                };
                let (status, bytes) = match status {
                    // The call completed; the text waits in the session.
                    ffi::SPECDEC_ERR_BUFFER_TOO_SMALL => self.session_text(len),
                    ffi::SPECDEC_OK => {
                        buf.truncate(len.min(buf.len()));
                        (status, buf)
                    }
                    other => (other, Vec::new()),
                };
                match ErrorCode::from_status(status) {
                    None => {
                        take_host_failure();
                        Ok(utf8(bytes))
                    }
                    Some(code) => Err(host_error(code, self.failure_message(code, ModelKind::Any))),
                }
            },
        )
    }
}
