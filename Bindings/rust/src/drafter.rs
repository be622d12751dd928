//! Drafters ([`Drafter`]): a Rust [`DraftSource`] behind the plugin vtable, or a plugin
//! shared object.

use std::cell::Cell;
use std::os::raw::c_void;
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};

use crate::callback::catch;
use crate::convert::{borrowed, created, cstring, length, path_cstring};
use crate::error::{Error, ErrorCode, Result};
use crate::ffi;

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
    let tokens = unsafe { borrowed(request.tokens, length(request.n_tokens)) };
    let max_tokens = length(request.max_tokens);
    let n_prompt = length(request.n_prompt);
    let source = &mut state.source;
    let (draft, parents) = match catch(|| source.propose_tree(tokens, n_prompt, max_tokens)) {
        Ok(Ok(proposal)) => proposal,
        Ok(Err(message)) => {
            state.failure = Some(format!("drafter failed: {message}"));
            return -1;
        }
        Err(panic) => {
            state.failure = Some(format!("drafter panicked: {panic}"));
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
    let tokens = unsafe { borrowed(request.tokens, length(request.n_tokens)) };
    let n_prompt = length(request.n_prompt);
    let source = &mut state.source;
    match catch(|| source.begin(tokens, n_prompt)) {
        Ok(Ok(())) => 0,
        Ok(Err(message)) => {
            state.failure = Some(format!("drafter failed to begin: {message}"));
            -1
        }
        Err(panic) => {
            state.failure = Some(format!("drafter panicked in begin: {panic}"));
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
    let path = unsafe { borrowed(path, length(n_path)) };
    let source = &mut state.source;
    if let Err(panic) = catch(|| source.accepted(path, next_token)) {
        // Reported by the next propose (which then fails) or after the call.
        state.failure = Some(format!("drafter panicked in accepted: {panic}"));
    }
}

unsafe extern "C" fn destroy_trampoline(instance: *mut c_void) {
    if !instance.is_null() {
        // SAFETY: the Box leaked by Drafter::from_box, released once (by
        // specdec_drafter_destroy). A panicking Drop must not unwind into C.
        let state = unsafe { Box::from_raw(instance as *mut SourceState) };
        let _ = catch(move || drop(state));
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
/// ([`Drafter::load_plugin`]). Pass it with [`Speculation::custom`](crate::Speculation::custom).
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
        let ptr = match created(status, out, "specdec_drafter_create") {
            Ok(ptr) => ptr,
            Err(err) => {
                // Not created: the library never calls destroy, so free the state here.
                // SAFETY: leaked above, not shared with anyone.
                drop(unsafe { Box::from_raw(state) });
                return Err(err);
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
        let c_path = path_cstring(path, "plugin path")?;
        let c_config = config.map(|c| cstring(c, "plugin config")).transpose()?;
        let mut out: *mut ffi::specdec_drafter_t = ptr::null_mut();
        // SAFETY: NUL-terminated strings borrowed for the call.
        let status = unsafe {
            ffi::specdec_drafter_load_plugin(
                c_path.as_ptr(),
                c_config.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
                &mut out,
            )
        };
        let ptr = created(status, out, "specdec_drafter_load_plugin")?;
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

    /// Runs one generate call with this drafter reserved for it. What a Rust source
    /// reported wins over the call's result (the library cannot see a failure of the
    /// void `accepted` callback); `partial` gives the ids of a result that is then lost.
    pub(crate) fn serve<T>(
        &self,
        call: impl FnOnce() -> Result<T>,
        partial: impl FnOnce(T) -> Vec<i32>,
    ) -> Result<T> {
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
        let result = call();
        self.busy.set(false);
        // SAFETY: as above; the call has returned.
        let failure = self
            .state
            .and_then(|state| unsafe { (*state.as_ptr()).failure.take() });
        let Some(reason) = failure else {
            return result;
        };
        match result {
            Err(err) if err.code() == ErrorCode::Callback => Err(err.with_reason(reason)),
            Err(err) => Err(err),
            Ok(value) => {
                Err(Error::new(ErrorCode::Callback, reason).with_partial_tokens(partial(value)))
            }
        }
    }
}

impl Drop for Drafter {
    fn drop(&mut self) {
        // SAFETY: owned handle, destroyed once; frees a Rust source's state through the
        // vtable's destroy, or unloads a plugin.
        unsafe { ffi::specdec_drafter_destroy(self.ptr.as_ptr()) }
    }
}
