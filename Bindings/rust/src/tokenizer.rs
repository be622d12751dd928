//! Tokenizers (ABI 2): [`Tokenizer`], loaded from a `tokenizer.json`, a SentencePiece
//! `.model` or a model directory, taken from a [`Model`], or implemented in Rust
//! ([`TokenizerSource`]).

use std::cell::RefCell;
use std::os::raw::{c_char, c_void};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Mutex;

use crate::callback::catch;
use crate::convert::{
    borrowed, count, created, cstring, fill_counted, fill_text, last_message, length, path_cstring,
    utf8,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ffi;
use crate::model::Model;

/// Special tokens a tokenizer may define (`SPECDEC_TOKEN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialToken {
    Bos,
    Eos,
    Pad,
    Unk,
}

impl SpecialToken {
    fn raw(self) -> i32 {
        match self {
            SpecialToken::Bos => ffi::SPECDEC_TOKEN_BOS,
            SpecialToken::Eos => ffi::SPECDEC_TOKEN_EOS,
            SpecialToken::Pad => ffi::SPECDEC_TOKEN_PAD,
            SpecialToken::Unk => ffi::SPECDEC_TOKEN_UNK,
        }
    }
}

/// A tokenizer written in Rust (for example Moses plus subword-nmt), wrapped with
/// [`Tokenizer::from_source`] so that the library (text generation) can use it.
///
/// A tokenizer is shared by threads, so the methods take `&self`. Errors (`Err(message)`)
/// and panics never unwind into C: the call that needed the tokenizer fails with
/// `ErrorCode::Callback`, whose message carries yours.
pub trait TokenizerSource: Send + Sync {
    /// UTF-8 text to ids (below the vocabulary size given to `from_source`);
    /// `add_special` asks for the BOS/EOS template.
    fn encode(&self, text: &str, add_special: bool) -> std::result::Result<Vec<i32>, String>;

    /// Ids to text; `skip_special` leaves special tokens out.
    fn decode(&self, ids: &[i32], skip_special: bool) -> std::result::Result<String, String>;
}

/// What a Rust tokenizer's C instance points to; owned by the C tokenizer (freed by the
/// vtable's destroy when its last reference goes). The last result is kept for the
/// library's retry with a larger buffer.
struct HostState {
    source: Box<dyn TokenizerSource>,
    encoded: Mutex<Option<Encoded>>,
    decoded: Mutex<Option<Decoded>>,
}

/// (text, add_special) -> ids of the last encode call.
type Encoded = (Vec<u8>, bool, Vec<i32>);
/// (ids, skip_special) -> UTF-8 text of the last decode call.
type Decoded = (Vec<i32>, bool, Vec<u8>);

thread_local! {
    /// Why the last failing host tokenizer callback failed, on this thread (the library
    /// calls host tokenizers on the thread that called it).
    static HOST_FAILURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn set_failure(reason: String) -> i32 {
    HOST_FAILURE.with(|f| {
        let mut f = f.borrow_mut();
        if f.is_none() {
            *f = Some(reason);
        }
    });
    -1
}

/// Forgets the failure of an earlier call on this thread.
pub(crate) fn clear_host_failure() {
    HOST_FAILURE.with(|f| f.borrow_mut().take());
}

/// Takes what a host tokenizer reported during the last call on this thread.
pub(crate) fn take_host_failure() -> Option<String> {
    HOST_FAILURE.with(|f| f.borrow_mut().take())
}

/// The error of a failed call: a host tokenizer's failure wins (as
/// `ErrorCode::Callback`, which `specdec_plugin.h` promises for failing host callbacks),
/// else the library's status and message.
pub(crate) fn host_error(code: ErrorCode, message: String) -> Error {
    let error = Error::new(code, message);
    match take_host_failure() {
        Some(reason) => error.with_reason(reason),
        None => error,
    }
}

unsafe extern "C" fn encode_trampoline(
    instance: *mut c_void,
    text: *const c_char,
    len: usize,
    add_special: i32,
    ids: *mut i32,
    cap: i32,
    out_len: *mut i32,
) -> i32 {
    if instance.is_null() || out_len.is_null() || (text.is_null() && len > 0) {
        return set_failure("host tokenizer encode called with NULL arguments".to_string());
    }
    // SAFETY: `instance` is the HostState this tokenizer was created with, alive until
    // destroy; it is only read here (the caches are behind mutexes).
    let state = unsafe { &*(instance as *const HostState) };
    // SAFETY: the library passes `len` readable bytes.
    let bytes = unsafe { borrowed(text as *const u8, len) };
    let add = add_special != 0;
    let mut cache = state.encoded.lock().unwrap_or_else(|e| e.into_inner());
    let cached = matches!(&*cache, Some((t, a, _)) if t.as_slice() == bytes && *a == add);
    if !cached {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return set_failure("host tokenizer was given invalid UTF-8".to_string());
        };
        match catch(|| state.source.encode(text, add)) {
            Ok(Ok(result)) => *cache = Some((bytes.to_vec(), add, result)),
            Ok(Err(message)) => {
                return set_failure(format!("host tokenizer encode failed: {message}"))
            }
            Err(panic) => return set_failure(format!("host tokenizer encode panicked: {panic}")),
        }
    }
    let result = &cache.as_ref().expect("cached above").2;
    let Ok(n) = i32::try_from(result.len()) else {
        return set_failure(format!(
            "host tokenizer encode returned {} ids",
            result.len()
        ));
    };
    // SAFETY: out_len is a valid pointer for the call.
    unsafe { *out_len = n };
    if n > cap || (n > 0 && ids.is_null()) {
        return ffi::SPECDEC_ERR_BUFFER_TOO_SMALL; // the library calls again
    }
    // SAFETY: ids holds cap >= n entries.
    unsafe { ptr::copy_nonoverlapping(result.as_ptr(), ids, result.len()) };
    *cache = None;
    0
}

unsafe extern "C" fn decode_trampoline(
    instance: *mut c_void,
    ids: *const i32,
    n: i32,
    skip_special: i32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    if instance.is_null() || out_len.is_null() || (ids.is_null() && n > 0) {
        return set_failure("host tokenizer decode called with NULL arguments".to_string());
    }
    // SAFETY: as in encode_trampoline.
    let state = unsafe { &*(instance as *const HostState) };
    // SAFETY: the library passes n readable ids.
    let ids = unsafe { borrowed(ids, length(n)) };
    let skip = skip_special != 0;
    let mut cache = state.decoded.lock().unwrap_or_else(|e| e.into_inner());
    let cached = matches!(&*cache, Some((i, s, _)) if i.as_slice() == ids && *s == skip);
    if !cached {
        match catch(|| state.source.decode(ids, skip)) {
            Ok(Ok(text)) => *cache = Some((ids.to_vec(), skip, text.into_bytes())),
            Ok(Err(message)) => {
                return set_failure(format!("host tokenizer decode failed: {message}"))
            }
            Err(panic) => return set_failure(format!("host tokenizer decode panicked: {panic}")),
        }
    }
    let data = &cache.as_ref().expect("cached above").2;
    // SAFETY: out_len is a valid pointer for the call.
    unsafe { *out_len = data.len() };
    if data.len() > cap || (!data.is_empty() && buf.is_null()) {
        return ffi::SPECDEC_ERR_BUFFER_TOO_SMALL;
    }
    // SAFETY: buf holds cap >= data.len() bytes (no NUL is written: the vtable says so).
    unsafe { ptr::copy_nonoverlapping(data.as_ptr(), buf as *mut u8, data.len()) };
    *cache = None;
    0
}

unsafe extern "C" fn destroy_trampoline(instance: *mut c_void) {
    if !instance.is_null() {
        // SAFETY: the Box leaked by Tokenizer::from_box, released once (by the library,
        // when the last reference goes). A panicking Drop must not unwind into C.
        let state = unsafe { Box::from_raw(instance as *mut HostState) };
        let _ = catch(move || drop(state));
    }
}

static HOST_TOKENIZER_VTABLE: ffi::specdec_tokenizer_vtable_t = ffi::specdec_tokenizer_vtable_t {
    struct_size: std::mem::size_of::<ffi::specdec_tokenizer_vtable_t>() as u32,
    abi_version: ffi::SPECDEC_PLUGIN_ABI_VERSION,
    encode: Some(encode_trampoline),
    decode: Some(decode_trampoline),
    destroy: Some(destroy_trampoline),
};

/// A `specdec_tokenizer_t` reference: a Hugging Face `tokenizer.json` (BPE, byte-level
/// BPE, Unigram, WordPiece), a SentencePiece `.model`, Marian's files, or a Rust
/// [`TokenizerSource`]. Immutable, `Send` and `Sync`; dropping it releases the reference.
#[derive(Debug)]
pub struct Tokenizer {
    ptr: NonNull<ffi::specdec_tokenizer_t>,
}

// SAFETY: the contract says a tokenizer is immutable and shareable across threads; Rust
// sources are Send + Sync.
unsafe impl Send for Tokenizer {}
unsafe impl Sync for Tokenizer {}

impl Tokenizer {
    /// Loads a `tokenizer.json`, a SentencePiece `.model`, or a model directory
    /// (tokenizer.json, then tokenizer.model, then Marian's source.spm/target.spm +
    /// vocab.json). Errors: `Io`, `Format`, `Unsupported` (unknown model type or
    /// component).
    pub fn load(path: impl AsRef<Path>) -> Result<Tokenizer> {
        let c_path = path_cstring(path.as_ref(), "tokenizer path")?;
        let mut out: *mut ffi::specdec_tokenizer_t = ptr::null_mut();
        // SAFETY: NUL-terminated path and out-pointer valid for the call.
        let status = unsafe { ffi::specdec_tokenizer_load(c_path.as_ptr(), &mut out) };
        let ptr = created(status, out, "specdec_tokenizer_load")?;
        Ok(Tokenizer { ptr })
    }

    /// Wraps a Rust tokenizer (`specdec_tokenizer_create`); its ids must be below
    /// `vocab_size`. The source is dropped when the last reference to the C tokenizer
    /// goes.
    pub fn from_source<S: TokenizerSource + 'static>(
        source: S,
        vocab_size: i32,
    ) -> Result<Tokenizer> {
        Tokenizer::from_box(Box::new(source), vocab_size)
    }

    /// Wraps a boxed Rust tokenizer.
    pub fn from_box(source: Box<dyn TokenizerSource>, vocab_size: i32) -> Result<Tokenizer> {
        let state = Box::into_raw(Box::new(HostState {
            source,
            encoded: Mutex::new(None),
            decoded: Mutex::new(None),
        }));
        let mut out: *mut ffi::specdec_tokenizer_t = ptr::null_mut();
        // SAFETY: a static vtable; the instance lives until destroy_trampoline.
        let status = unsafe {
            ffi::specdec_tokenizer_create(
                &HOST_TOKENIZER_VTABLE,
                state as *mut c_void,
                vocab_size,
                &mut out,
            )
        };
        match created(status, out, "specdec_tokenizer_create") {
            Ok(ptr) => Ok(Tokenizer { ptr }),
            Err(err) => {
                // Not created: the library never calls destroy, so free the state here.
                // SAFETY: leaked above, not shared with anyone.
                drop(unsafe { Box::from_raw(state) });
                Err(err)
            }
        }
    }

    /// The raw handle (owned by this `Tokenizer`).
    pub fn as_ptr(&self) -> *const ffi::specdec_tokenizer_t {
        self.ptr.as_ptr()
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        // SAFETY: live tokenizer.
        length(unsafe { ffi::specdec_tokenizer_vocab_size(self.as_ptr()) })
    }

    /// Id of a special token, `None` when the tokenizer has none.
    pub fn special_token(&self, which: SpecialToken) -> Option<i32> {
        // SAFETY: live tokenizer.
        let id = unsafe { ffi::specdec_tokenizer_special_token(self.as_ptr(), which.raw()) };
        (id >= 0).then_some(id)
    }

    pub fn bos_token(&self) -> Option<i32> {
        self.special_token(SpecialToken::Bos)
    }

    pub fn eos_token(&self) -> Option<i32> {
        self.special_token(SpecialToken::Eos)
    }

    pub fn pad_token(&self) -> Option<i32> {
        self.special_token(SpecialToken::Pad)
    }

    pub fn unk_token(&self) -> Option<i32> {
        self.special_token(SpecialToken::Unk)
    }

    fn fail(&self, status: i32) -> Result<()> {
        match ErrorCode::from_status(status) {
            None => {
                take_host_failure();
                Ok(())
            }
            Some(code) => Err(host_error(code, last_message(None))),
        }
    }

    /// Text to ids (`specdec_tokenize`); `add_special` applies the tokenizer's template
    /// (BOS/EOS). `text` is UTF-8: a `&str`, or bytes (`&[u8]`), where invalid UTF-8 is
    /// `ErrorCode::InvalidUtf8`.
    pub fn encode(&self, text: impl AsRef<[u8]>, add_special: bool) -> Result<Vec<i32>> {
        let text = text.as_ref();
        let (status, ids) = fill_counted(text.len() + 16, |ids, cap, needed| {
            clear_host_failure();
            // SAFETY: live tokenizer; text holds text.len() bytes; ids holds cap ids.
            unsafe {
                ffi::specdec_tokenize(
                    self.as_ptr(),
                    text.as_ptr() as *const c_char,
                    text.len(),
                    add_special as i32,
                    ids,
                    cap,
                    needed,
                )
            }
        })?;
        self.fail(status)?;
        Ok(ids)
    }

    /// Ids to text (`specdec_detokenize`); `skip_special` leaves special tokens out. Ids
    /// outside the vocabulary are `ErrorCode::TokenOutOfRange`.
    pub fn decode(&self, ids: &[i32], skip_special: bool) -> Result<String> {
        Ok(utf8(self.decode_bytes(ids, skip_special)?))
    }

    /// Like [`decode`](Self::decode), returning the UTF-8 bytes the library wrote.
    pub fn decode_bytes(&self, ids: &[i32], skip_special: bool) -> Result<Vec<u8>> {
        let n = count(ids.len(), "n ids")?;
        let (status, bytes) = fill_text(8 * ids.len() + 64, |buf, cap, len| {
            clear_host_failure();
            // SAFETY: live tokenizer; ids holds n ids; buf holds cap bytes.
            unsafe {
                ffi::specdec_detokenize(
                    self.as_ptr(),
                    ids.as_ptr(),
                    n,
                    skip_special as i32,
                    buf,
                    cap,
                    len,
                )
            }
        });
        self.fail(status)?;
        Ok(bytes)
    }

    /// The vocabulary entry of `id` as stored ("\u{0120}the", "\u{2581}the").
    pub fn token_to_piece(&self, id: i32) -> Result<String> {
        let (status, bytes) = fill_text(64, |buf, cap, len| {
            // SAFETY: live tokenizer; buf holds cap bytes.
            unsafe { ffi::specdec_token_to_piece(self.as_ptr(), id, buf, cap, len) }
        });
        self.fail(status)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The id of a vocabulary entry; `ErrorCode::InvalidArgument` when absent.
    pub fn piece_to_token(&self, piece: &str) -> Result<i32> {
        let c_piece = cstring(piece, "piece")?;
        let mut id = -1i32;
        // SAFETY: live tokenizer, NUL-terminated piece, out-pointer valid for the call.
        let status =
            unsafe { ffi::specdec_piece_to_token(self.as_ptr(), c_piece.as_ptr(), &mut id) };
        self.fail(status)?;
        Ok(id)
    }
}

impl Drop for Tokenizer {
    fn drop(&mut self) {
        // SAFETY: owned reference, released once.
        unsafe { ffi::specdec_tokenizer_destroy(self.ptr.as_ptr()) }
    }
}

impl Model {
    /// The tokenizer found in the model's directory (`specdec_model_get_tokenizer`), as
    /// a new reference that may outlive the model. `ErrorCode::Unsupported` when the
    /// directory has none (or it failed to load: the message says why).
    pub fn tokenizer(&self) -> Result<Tokenizer> {
        let mut out: *mut ffi::specdec_tokenizer_t = ptr::null_mut();
        // SAFETY: live model, out-pointer valid for the call.
        let status = unsafe { ffi::specdec_model_get_tokenizer(self.as_ptr(), &mut out) };
        let ptr = created(status, out, "specdec_model_get_tokenizer")?;
        Ok(Tokenizer { ptr })
    }
}
