//! Speculative decoding: options ([`Speculation`]), acceptance rules and drafters
//! ([`Drafter`]: a Rust [`DraftSource`] or a plugin shared object).

use std::any::Any;
use std::cell::Cell;
use std::ffi::CString;
use std::os::raw::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};

use crate::error::{check, Error, ErrorCode, Result};
use crate::ffi;
use crate::model::Model;

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
    /// A [`Drafter`]: a Rust [`DraftSource`] or a plugin.
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
        // SAFETY: cannot fail.
        let raw = unsafe { ffi::specdec_speculative_default_params() };
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
    pub(crate) fn to_raw(self) -> ffi::specdec_speculative_params_t {
        // SAFETY: cannot fail.
        let mut raw = unsafe { ffi::specdec_speculative_default_params() };
        raw.struct_size = std::mem::size_of::<ffi::specdec_speculative_params_t>() as u32;
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

    pub(crate) fn custom_drafter(&self) -> Option<&'a Drafter> {
        match self.drafter {
            DrafterKind::Custom(d) => Some(d),
            _ => None,
        }
    }
}

/// A drafter written in Rust. Wrap it with [`Drafter::new`].
///
/// Errors (`Err(message)`) and panics never unwind into C: the call reports a failure
/// and generation ends with `ErrorCode::Callback`, whose message carries yours. The
/// session stays usable.
pub trait DraftSource {
    /// Proposes up to `max_tokens` tokens to follow `tokens` (the sequence so far:
    /// prompt, then output; the last id is the newest, not yet verified), of which the
    /// first `n_prompt` are the prompt. An empty vector proposes nothing.
    fn propose(
        &mut self,
        tokens: &[i32],
        n_prompt: usize,
        max_tokens: usize,
    ) -> std::result::Result<Vec<i32>, String>;

    /// A tree proposal: `(tokens, parents)` where `parents[i]` is node i's parent index
    /// (-1 for a node that follows the newest token; parents precede children). The
    /// default proposes [`propose`](Self::propose)'s chain.
    fn propose_tree(
        &mut self,
        tokens: &[i32],
        n_prompt: usize,
        max_tokens: usize,
    ) -> std::result::Result<(Vec<i32>, Vec<i32>), String> {
        let chain = self.propose(tokens, n_prompt, max_tokens)?;
        let parents = (0..chain.len() as i32).map(|i| i - 1).collect();
        Ok((chain, parents))
    }

    /// A request starts (`tokens`: the prompt and its first generated token).
    fn begin(&mut self, tokens: &[i32], n_prompt: usize) -> std::result::Result<(), String> {
        let _ = (tokens, n_prompt);
        Ok(())
    }

    /// The target kept the last proposal's nodes `path` (indices, root first) and
    /// appended `next_token`.
    fn accepted(&mut self, path: &[i32], next_token: i32) {
        let _ = (path, next_token);
    }
}

/// What a Rust drafter's C instance points to; owned by the C drafter (freed by the
/// vtable's destroy).
struct SourceState {
    source: Box<dyn DraftSource + Send>,
    failure: Option<String>,
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_string()
    }
}

/// # Safety
/// `ptr` is NULL or points to `len` readable ids.
unsafe fn ids<'s>(ptr: *const i32, len: i32) -> &'s [i32] {
    if ptr.is_null() || len <= 0 {
        &[]
    } else {
        // SAFETY: per the function's contract.
        unsafe { std::slice::from_raw_parts(ptr, len as usize) }
    }
}

unsafe extern "C" fn propose_trampoline(
    instance: *mut c_void,
    request: *const ffi::specdec_draft_request_t,
    output: *mut ffi::specdec_draft_output_t,
) -> i32 {
    if instance.is_null() || request.is_null() || output.is_null() {
        return -1;
    }
    // SAFETY: `instance` is the SourceState this drafter was created with; the library
    // calls one callback at a time per instance, on the generating thread.
    let state = unsafe { &mut *(instance as *mut SourceState) };
    if state.failure.is_some() {
        return -1; // an earlier callback of this call failed
    }
    // SAFETY: borrowed for the call, as specdec_plugin.h says.
    let (request, output) = unsafe { (&*request, &mut *output) };
    // SAFETY: `tokens` holds n_tokens ids.
    let tokens = unsafe { ids(request.tokens, request.n_tokens) };
    let max_tokens = request.max_tokens.max(0) as usize;
    let n_prompt = request.n_prompt.max(0) as usize;
    let source = &mut state.source;
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        source.propose_tree(tokens, n_prompt, max_tokens)
    }));
    let (draft, parents) = match result {
        Ok(Ok(proposal)) => proposal,
        Ok(Err(message)) => {
            state.failure = Some(format!("drafter failed: {message}"));
            return -1;
        }
        Err(payload) => {
            state.failure = Some(format!(
                "drafter panicked: {}",
                panic_text(payload.as_ref())
            ));
            return -1;
        }
    };
    if draft.len() > max_tokens {
        state.failure = Some(format!(
            "drafter proposed {} tokens, more than max_tokens = {max_tokens}",
            draft.len()
        ));
        return -1;
    }
    if parents.len() != draft.len() {
        state.failure = Some(format!(
            "drafter proposed {} tokens with {} parents",
            draft.len(),
            parents.len()
        ));
        return -1;
    }
    if !draft.is_empty() && (output.tokens.is_null() || output.parents.is_null()) {
        state.failure = Some("no output arrays to write the draft to".to_string());
        return -1;
    }
    for (i, (&token, &parent)) in draft.iter().zip(&parents).enumerate() {
        // SAFETY: the output arrays hold max_tokens >= draft.len() entries.
        unsafe {
            *output.tokens.add(i) = token;
            *output.parents.add(i) = parent;
        }
    }
    output.n_tokens = draft.len() as i32;
    output.has_probabilities = 0;
    0
}

unsafe extern "C" fn begin_trampoline(
    instance: *mut c_void,
    request: *const ffi::specdec_draft_request_t,
) -> i32 {
    if instance.is_null() || request.is_null() {
        return -1;
    }
    // SAFETY: as in propose_trampoline.
    let state = unsafe { &mut *(instance as *mut SourceState) };
    // SAFETY: borrowed for the call.
    let request = unsafe { &*request };
    // SAFETY: `tokens` holds n_tokens ids.
    let tokens = unsafe { ids(request.tokens, request.n_tokens) };
    let n_prompt = request.n_prompt.max(0) as usize;
    let source = &mut state.source;
    match panic::catch_unwind(AssertUnwindSafe(|| source.begin(tokens, n_prompt))) {
        Ok(Ok(())) => 0,
        Ok(Err(message)) => {
            state.failure = Some(format!("drafter failed to begin: {message}"));
            -1
        }
        Err(payload) => {
            state.failure = Some(format!(
                "drafter panicked in begin: {}",
                panic_text(payload.as_ref())
            ));
            -1
        }
    }
}

unsafe extern "C" fn accepted_trampoline(
    instance: *mut c_void,
    path: *const i32,
    n_path: i32,
    next_token: i32,
) {
    if instance.is_null() {
        return;
    }
    // SAFETY: as in propose_trampoline.
    let state = unsafe { &mut *(instance as *mut SourceState) };
    if state.failure.is_some() {
        return;
    }
    // SAFETY: `path` holds n_path indices.
    let path = unsafe { ids(path, n_path) };
    let source = &mut state.source;
    if let Err(payload) =
        panic::catch_unwind(AssertUnwindSafe(|| source.accepted(path, next_token)))
    {
        // Reported by the next propose (which then fails) or after the call.
        state.failure = Some(format!(
            "drafter panicked in accepted: {}",
            panic_text(payload.as_ref())
        ));
    }
}

unsafe extern "C" fn destroy_trampoline(instance: *mut c_void) {
    if !instance.is_null() {
        // SAFETY: the Box leaked by Drafter::from_box, released once (by
        // specdec_drafter_destroy). A panicking Drop must not unwind into C.
        let state = unsafe { Box::from_raw(instance as *mut SourceState) };
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(state)));
    }
}

static RUST_DRAFTER_VTABLE: ffi::specdec_drafter_vtable_t = ffi::specdec_drafter_vtable_t {
    struct_size: std::mem::size_of::<ffi::specdec_drafter_vtable_t>() as u32,
    abi_version: ffi::SPECDEC_PLUGIN_ABI_VERSION,
    propose: Some(propose_trampoline),
    begin: Some(begin_trampoline),
    accepted: Some(accepted_trampoline),
    create: None,
    destroy: Some(destroy_trampoline),
};

/// A `specdec_drafter_t`: a Rust [`DraftSource`] ([`Drafter::new`]) or a plugin
/// ([`Drafter::load_plugin`]). Pass it with [`Speculation::custom`].
///
/// `Send` but not `Sync`: a drafter serves one generate call at a time.
#[derive(Debug)]
pub struct Drafter {
    ptr: NonNull<ffi::specdec_drafter_t>,
    /// The instance of a Rust source (owned by the C drafter), for its failure message.
    state: Option<NonNull<SourceState>>,
    plugin: Option<PathBuf>,
    busy: Cell<bool>,
}

// SAFETY: the C drafter and its instance move with the Drafter; the source is Send and
// plugins are used by one session at a time, which !Sync guarantees.
unsafe impl Send for Drafter {}

impl Drafter {
    /// Wraps a Rust drafter (`specdec_drafter_create`).
    pub fn new<S: DraftSource + Send + 'static>(source: S) -> Result<Drafter> {
        Drafter::from_box(Box::new(source))
    }

    /// Wraps a boxed Rust drafter.
    pub fn from_box(source: Box<dyn DraftSource + Send>) -> Result<Drafter> {
        let state = Box::into_raw(Box::new(SourceState {
            source,
            failure: None,
        }));
        let mut out: *mut ffi::specdec_drafter_t = ptr::null_mut();
        // SAFETY: a static vtable; the instance lives until destroy_trampoline.
        let status = unsafe {
            ffi::specdec_drafter_create(&RUST_DRAFTER_VTABLE, state as *mut c_void, &mut out)
        };
        let ptr = match (check(status, None), NonNull::new(out)) {
            (Ok(()), Some(ptr)) => ptr,
            (result, _) => {
                // Not created: the library never calls destroy, so free the state here.
                // SAFETY: leaked above, not shared with anyone.
                drop(unsafe { Box::from_raw(state) });
                result?;
                return Err(Error::new(
                    ErrorCode::Internal,
                    "specdec_drafter_create returned OK without a drafter",
                ));
            }
        };
        Ok(Drafter {
            ptr,
            state: NonNull::new(state),
            plugin: None,
            busy: Cell::new(false),
        })
    }

    /// Loads a drafter plugin: a shared object exporting `specdec_plugin_entry`
    /// (`specdec_drafter_load_plugin`). `config` goes to the plugin's create.
    ///
    /// Errors: `Io` (cannot be loaded), `Format` (no entry symbol), `Unsupported` (the
    /// plugin cannot serve this ABI), `Callback` (its create failed),
    /// `InvalidArgument` (a NUL byte in `path` or `config`).
    pub fn load_plugin(path: impl AsRef<Path>, config: Option<&str>) -> Result<Drafter> {
        let path = path.as_ref();
        let c_path = cstring(path_bytes(path), "plugin path")?;
        let c_config = config
            .map(|c| cstring(c.as_bytes().to_vec(), "plugin config"))
            .transpose()?;
        let mut out: *mut ffi::specdec_drafter_t = ptr::null_mut();
        // SAFETY: NUL-terminated strings borrowed for the call.
        let status = unsafe {
            ffi::specdec_drafter_load_plugin(
                c_path.as_ptr(),
                c_config.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
                &mut out,
            )
        };
        check(status, None)?;
        let ptr = NonNull::new(out).ok_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                "specdec_drafter_load_plugin returned OK without a drafter",
            )
        })?;
        Ok(Drafter {
            ptr,
            state: None,
            plugin: Some(path.to_path_buf()),
            busy: Cell::new(false),
        })
    }

    /// The raw handle (owned by this `Drafter`).
    pub fn as_ptr(&self) -> *mut ffi::specdec_drafter_t {
        self.ptr.as_ptr()
    }

    /// The shared object a plugin drafter was loaded from.
    pub fn plugin_path(&self) -> Option<&Path> {
        self.plugin.as_deref()
    }

    /// Marks the drafter as used by one call.
    pub(crate) fn enter(&self) -> Result<()> {
        if self.busy.replace(true) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the drafter is already used by another generate call",
            ));
        }
        if let Some(state) = self.state {
            // SAFETY: the instance lives as long as the C drafter; no callback runs now.
            unsafe { (*state.as_ptr()).failure = None };
        }
        Ok(())
    }

    /// Ends the call; returns what a Rust source's callback reported, if anything.
    pub(crate) fn leave(&self) -> Option<String> {
        self.busy.set(false);
        // SAFETY: as in enter.
        self.state
            .and_then(|state| unsafe { (*state.as_ptr()).failure.take() })
    }
}

impl Drop for Drafter {
    fn drop(&mut self) {
        // SAFETY: owned handle, destroyed once; frees a Rust source's state through the
        // vtable's destroy, or unloads a plugin.
        unsafe { ffi::specdec_drafter_destroy(self.ptr.as_ptr()) }
    }
}

fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

fn cstring(bytes: Vec<u8>, what: &str) -> Result<CString> {
    CString::new(bytes).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{what} contains a NUL byte"),
        )
    })
}

/// Merges a drafter's own failure into the library's error (or reports a failure the
/// library could not see, from the void `accepted` callback).
pub(crate) fn merge_drafter_failure(
    result: Result<Vec<i32>>,
    failure: Option<String>,
) -> Result<Vec<i32>> {
    let Some(reason) = failure else {
        return result;
    };
    match result {
        Err(err) if err.code() == ErrorCode::Callback => {
            let message = if err.message().is_empty() {
                reason
            } else {
                format!("{reason} ({})", err.message())
            };
            let tokens = err.partial_tokens().to_vec();
            Err(Error::new(ErrorCode::Callback, message).with_partial_tokens(tokens))
        }
        Err(err) => Err(err),
        Ok(tokens) => Err(Error::new(ErrorCode::Callback, reason).with_partial_tokens(tokens)),
    }
}
