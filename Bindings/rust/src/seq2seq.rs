//! Encoder-decoder models (ABI 2): [`Session::translate`], [`Session::beam_search`] and
//! [`Session::set_source`] for Marian and BART sessions.

use std::os::raw::c_void;
use std::ptr;

use crate::callback::{token_callback, Control, Streaming};
use crate::convert::{count, length, ptr_or_null, SizedDefault};
use crate::error::Result;
use crate::ffi;
use crate::generate::GenerateOptions;
use crate::session::{ModelKind, Session};
use crate::speculative::{with_speculation, Speculation};

/// When beam search stops (`SPECDEC_EARLY_STOP_*`), as transformers' `early_stopping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EarlyStopping {
    /// transformers' `early_stopping=False`: stop when no beam can beat the finished
    /// hypotheses, by a heuristic.
    #[default]
    Heuristic,
    /// `early_stopping=True`: stop when `beam_size` hypotheses ended.
    Beams,
    /// `early_stopping="never"`: stop only when no beam can improve, exactly.
    Never,
}

impl EarlyStopping {
    fn raw(self) -> i32 {
        match self {
            EarlyStopping::Heuristic => ffi::SPECDEC_EARLY_STOP_HEURISTIC,
            EarlyStopping::Beams => ffi::SPECDEC_EARLY_STOP_BEAMS,
            EarlyStopping::Never => ffi::SPECDEC_EARLY_STOP_NEVER,
        }
    }

    fn from_raw(value: i32) -> EarlyStopping {
        match value {
            ffi::SPECDEC_EARLY_STOP_BEAMS => EarlyStopping::Beams,
            ffi::SPECDEC_EARLY_STOP_NEVER => EarlyStopping::Never,
            _ => EarlyStopping::Heuristic,
        }
    }
}

impl From<bool> for EarlyStopping {
    /// transformers' booleans: `true` is [`Beams`](Self::Beams), `false`
    /// [`Heuristic`](Self::Heuristic).
    fn from(value: bool) -> EarlyStopping {
        if value {
            EarlyStopping::Beams
        } else {
            EarlyStopping::Heuristic
        }
    }
}

/// Options of [`Session::beam_search`] (builder style). Defaults are the library's
/// (`specdec_beam_default_params`): 4 beams, 128 tokens, length penalty 1, heuristic
/// early stopping, the best hypothesis only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeamOptions {
    pub beam_size: i32,
    pub max_new_tokens: i32,
    /// score = sum of log-probabilities / length^length_penalty.
    pub length_penalty: f32,
    pub early_stopping: EarlyStopping,
    /// How many hypotheses to return, 1..=beam_size.
    pub num_return: i32,
}

impl Default for BeamOptions {
    fn default() -> Self {
        let raw = ffi::specdec_beam_params_t::sized_default();
        BeamOptions {
            beam_size: raw.beam_size,
            max_new_tokens: raw.max_new_tokens,
            length_penalty: raw.length_penalty,
            early_stopping: EarlyStopping::from_raw(raw.early_stopping),
            num_return: raw.num_return,
        }
    }
}

impl BeamOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn beams(mut self, n: i32) -> Self {
        self.beam_size = n;
        self
    }
    pub fn max_new_tokens(mut self, n: i32) -> Self {
        self.max_new_tokens = n;
        self
    }
    pub fn length_penalty(mut self, penalty: f32) -> Self {
        self.length_penalty = penalty;
        self
    }
    pub fn early_stopping(mut self, mode: impl Into<EarlyStopping>) -> Self {
        self.early_stopping = mode.into();
        self
    }
    pub fn num_return(mut self, n: i32) -> Self {
        self.num_return = n;
        self
    }

    pub(crate) fn to_raw(self) -> ffi::specdec_beam_params_t {
        ffi::specdec_beam_params_t {
            beam_size: self.beam_size,
            max_new_tokens: self.max_new_tokens,
            length_penalty: self.length_penalty,
            early_stopping: self.early_stopping.raw(),
            num_return: self.num_return,
            ..ffi::specdec_beam_params_t::sized_default()
        }
    }
}

/// One beam search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// The generated ids, EOS included when the hypothesis ended with it.
    pub tokens: Vec<i32>,
    /// Length-penalised log-probability (transformers' `sequences_scores`).
    pub score: f32,
    pub ended_with_eos: bool,
}

impl<'m> Session<'m> {
    /// Encodes `source` (`specdec_session_set_source`) and empties the decoder cache.
    /// Afterwards [`eval`](Self::eval), [`truncate`](Self::truncate),
    /// [`tokens`](Self::tokens) and [`len`](Self::len) work on the decoder side, whose
    /// first token is the decoder start token
    /// (`model.info().decoder_start_token_id`), which you evaluate yourself.
    ///
    /// Errors: `InvalidArgument` (a decoder-only model), `Capacity` (longer than
    /// `max_source_length`), `TokenOutOfRange` (ids beyond `source_vocab_size`).
    pub fn set_source(&mut self, source: &[i32]) -> Result<()> {
        let n = count(source.len(), "n_source")?;
        // SAFETY: live session; source holds n ids.
        let status = unsafe { ffi::specdec_session_set_source(self.as_ptr(), source.as_ptr(), n) };
        self.check_call(status, ModelKind::EncoderDecoder)
    }

    /// Generates the target sequence for `source` on an encoder-decoder model
    /// (`specdec_generate_seq2seq`) and returns its ids. Decoding starts from the decoder
    /// start token followed by the forced target `prefix` (may be empty); neither is part
    /// of the result. Greedy or sampling per `options`.
    pub fn translate(
        &mut self,
        source: &[i32],
        prefix: &[i32],
        options: &GenerateOptions,
    ) -> Result<Vec<i32>> {
        self.run_seq2seq(source, prefix, options, None, None, ptr::null_mut())
    }

    /// [`translate`](Self::translate) with speculative decoding: the drafters see the
    /// source (prompt lookup copies from it). N-gram, suffix and custom drafters
    /// ([`Drafter`](crate::Drafter)) work; greedy acceptance gives exactly the greedy
    /// translation.
    pub fn translate_speculative(
        &mut self,
        source: &[i32],
        prefix: &[i32],
        options: &GenerateOptions,
        spec: &Speculation<'_>,
    ) -> Result<Vec<i32>> {
        self.run_seq2seq(source, prefix, options, Some(spec), None, ptr::null_mut())
    }

    /// [`translate`](Self::translate) (speculative when `spec` is given) calling
    /// `on_token(token, index)` for each generated token, as in
    /// [`generate_streaming`](Self::generate_streaming).
    pub fn translate_streaming<F>(
        &mut self,
        source: &[i32],
        prefix: &[i32],
        options: &GenerateOptions,
        spec: Option<&Speculation<'_>>,
        on_token: F,
    ) -> Result<Vec<i32>>
    where
        F: FnMut(i32, i32) -> Control,
    {
        let mut stream = Streaming::new(on_token);
        let result = self.run_seq2seq(
            source,
            prefix,
            options,
            spec,
            Some(token_callback::<F>),
            stream.user_data(),
        );
        stream.finish(result, "token callback")
    }

    fn run_seq2seq(
        &mut self,
        source: &[i32],
        prefix: &[i32],
        options: &GenerateOptions,
        spec: Option<&Speculation<'_>>,
        callback: ffi::specdec_token_callback,
        user_data: *mut c_void,
    ) -> Result<Vec<i32>> {
        let n_source = count(source.len(), "n_source")?;
        let n_prefix = count(prefix.len(), "n_prefix")?;
        with_speculation(
            spec,
            |ids| ids,
            |spec| {
                self.run_tokens(
                    options,
                    callback,
                    user_data,
                    ModelKind::EncoderDecoder,
                    |session, raw, out, cap, n_out| {
                        // SAFETY: live session; source/prefix hold n_source/n_prefix ids; raw,
                        // spec (and what they point to) and the callback state live for the
                        // call; out holds cap ids.
                        unsafe {
                            ffi::specdec_generate_seq2seq(
                                session,
                                source.as_ptr(),
                                n_source,
                                ptr_or_null(prefix),
                                n_prefix,
                                raw,
                                spec,
                                out,
                                cap,
                                n_out,
                            )
                        }
                    },
                )
            },
        )
    }

    /// Beam search on an encoder-decoder model (`specdec_beam_search`), identical to
    /// transformers' `generate(num_beams=...)`. Returns up to `options.num_return`
    /// hypotheses, best first.
    pub fn beam_search(
        &mut self,
        source: &[i32],
        options: &BeamOptions,
    ) -> Result<Vec<Hypothesis>> {
        let n_source = count(source.len(), "n_source")?;
        let raw = options.to_raw();
        let per = options.max_new_tokens.max(1) as usize;
        let k = options.num_return.max(1) as usize;
        let mut tokens = vec![0i32; k * per];
        let mut lengths = vec![0i32; k];
        let mut scores = vec![0f32; k];
        let mut ended = vec![0i32; k];
        let mut n = 0i32;
        // SAFETY: live session; source holds n_source ids; the output arrays hold
        // num_return * max_new_tokens ids and num_return entries (the library checks
        // num_return and max_new_tokens before writing).
        let status = unsafe {
            ffi::specdec_beam_search(
                self.as_ptr(),
                source.as_ptr(),
                n_source,
                &raw,
                tokens.as_mut_ptr(),
                lengths.as_mut_ptr(),
                scores.as_mut_ptr(),
                ended.as_mut_ptr(),
                &mut n,
            )
        };
        self.check_call(status, ModelKind::EncoderDecoder)?;
        Ok((0..length(n).min(k))
            .map(|i| {
                let len = length(lengths[i]).min(per);
                Hypothesis {
                    tokens: tokens[i * per..i * per + len].to_vec(),
                    score: scores[i],
                    ended_with_eos: ended[i] != 0,
                }
            })
            .collect())
    }
}
