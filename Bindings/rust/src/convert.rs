//! Argument conversion shared by every wrapper: Rust values to C (strings, paths,
//! counts, slices, params structs) and C results back (strings, borrowed arrays,
//! caller buffers the library fills, handles, statuses).

use std::ffi::{CStr, CString};
use std::mem::size_of;
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{Error, ErrorCode, Result};
use crate::ffi;

// ---------------------------------------------------------------------------
// Structs with `struct_size`
// ---------------------------------------------------------------------------

/// A struct passed to the library with `struct_size` set to this header's size.
pub(crate) trait SizedDefault {
    /// Params structs: the library's defaults. Out-structs: zeroes.
    fn sized_default() -> Self;
}

macro_rules! library_defaults {
    ($($raw:ident = $defaults:ident;)*) => {
        $(impl SizedDefault for ffi::$raw {
            fn sized_default() -> Self {
                // SAFETY: the *_default_params functions cannot fail.
                let mut raw = unsafe { ffi::$defaults() };
                raw.struct_size = size_of::<Self>() as u32;
                raw
            }
        })*
    };
}

library_defaults! {
    specdec_model_params_t = specdec_model_default_params;
    specdec_session_params_t = specdec_session_default_params;
    specdec_generate_params_t = specdec_generate_default_params;
    specdec_speculative_params_t = specdec_speculative_default_params;
    specdec_beam_params_t = specdec_beam_default_params;
    specdec_text_params_t = specdec_text_default_params;
    specdec_batch_params_t = specdec_batch_default_params;
}

macro_rules! zeroed_out_structs {
    ($($raw:ident;)*) => {
        $(impl SizedDefault for ffi::$raw {
            fn sized_default() -> Self {
                ffi::$raw {
                    struct_size: size_of::<Self>() as u32,
                    ..Default::default()
                }
            }
        })*
    };
}

zeroed_out_structs! {
    specdec_model_info_t;
    specdec_stats_t;
}

// ---------------------------------------------------------------------------
// Strings and paths
// ---------------------------------------------------------------------------

/// Copies a library-owned C string ("" for NULL).
pub(crate) fn c_str(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: the library returns NUL-terminated strings valid until its next call.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// A C string of `bytes`; `InvalidArgument` naming `what` when they hold a NUL.
pub(crate) fn cstring(bytes: impl Into<Vec<u8>>, what: &str) -> Result<CString> {
    CString::new(bytes).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{what} contains a NUL byte"),
        )
    })
}

/// A C string of a path's bytes (on Unix any bytes but NUL, not only UTF-8).
pub(crate) fn path_cstring(path: &Path, what: &str) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().into_owned().into_bytes();
    CString::new(bytes).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{what} contains a NUL byte: {}", path.display()),
        )
    })
}

/// Decoded UTF-8, invalid sequences replaced.
pub(crate) fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

// ---------------------------------------------------------------------------
// Counts and arrays
// ---------------------------------------------------------------------------

/// A length as the C API's `int32_t` count.
pub(crate) fn count(n: usize, what: &str) -> Result<i32> {
    i32::try_from(n).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{what}: {n} does not fit in int32"),
        )
    })
}

/// A count the library reported, as a length (negative counts are empty).
pub(crate) fn length(n: i32) -> usize {
    n.max(0) as usize
}

/// The slice's data, or NULL for an empty slice (optional arrays of the API).
pub(crate) fn ptr_or_null<T>(items: &[T]) -> *const T {
    if items.is_empty() {
        ptr::null()
    } else {
        items.as_ptr()
    }
}

/// A C array borrowed as a slice (empty for NULL).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable elements that outlive `'a`.
pub(crate) unsafe fn borrowed<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: per the function's contract.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

// ---------------------------------------------------------------------------
// Caller buffers (SPECDEC_ERR_BUFFER_TOO_SMALL reports the size needed)
// ---------------------------------------------------------------------------

/// Calls `fill(buf, cap, &mut needed)` with `initial` elements, and again with the
/// count the library asked for while it answers SPECDEC_ERR_BUFFER_TOO_SMALL. Returns
/// the last status and the elements written.
pub(crate) fn fill_counted<T: Copy + Default>(
    initial: usize,
    mut fill: impl FnMut(*mut T, i32, &mut i32) -> i32,
) -> Result<(i32, Vec<T>)> {
    let mut buf = vec![T::default(); initial.max(1)];
    loop {
        let mut needed = 0i32;
        let status = fill(buf.as_mut_ptr(), count(buf.len(), "cap")?, &mut needed);
        if status == ffi::SPECDEC_ERR_BUFFER_TOO_SMALL && length(needed) > buf.len() {
            buf.resize(length(needed), T::default());
            continue;
        }
        buf.truncate(length(needed).min(buf.len()));
        return Ok((status, buf));
    }
}

/// [`fill_counted`] for text: `fill(buf, cap, &mut len)` with `cap` bytes, where the
/// library NUL-terminates when room allows, so `len` bytes are asked for with
/// `len + 1`. Returns the last status and the text's bytes (empty on failure).
pub(crate) fn fill_text(
    initial: usize,
    mut fill: impl FnMut(*mut c_char, usize, &mut usize) -> i32,
) -> (i32, Vec<u8>) {
    let mut buf = vec![0u8; initial.max(1)];
    loop {
        let mut len = 0usize;
        let status = fill(buf.as_mut_ptr() as *mut c_char, buf.len(), &mut len);
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

// ---------------------------------------------------------------------------
// Statuses and handles
// ---------------------------------------------------------------------------

/// `Ok(())` for SPECDEC_OK, else an Error whose message is the session's own (when
/// `session` is given and its message is non-empty) or the thread's last message.
pub(crate) fn check(status: i32, session: Option<*const ffi::specdec_session_t>) -> Result<()> {
    match ErrorCode::from_status(status) {
        None => Ok(()),
        Some(code) => Err(Error::new(code, last_message(session))),
    }
}

/// The session's failure message, else the calling thread's.
pub(crate) fn last_message(session: Option<*const ffi::specdec_session_t>) -> String {
    let mut message = String::new();
    if let Some(s) = session {
        // SAFETY: `s` is a live session owned by the caller.
        message = c_str(unsafe { ffi::specdec_session_error_message(s) });
    }
    if message.is_empty() {
        // SAFETY: no arguments; thread-local message owned by the library.
        message = c_str(unsafe { ffi::specdec_last_error_message() });
    }
    message
}

/// The handle a constructor (`call`) wrote to its out-pointer, once its status is OK.
pub(crate) fn created<T>(status: i32, out: *mut T, call: &str) -> Result<NonNull<T>> {
    check(status, None)?;
    NonNull::new(out).ok_or_else(|| {
        Error::new(
            ErrorCode::Internal,
            format!("{call} returned OK without a handle"),
        )
    })
}
