//! Safe Rust bindings for libspecdec, a speculative-decoding engine embedded through
//! the stable C ABI of `include/specdec.h` (and `include/specdec_plugin.h`).
//!
//! ```no_run
//! use specdec::{Control, GenerateOptions, Model, Session, SessionParams, Speculation};
//!
//! let model = Model::load("Tests/Fixtures/decoder/llama_f32")?;
//! let mut session = Session::new(&model, &SessionParams::new().n_threads(2))?;
//! let ids = session.generate_streaming(&[1, 2, 3], &GenerateOptions::greedy(16), |token, index| {
//!     println!("{index}: {token}");
//!     Control::Continue
//! })?;
//! println!("{ids:?} {:?}", session.stats()?);
//!
//! // Speculative decoding: built-in drafters, a draft model, or a Rust drafter.
//! let ids = session.generate_speculative(&[1, 2, 3, 1, 2], &GenerateOptions::greedy(16),
//!                                        &Speculation::ngram().draft_length(4))?;
//! println!("accepted {}", session.stats()?.accepted_tokens);
//!
//! // Text in, text out (ABI 2), with the model's tokenizer or a `Tokenizer`.
//! let tok = specdec::Tokenizer::load("path/to/tokenizer.json")?;
//! let text = session.generate_text_streaming("Once upon a time", &GenerateOptions::greedy(32),
//!                                            &specdec::TextOptions::new().tokenizer(&tok),
//!                                            |piece| { print!("{piece}"); Control::Continue })?;
//!
//! // Encoder-decoder models (Marian, BART): translation and beam search.
//! let mt = Model::load("Tests/Fixtures/seq2seq/marian_f32")?;
//! let mut s2s = Session::new(&mt, &SessionParams::new())?;
//! let ids = s2s.translate(&[27, 251, 121, 7, 0], &[], &GenerateOptions::new().max_new_tokens(24))?;
//! for hyp in s2s.beam_search(&[27, 251, 121, 7, 0], &specdec::BeamOptions::new().beams(4).num_return(2))? {
//!     println!("{:?} {} {}", hyp.tokens, hyp.score, hyp.ended_with_eos);
//! }
//! # Ok::<(), specdec::Error>(())
//! ```
//!
//! The library is linked by `build.rs` from `$SPECDEC_LIB_DIR`, an installed copy that
//! pkg-config knows (`specdec.pc`), or the repository's `dist/lib`; see there.

// The layers, lowest first: each module uses only the ones before it (checked by
// tests/layering.rs).
pub mod ffi;
// Error and ErrorCode.
mod error;
// Argument conversion shared by the wrappers: strings, counts, buffers, statuses.
mod convert;
// Rust closures behind C callbacks; Control.
mod callback;
// GenerateOptions and Stats.
mod generate;
// Model, its params and info.
mod model;
// Tokenizer and Rust TokenizerSources; Model::tokenizer.
mod tokenizer;
// Drafter and Rust DraftSources.
mod drafter;
// Session: KV cache, eval, plain generation; Model::session.
mod session;
// Speculation and Session::generate_speculative.
mod speculative;
// Encoder-decoder sessions: translate, beam search.
mod seq2seq;
// Text in, text out: Session::generate_text.
mod batch;
mod text;

pub use batch::{BatchOptions, BatchSequence};
pub use callback::Control;
pub use drafter::{DraftSource, Drafter};
pub use error::{Error, ErrorCode, Result, SpecDecError};
pub use generate::{GenerateOptions, Stats, StopReason};
pub use model::{Architecture, KernelPath, Model, ModelInfo, ModelParams, WeightPrecision};
pub use seq2seq::{BeamOptions, EarlyStopping, Hypothesis};
pub use session::{ArenaBackend, Logits, Session, SessionParams};
pub use speculative::{Acceptance, DrafterKind, Speculation};
pub use text::TextOptions;
pub use tokenizer::{SpecialToken, Tokenizer, TokenizerSource};

/// Version of the header these bindings mirror.
pub const VERSION_STRING: &str = ffi::SPECDEC_VERSION_STRING;
/// `SPECDEC_VERSION_NUMBER` of the header these bindings mirror.
pub const VERSION_NUMBER: u32 = ffi::SPECDEC_VERSION_NUMBER;
/// `SPECDEC_ABI_VERSION` of the header these bindings mirror.
pub const ABI_VERSION: u32 = ffi::SPECDEC_ABI_VERSION;

/// Runtime `specdec_version_number()` of the linked library.
pub fn version_number() -> u32 {
    // SAFETY: thread-safe, cannot fail.
    unsafe { ffi::specdec_version_number() }
}

/// Runtime `specdec_version_string()` of the linked library.
pub fn version_string() -> String {
    // SAFETY: thread-safe, static string.
    convert::c_str(unsafe { ffi::specdec_version_string() })
}

/// Runtime `specdec_abi_version()` of the linked library.
pub fn abi_version() -> u32 {
    // SAFETY: thread-safe, cannot fail.
    unsafe { ffi::specdec_abi_version() }
}

/// `specdec_status_string(status)`: static text for a status code.
pub fn status_string(status: i32) -> String {
    // SAFETY: thread-safe, never NULL.
    convert::c_str(unsafe { ffi::specdec_status_string(status) })
}

/// The calling thread's last error message (`specdec_last_error_message`).
pub fn last_error_message() -> String {
    convert::last_message(None)
}
