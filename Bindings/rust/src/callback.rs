//! Rust closures behind C callbacks. A panic must never unwind into C, so every
//! callback runs under `catch_unwind` and reports failure with its return value; the
//! reason is kept on the Rust side and put in the `ErrorCode::Callback` error.

use std::any::Any;
use std::os::raw::c_void;
use std::panic::{self, AssertUnwindSafe};

use crate::error::{ErrorCode, Result};
use crate::ffi;

/// What a streaming callback tells the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// Go on generating.
    Continue,
    /// End generation normally; the current token is kept.
    Stop,
    /// Report a failure: generation ends with `ErrorCode::Callback`.
    Abort,
}

impl From<bool> for Control {
    /// `true` stops, `false` continues.
    fn from(stop: bool) -> Control {
        if stop {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Runs `f`; a panic becomes `Err` with its message.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_text(payload.as_ref()))
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

/// Why a streaming closure ended generation with a failure.
enum Failure {
    Panicked(String),
    Aborted,
}

/// A streaming closure, passed to C as the callback's `user_data`.
pub(crate) struct Streaming<F> {
    f: F,
    failure: Option<Failure>,
}

impl<F> Streaming<F> {
    pub(crate) fn new(f: F) -> Self {
        Streaming { f, failure: None }
    }

    /// The `user_data` for the C callback; valid while `self` is neither moved nor
    /// dropped.
    pub(crate) fn user_data(&mut self) -> *mut c_void {
        self as *mut Self as *mut c_void
    }

    /// Runs the closure for the C callback and returns the callback's status: continue,
    /// stop, or failure (an abort or a panic, remembered for [`finish`](Self::finish)).
    ///
    /// # Safety
    /// `user_data` comes from [`user_data`](Self::user_data) of a live `Streaming<F>`,
    /// called on the thread that owns it.
    pub(crate) unsafe fn call(user_data: *mut c_void, run: impl FnOnce(&mut F) -> Control) -> i32 {
        // SAFETY: per the function's contract.
        let state = unsafe { &mut *(user_data as *mut Self) };
        let f = &mut state.f;
        match catch(|| run(f)) {
            Ok(Control::Continue) => ffi::SPECDEC_CALLBACK_CONTINUE,
            Ok(Control::Stop) => ffi::SPECDEC_CALLBACK_STOP,
            Ok(Control::Abort) => {
                state.failure = Some(Failure::Aborted);
                -1
            }
            Err(panic) => {
                state.failure = Some(Failure::Panicked(panic));
                -1
            }
        }
    }

    /// The call's result, with the closure's abort or panic (`name` says which
    /// callback) as the reason of its `ErrorCode::Callback`.
    pub(crate) fn finish<T>(self, result: Result<T>, name: &str) -> Result<T> {
        match (result, self.failure) {
            (Err(err), Some(failure)) if err.code() == ErrorCode::Callback => {
                Err(err.with_reason(match failure {
                    Failure::Panicked(panic) => format!("{name} panicked: {panic}"),
                    Failure::Aborted => format!("{name} returned Control::Abort"),
                }))
            }
            (result, _) => result,
        }
    }
}

/// The C token callback (`specdec_token_callback`) of a [`Streaming`] closure.
pub(crate) unsafe extern "C" fn token_callback<F>(
    user_data: *mut c_void,
    token: i32,
    index: i32,
) -> i32
where
    F: FnMut(i32, i32) -> Control,
{
    // SAFETY: user_data is the Streaming<F> of the generate call running on this thread.
    unsafe { Streaming::<F>::call(user_data, |f| f(token, index)) }
}
