//! `Model`: a loaded, immutable model, shareable across threads and sessions.

use std::path::Path;
use std::ptr::{self, NonNull};

use crate::convert::{c_str, check, created, fill_counted, length, path_cstring, SizedDefault};
use crate::error::Result;
use crate::ffi;

/// Model architecture (`SPECDEC_ARCH_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Architecture {
    Unknown,
    /// Llama, Mistral, Qwen2.
    Llama,
    Gpt2,
    /// Marian / fairseq transformer (encoder-decoder, ABI 2).
    Marian,
    /// BART (encoder-decoder, ABI 2).
    Bart,
    /// A value this version of the bindings does not know.
    Other(i32),
}

impl Architecture {
    pub fn from_raw(value: i32) -> Architecture {
        match value {
            ffi::SPECDEC_ARCH_UNKNOWN => Architecture::Unknown,
            ffi::SPECDEC_ARCH_LLAMA => Architecture::Llama,
            ffi::SPECDEC_ARCH_GPT2 => Architecture::Gpt2,
            ffi::SPECDEC_ARCH_MARIAN => Architecture::Marian,
            ffi::SPECDEC_ARCH_BART => Architecture::Bart,
            other => Architecture::Other(other),
        }
    }
}

/// `specdec_model_info_t`, with ids that may be absent as `Option`.
///
/// For encoder-decoder models (Marian, BART) `vocab_size` is the decoder's (target)
/// vocabulary, `source_vocab_size` the ids a source may use, `decoder_start_token_id`
/// the token decoding starts from and `max_source_length` the longest source. For
/// decoder-only models they are `false`, `vocab_size`, `None` and 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub architecture: Architecture,
    pub vocab_size: i32,
    pub context_length: i32,
    pub hidden_size: i32,
    pub num_layers: i32,
    pub num_heads: i32,
    pub num_kv_heads: i32,
    pub bos_token_id: Option<i32>,
    pub eos_token_id: Option<i32>,
    pub pad_token_id: Option<i32>,
    pub num_parameters: i64,
    /// ABI 2: Marian/BART; generate with `Session::translate` / `Session::beam_search`.
    pub is_encoder_decoder: bool,
    /// ABI 2: ids a source may use (`vocab_size` for decoder-only models).
    pub source_vocab_size: i32,
    /// ABI 2: the token decoding starts from (encoder-decoder models).
    pub decoder_start_token_id: Option<i32>,
    /// ABI 2: the longest source (0 for decoder-only models).
    pub max_source_length: i32,
    /// ABI 3: the precision projection weights were loaded in.
    pub weights: WeightPrecision,
    /// ABI 3: the kernel path in use (never `Auto`).
    pub kernel_path: KernelPath,
    /// ABI 3: bytes of projection weights one full pass streams.
    pub weight_bytes: i64,
}

/// `SPECDEC_WEIGHTS_*`: the precision projection weights are computed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightPrecision {
    /// As stored: fp32 stays fp32, fp16/bf16 are used in 16 bits with fp32 activations.
    #[default]
    Auto,
    Fp32,
    /// bf16 weights and activations, fp32 sums.
    Bf16,
    /// int8 weights (per-row scales), activations quantised per row.
    Int8,
}

impl WeightPrecision {
    fn raw(self) -> i32 {
        match self {
            WeightPrecision::Auto => ffi::SPECDEC_WEIGHTS_AUTO,
            WeightPrecision::Fp32 => ffi::SPECDEC_WEIGHTS_FP32,
            WeightPrecision::Bf16 => ffi::SPECDEC_WEIGHTS_BF16,
            WeightPrecision::Int8 => ffi::SPECDEC_WEIGHTS_INT8,
        }
    }

    fn from_raw(value: i32) -> WeightPrecision {
        match value {
            ffi::SPECDEC_WEIGHTS_FP32 => WeightPrecision::Fp32,
            ffi::SPECDEC_WEIGHTS_BF16 => WeightPrecision::Bf16,
            ffi::SPECDEC_WEIGHTS_INT8 => WeightPrecision::Int8,
            _ => WeightPrecision::Auto,
        }
    }
}

/// `SPECDEC_KERNELS_*`: the instruction path of the compact-weight kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KernelPath {
    /// `SPECDEC_KERNEL_PATH` when set, else the fastest the CPU allows.
    #[default]
    Auto,
    Portable,
    Avx2,
    Avx512,
    Avx512Bf16,
    Amx,
}

impl KernelPath {
    pub const ALL: [KernelPath; 6] = [
        KernelPath::Auto,
        KernelPath::Portable,
        KernelPath::Avx2,
        KernelPath::Avx512,
        KernelPath::Avx512Bf16,
        KernelPath::Amx,
    ];

    fn raw(self) -> i32 {
        match self {
            KernelPath::Auto => ffi::SPECDEC_KERNELS_AUTO,
            KernelPath::Portable => ffi::SPECDEC_KERNELS_PORTABLE,
            KernelPath::Avx2 => ffi::SPECDEC_KERNELS_AVX2,
            KernelPath::Avx512 => ffi::SPECDEC_KERNELS_AVX512,
            KernelPath::Avx512Bf16 => ffi::SPECDEC_KERNELS_AVX512_BF16,
            KernelPath::Amx => ffi::SPECDEC_KERNELS_AMX,
        }
    }

    fn from_raw(value: i32) -> KernelPath {
        KernelPath::ALL
            .into_iter()
            .find(|p| p.raw() == value)
            .unwrap_or(KernelPath::Auto)
    }

    /// The library's name for the path ("avx512_bf16", ...).
    pub fn name(self) -> &'static str {
        // SAFETY: returns static NUL-terminated text for any value.
        let text = unsafe { std::ffi::CStr::from_ptr(ffi::specdec_kernel_path_name(self.raw())) };
        text.to_str().unwrap_or("unknown")
    }

    /// Whether this CPU and OS can run the path.
    pub fn is_supported(self) -> bool {
        // SAFETY: pure query.
        unsafe { ffi::specdec_kernel_path_supported(self.raw()) != 0 }
    }
}

fn id(value: i32) -> Option<i32> {
    (value >= 0).then_some(value)
}

/// Options of [`Model::load_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelParams {
    /// Map weight files (default) or read them into memory.
    pub use_mmap: bool,
    /// ABI 3: the precision of projection weights.
    pub weights: WeightPrecision,
    /// ABI 3: force a kernel path (`Auto` by default).
    pub kernels: KernelPath,
}

impl Default for ModelParams {
    fn default() -> Self {
        let raw = ffi::specdec_model_params_t::sized_default();
        ModelParams {
            use_mmap: raw.use_mmap != 0,
            weights: WeightPrecision::from_raw(raw.weight_precision),
            kernels: KernelPath::from_raw(raw.kernel_path),
        }
    }
}

/// A model loaded from a Hugging Face directory (config.json + safetensors).
///
/// Sessions borrow the model, so the compiler guarantees it outlives them.
#[derive(Debug)]
pub struct Model {
    ptr: NonNull<ffi::specdec_model_t>,
}

// SAFETY: the contract says a loaded model is immutable and may be shared by any
// number of threads and sessions.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Loads a model with default parameters.
    pub fn load(dir: impl AsRef<Path>) -> Result<Model> {
        Model::load_with(dir, ModelParams::default())
    }

    /// Loads a model.
    pub fn load_with(dir: impl AsRef<Path>, params: ModelParams) -> Result<Model> {
        let c_dir = path_cstring(dir.as_ref(), "model path")?;
        let raw = ffi::specdec_model_params_t {
            use_mmap: params.use_mmap as i32,
            weight_precision: params.weights.raw(),
            kernel_path: params.kernels.raw(),
            ..ffi::specdec_model_params_t::sized_default()
        };
        let mut out: *mut ffi::specdec_model_t = ptr::null_mut();
        // SAFETY: valid NUL-terminated path, params and out-pointer for the call.
        let status = unsafe { ffi::specdec_model_load(c_dir.as_ptr(), &raw, &mut out) };
        let ptr = created(status, out, "specdec_model_load")?;
        Ok(Model { ptr })
    }

    /// The raw handle (owned by this `Model`).
    pub fn as_ptr(&self) -> *const ffi::specdec_model_t {
        self.ptr.as_ptr()
    }

    /// `specdec_model_get_info`.
    pub fn info(&self) -> ModelInfo {
        let mut raw = ffi::specdec_model_info_t::sized_default();
        // SAFETY: live model, out-struct with its size set. Cannot fail for a live model.
        let status = unsafe { ffi::specdec_model_get_info(self.as_ptr(), &mut raw) };
        debug_assert_eq!(status, ffi::SPECDEC_OK);
        ModelInfo {
            architecture: Architecture::from_raw(raw.architecture),
            vocab_size: raw.vocab_size,
            context_length: raw.context_length,
            hidden_size: raw.hidden_size,
            num_layers: raw.num_layers,
            num_heads: raw.num_heads,
            num_kv_heads: raw.num_kv_heads,
            bos_token_id: id(raw.bos_token_id),
            eos_token_id: id(raw.eos_token_id),
            pad_token_id: id(raw.pad_token_id),
            num_parameters: raw.num_parameters,
            is_encoder_decoder: raw.is_encoder_decoder != 0,
            source_vocab_size: raw.source_vocab_size,
            decoder_start_token_id: id(raw.decoder_start_token_id),
            max_source_length: raw.max_source_length,
            weights: WeightPrecision::from_raw(raw.weight_precision),
            kernel_path: KernelPath::from_raw(raw.kernel_path),
            weight_bytes: raw.weight_bytes,
        }
    }

    pub fn vocab_size(&self) -> usize {
        // SAFETY: live model.
        length(unsafe { ffi::specdec_model_vocab_size(self.as_ptr()) })
    }

    pub fn context_length(&self) -> usize {
        // SAFETY: live model.
        length(unsafe { ffi::specdec_model_context_length(self.as_ptr()) })
    }

    pub fn bos_token(&self) -> Option<i32> {
        // SAFETY: live model.
        id(unsafe { ffi::specdec_model_bos_token(self.as_ptr()) })
    }

    /// The first EOS id.
    pub fn eos_token(&self) -> Option<i32> {
        // SAFETY: live model.
        id(unsafe { ffi::specdec_model_eos_token(self.as_ptr()) })
    }

    /// Every EOS id of the model (config.json may list several).
    pub fn eos_tokens(&self) -> Result<Vec<i32>> {
        let (status, ids) = fill_counted(8, |buf, cap, needed| {
            // SAFETY: live model; buf holds cap ids.
            unsafe { ffi::specdec_model_eos_tokens(self.as_ptr(), buf, cap, needed) }
        })?;
        check(status, None)?;
        Ok(ids)
    }

    /// Architecture name from config.json ("llama", "mistral", "qwen2", "gpt2").
    pub fn model_type(&self) -> String {
        // SAFETY: live model; the string is owned by it.
        c_str(unsafe { ffi::specdec_model_type(self.as_ptr()) })
    }

    /// Whether this is an encoder-decoder model (Marian, BART).
    pub fn is_encoder_decoder(&self) -> bool {
        self.info().is_encoder_decoder
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: owned handle; every Session borrowing it has been dropped.
        unsafe { ffi::specdec_model_destroy(self.ptr.as_ptr()) }
    }
}
