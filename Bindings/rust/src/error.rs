//! Errors: a status code of specdec.h plus the library's detailed message.

use std::ffi::CStr;
use std::fmt;

use crate::ffi;

/// The failure codes of `specdec_status` (every value except `SPECDEC_OK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidArgument,
    Io,
    Format,
    Unsupported,
    Shape,
    TokenOutOfRange,
    BufferTooSmall,
    Capacity,
    OutOfMemory,
    Cancelled,
    Callback,
    Internal,
    /// Text input that is not valid UTF-8 (ABI 2).
    InvalidUtf8,
    /// A code this version of the bindings does not know.
    Unknown(i32),
}

impl ErrorCode {
    /// The code for a status, or `None` for `SPECDEC_OK`.
    pub fn from_status(status: i32) -> Option<ErrorCode> {
        Some(match status {
            ffi::SPECDEC_OK => return None,
            ffi::SPECDEC_ERR_INVALID_ARGUMENT => ErrorCode::InvalidArgument,
            ffi::SPECDEC_ERR_IO => ErrorCode::Io,
            ffi::SPECDEC_ERR_FORMAT => ErrorCode::Format,
            ffi::SPECDEC_ERR_UNSUPPORTED => ErrorCode::Unsupported,
            ffi::SPECDEC_ERR_SHAPE => ErrorCode::Shape,
            ffi::SPECDEC_ERR_TOKEN_OUT_OF_RANGE => ErrorCode::TokenOutOfRange,
            ffi::SPECDEC_ERR_BUFFER_TOO_SMALL => ErrorCode::BufferTooSmall,
            ffi::SPECDEC_ERR_CAPACITY => ErrorCode::Capacity,
            ffi::SPECDEC_ERR_OUT_OF_MEMORY => ErrorCode::OutOfMemory,
            ffi::SPECDEC_ERR_CANCELLED => ErrorCode::Cancelled,
            ffi::SPECDEC_ERR_CALLBACK => ErrorCode::Callback,
            ffi::SPECDEC_ERR_INTERNAL => ErrorCode::Internal,
            ffi::SPECDEC_ERR_INVALID_UTF8 => ErrorCode::InvalidUtf8,
            other => ErrorCode::Unknown(other),
        })
    }

    /// The `specdec_status` value.
    pub fn status(self) -> i32 {
        match self {
            ErrorCode::InvalidArgument => ffi::SPECDEC_ERR_INVALID_ARGUMENT,
            ErrorCode::Io => ffi::SPECDEC_ERR_IO,
            ErrorCode::Format => ffi::SPECDEC_ERR_FORMAT,
            ErrorCode::Unsupported => ffi::SPECDEC_ERR_UNSUPPORTED,
            ErrorCode::Shape => ffi::SPECDEC_ERR_SHAPE,
            ErrorCode::TokenOutOfRange => ffi::SPECDEC_ERR_TOKEN_OUT_OF_RANGE,
            ErrorCode::BufferTooSmall => ffi::SPECDEC_ERR_BUFFER_TOO_SMALL,
            ErrorCode::Capacity => ffi::SPECDEC_ERR_CAPACITY,
            ErrorCode::OutOfMemory => ffi::SPECDEC_ERR_OUT_OF_MEMORY,
            ErrorCode::Cancelled => ffi::SPECDEC_ERR_CANCELLED,
            ErrorCode::Callback => ffi::SPECDEC_ERR_CALLBACK,
            ErrorCode::Internal => ffi::SPECDEC_ERR_INTERNAL,
            ErrorCode::InvalidUtf8 => ffi::SPECDEC_ERR_INVALID_UTF8,
            ErrorCode::Unknown(code) => code,
        }
    }
}

/// A failed libspecdec call: the status code, the library's static text for it and
/// the detailed message (`specdec_session_error_message` / `specdec_last_error_message`).
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    partial_tokens: Vec<i32>,
}

/// The name used in the docs of the C API and the other bindings.
pub type SpecDecError = Error;

/// `Result<T, specdec::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with a message of the bindings' own (no library call involved).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            partial_tokens: Vec::new(),
        }
    }

    pub(crate) fn with_partial_tokens(mut self, tokens: Vec<i32>) -> Error {
        self.partial_tokens = tokens;
        self
    }

    /// `ErrorCode::Callback` with a host callback's own reason in front of the
    /// library's message (the library only knows that the callback failed), keeping
    /// the partial tokens.
    pub(crate) fn with_reason(self, reason: String) -> Error {
        let message = if self.message.is_empty() {
            reason
        } else {
            format!("{reason} ({})", self.message)
        };
        Error {
            code: ErrorCode::Callback,
            message,
            partial_tokens: self.partial_tokens,
        }
    }

    /// The failure code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The raw `specdec_status` value.
    pub fn status(&self) -> i32 {
        self.code.status()
    }

    /// `specdec_status_string` of the code.
    pub fn status_string(&self) -> String {
        // SAFETY: thread-safe; a static NUL-terminated string, never NULL.
        let text = unsafe { CStr::from_ptr(ffi::specdec_status_string(self.status())) };
        text.to_string_lossy().into_owned()
    }

    /// The detailed message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For `ErrorCode::Callback` from generation: the ids generated before the
    /// failure (the token passed to the failing callback included). Empty otherwise.
    pub fn partial_tokens(&self) -> &[i32] {
        &self.partial_tokens
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (status {})", self.status_string(), self.status())?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
