//! Speculative decoding: options ([`Speculation`]: who drafts, how drafts are
//! accepted) and [`Session::generate_speculative`].

use std::os::raw::c_void;
use std::ptr;

use crate::callback::{token_callback, Control, Streaming};
use crate::convert::{count, SizedDefault};
use crate::drafter::Drafter;
use crate::error::Result;
use crate::ffi;
use crate::generate::GenerateOptions;
use crate::model::Model;
use crate::session::{ModelKind, Session};

/// How drafts are accepted (`SPECDEC_ACCEPT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Acceptance {
    /// Exact argmax match: the output is identical to greedy decoding.
    #[default]
    Greedy,
    /// Lossless speculative sampling: the output follows the target's sampling
    /// distribution (temperature, top-k/p, min-p and repetition penalty honoured).
    Sample,
    /// SpecDec's rule: a draft token is kept when it is among the target's top `beta`
    /// tokens and within `tau` of the best logit. `beta` 1 is greedy.
    TopK { beta: i32, tau: f32 },
}

/// Who drafts (`SPECDEC_DRAFTER_*`).
#[derive(Debug, Clone, Copy)]
pub enum DrafterKind<'a> {
    /// Plain decoding through the speculative path.
    None,
    /// Prompt lookup: n-gram matches in the prompt and output (see
    /// [`Speculation::ngram_range`]).
    Ngram,
    /// A suffix tree over prompt, output and the session's earlier requests; proposes
    /// token trees.
    Suffix,
    /// A smaller model with the same vocabulary.
    Model(&'a Model),
    /// A [`Drafter`]: a Rust [`DraftSource`](crate::DraftSource) or a plugin.
    Custom(&'a Drafter),
    /// SpecDec's Spec-Drafter (a model loaded from a `specdec_drafter` directory) for
    /// encoder-decoder targets; the draft length must be the k it was trained with.
    SpecDec(&'a Model),
}

/// Options of a speculative generate call (builder style). Defaults are the library's
/// (`specdec_speculative_default_params`): n-gram drafter, greedy acceptance, 5 draft
/// tokens per round.
///
/// ```no_run
/// # use specdec::{Acceptance, Model, Speculation};
/// # let draft = Model::load("Tests/Fixtures/decoder/llama_f16")?;
/// let ngram = Speculation::ngram().draft_length(4);
/// let model = Speculation::model(&draft).acceptance(Acceptance::TopK { beta: 3, tau: 2.0 });
/// # Ok::<(), specdec::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Speculation<'a> {
    pub drafter: DrafterKind<'a>,
    pub acceptance: Acceptance,
    /// Most draft tokens per round (k); 0 is plain decoding.
    pub draft_length: i32,
    /// Adapt k to the acceptance rate and fall back to plain steps when speculation does
    /// not pay.
    pub adaptive: bool,
    /// Shortest n-gram match of the n-gram drafter.
    pub ngram_min: i32,
    /// Longest n-gram match of the n-gram drafter.
    pub ngram_max: i32,
}

impl Default for Speculation<'_> {
    fn default() -> Self {
        let raw = ffi::specdec_speculative_params_t::sized_default();
        Speculation {
            drafter: match raw.drafter {
                ffi::SPECDEC_DRAFTER_NONE => DrafterKind::None,
                ffi::SPECDEC_DRAFTER_SUFFIX => DrafterKind::Suffix,
                _ => DrafterKind::Ngram,
            },
            acceptance: Acceptance::Greedy,
            draft_length: raw.draft_length,
            adaptive: raw.adaptive != 0,
            ngram_min: raw.ngram_min,
            ngram_max: raw.ngram_max,
        }
    }
}

impl<'a> Speculation<'a> {
    /// The library's defaults (n-gram drafter, greedy, k = 5).
    pub fn new(drafter: DrafterKind<'a>) -> Self {
        Speculation {
            drafter,
            ..Default::default()
        }
    }
    pub fn ngram() -> Self {
        Self::new(DrafterKind::Ngram)
    }
    pub fn suffix() -> Self {
        Self::new(DrafterKind::Suffix)
    }
    pub fn model(draft_model: &'a Model) -> Self {
        Self::new(DrafterKind::Model(draft_model))
    }
    pub fn custom(drafter: &'a Drafter) -> Self {
        Self::new(DrafterKind::Custom(drafter))
    }
    pub fn specdec(spec_drafter: &'a Model) -> Self {
        Self::new(DrafterKind::SpecDec(spec_drafter))
    }
    pub fn drafter(mut self, drafter: DrafterKind<'a>) -> Self {
        self.drafter = drafter;
        self
    }
    pub fn acceptance(mut self, acceptance: Acceptance) -> Self {
        self.acceptance = acceptance;
        self
    }
    pub fn draft_length(mut self, k: i32) -> Self {
        self.draft_length = k;
        self
    }
    pub fn adaptive(mut self, yes: bool) -> Self {
        self.adaptive = yes;
        self
    }
    /// The n-gram drafter's match lengths.
    pub fn ngram_range(mut self, min: i32, max: i32) -> Self {
        self.ngram_min = min;
        self.ngram_max = max;
        self
    }

    /// The raw params. Pointers borrow `self`'s model and drafter.
    fn to_raw(self) -> ffi::specdec_speculative_params_t {
        let mut raw = ffi::specdec_speculative_params_t::sized_default();
        raw.draft_model = ptr::null();
        raw.custom_drafter = ptr::null_mut();
        raw.drafter = match self.drafter {
            DrafterKind::None => ffi::SPECDEC_DRAFTER_NONE,
            DrafterKind::Ngram => ffi::SPECDEC_DRAFTER_NGRAM,
            DrafterKind::Suffix => ffi::SPECDEC_DRAFTER_SUFFIX,
            DrafterKind::Model(model) => {
                raw.draft_model = model.as_ptr();
                ffi::SPECDEC_DRAFTER_MODEL
            }
            DrafterKind::Custom(drafter) => {
                raw.custom_drafter = drafter.as_ptr();
                ffi::SPECDEC_DRAFTER_CUSTOM
            }
            DrafterKind::SpecDec(model) => {
                raw.draft_model = model.as_ptr();
                ffi::SPECDEC_DRAFTER_SPECDEC
            }
        };
        match self.acceptance {
            Acceptance::Greedy => raw.acceptance = ffi::SPECDEC_ACCEPT_GREEDY,
            Acceptance::Sample => raw.acceptance = ffi::SPECDEC_ACCEPT_SAMPLE,
            Acceptance::TopK { beta, tau } => {
                raw.acceptance = ffi::SPECDEC_ACCEPT_TOPK;
                raw.top_beta = beta;
                raw.tolerance_tau = tau;
            }
        }
        raw.draft_length = self.draft_length;
        raw.adaptive = self.adaptive as i32;
        raw.ngram_min = self.ngram_min;
        raw.ngram_max = self.ngram_max;
        raw
    }

    fn custom_drafter(&self) -> Option<&'a Drafter> {
        match self.drafter {
            DrafterKind::Custom(d) => Some(d),
            _ => None,
        }
    }
}

/// Runs one generate call with `spec`'s raw params (NULL without speculation) and its
/// custom drafter reserved for the call (see [`Drafter::serve`]).
pub(crate) fn with_speculation<T>(
    spec: Option<&Speculation<'_>>,
    partial: impl FnOnce(T) -> Vec<i32>,
    call: impl FnOnce(*const ffi::specdec_speculative_params_t) -> Result<T>,
) -> Result<T> {
    let raw = spec.map(|s| s.to_raw());
    let raw = raw.as_ref().map_or(ptr::null(), |r| r as *const _);
    match spec.and_then(|s| s.custom_drafter()) {
        Some(drafter) => drafter.serve(|| call(raw), partial),
        None => call(raw),
    }
}

impl Session<'_> {
    /// Speculative decoding (`specdec_generate_speculative`): the drafter of `spec`
    /// proposes up to `draft_length` tokens, this session's model scores them in one
    /// pass, the acceptance rule keeps a prefix (or a tree path) and the model appends
    /// its own next token. With [`Acceptance::Greedy`] the output is identical to greedy
    /// [`generate`](Self::generate).
    ///
    /// A [`Drafter`] that fails (returns `Err`, panics, proposes too many tokens or ids
    /// outside the vocabulary) ends generation with `ErrorCode::Callback`; the message
    /// says why and `partial_tokens()` holds the ids generated before. The session stays
    /// usable. Statistics (drafted and accepted tokens, target calls) are in
    /// [`stats`](Self::stats) and [`acceptance_by_depth`](Self::acceptance_by_depth).
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
        let mut stream = Streaming::new(on_token);
        let result = self.run_speculative(
            prompt,
            options,
            spec,
            Some(token_callback::<F>),
            stream.user_data(),
        );
        stream.finish(result, "token callback")
    }

    fn run_speculative(
        &mut self,
        prompt: &[i32],
        options: &GenerateOptions,
        spec: &Speculation<'_>,
        callback: ffi::specdec_token_callback,
        user_data: *mut c_void,
    ) -> Result<Vec<i32>> {
        with_speculation(
            Some(spec),
            |ids| ids,
            |spec| {
                let n_prompt = count(prompt.len(), "n_prompt")?;
                self.run_tokens(
                    options,
                    callback,
                    user_data,
                    ModelKind::DecoderOnly,
                    |session, raw, out, cap, n_out| {
                        // SAFETY: live session; prompt holds n_prompt ids; raw, spec (and what
                        // they point to) and the callback state live for the call; out holds
                        // cap ids.
                        unsafe {
                            ffi::specdec_generate_speculative(
                                session,
                                prompt.as_ptr(),
                                n_prompt,
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
}
