"""specdec.Model: a loaded, immutable model (thread-safe, shareable by sessions)."""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from dataclasses import dataclass
from typing import Callable, Optional, Tuple, Union

from . import _ffi
from ._handle import Handle
from ._marshal import new_handle, read_array, sized
from .errors import InvalidArgumentError, check
from .tokenizer import Tokenizer

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

ARCHITECTURE_NAMES = {
    _ffi.SPECDEC_ARCH_UNKNOWN: "unknown",
    _ffi.SPECDEC_ARCH_LLAMA: "llama",
    _ffi.SPECDEC_ARCH_GPT2: "gpt2",
    _ffi.SPECDEC_ARCH_MARIAN: "marian",
    _ffi.SPECDEC_ARCH_BART: "bart",
}

WEIGHT_PRECISIONS = {
    "auto": _ffi.SPECDEC_WEIGHTS_AUTO,
    "fp32": _ffi.SPECDEC_WEIGHTS_FP32,
    "bf16": _ffi.SPECDEC_WEIGHTS_BF16,
    "int8": _ffi.SPECDEC_WEIGHTS_INT8,
}

KERNEL_PATHS = {
    "auto": _ffi.SPECDEC_KERNELS_AUTO,
    "portable": _ffi.SPECDEC_KERNELS_PORTABLE,
    "avx2": _ffi.SPECDEC_KERNELS_AVX2,
    "avx512": _ffi.SPECDEC_KERNELS_AVX512,
    "avx512_bf16": _ffi.SPECDEC_KERNELS_AVX512_BF16,
    "amx": _ffi.SPECDEC_KERNELS_AMX,
}


def supported_kernel_paths() -> Tuple[str, ...]:
    """Names of the kernel paths this CPU and OS can run (``auto`` included)."""
    lib = _ffi.lib()
    return tuple(name for name, value in KERNEL_PATHS.items() if lib.specdec_kernel_path_supported(value))


@dataclass(frozen=True)
class ModelInfo:
    """``specdec_model_info_t`` plus the model type string.

    The ABI 2 fields describe encoder-decoder models (Marian, BART): for them
    ``is_encoder_decoder`` is True, ``vocab_size`` is the decoder's (target) vocabulary,
    ``source_vocab_size`` the ids a source may use, ``decoder_start_token_id`` the token
    decoding starts from and ``max_source_length`` the longest source. For decoder-only
    models they are False, ``vocab_size``, -1 and 0.
    """

    architecture: int
    vocab_size: int
    context_length: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    bos_token_id: int
    eos_token_id: int
    pad_token_id: int
    num_parameters: int
    model_type: str
    # ABI 2
    is_encoder_decoder: bool = False
    source_vocab_size: int = 0
    decoder_start_token_id: int = -1
    max_source_length: int = 0
    # ABI 3
    weights: str = "auto"
    kernel_path: str = "auto"
    weight_bytes: int = 0

    @property
    def architecture_name(self) -> str:
        return ARCHITECTURE_NAMES.get(self.architecture, "unknown")


def _encode_path(path: PathLike) -> bytes:
    raw = os.fsencode(path)
    if b"\0" in raw:
        raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"model path contains a NUL byte: {path!r}")
    return raw


class Model(Handle):
    """A model loaded from a Hugging Face directory (config.json + safetensors).

    Use it as a context manager, or call :meth:`close`. Closing a model first closes
    every session still open on it, so no session can outlive its model.
    """

    _noun = "model"
    # What :meth:`session` makes: specdec.Session, set by the session module, which
    # sits above this one (a model cannot import the sessions that are built on it).
    _session_type: Optional[Callable[..., object]] = None

    def __init__(self, path: PathLike, *, use_mmap: bool = True, weights: str = "auto", kernels: str = "auto"):
        """``weights``: ``auto`` (as stored), ``fp32``, ``bf16`` or ``int8``; ``kernels``:
        ``auto`` or a path name (see :func:`supported_kernel_paths`)."""
        self._ptr = None  # set last, so __del__ of a half-built object is harmless
        self._lock = threading.Lock()
        self._sessions: "weakref.WeakSet" = weakref.WeakSet()
        self.path = os.fsdecode(path)
        lib = _ffi.lib()
        params = lib.specdec_model_default_params()
        params.use_mmap = 1 if use_mmap else 0
        if weights not in WEIGHT_PRECISIONS:
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                                       f"weights={weights!r} is not one of {', '.join(WEIGHT_PRECISIONS)}")
        if kernels not in KERNEL_PATHS:
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                                       f"kernels={kernels!r} is not one of {', '.join(KERNEL_PATHS)}")
        params.weight_precision = WEIGHT_PRECISIONS[weights]
        params.kernel_path = KERNEL_PATHS[kernels]
        self._ptr = new_handle(
            _ffi.specdec_model_p, "specdec_model_load", "a model", _encode_path(path), ctypes.byref(params)
        )
        self.info = self._read_info()

    # -- lifetime ---------------------------------------------------------

    def _register(self, session) -> None:
        with self._lock:
            self._handle()
            self._sessions.add(session)

    def close(self) -> None:
        """Closes every open session on this model, then releases the model.
        Idempotent."""
        with self._lock:
            if not self._ptr:
                return
            sessions = list(self._sessions)
        for session in sessions:
            session.close()
        with self._lock:
            ptr, self._ptr = self._ptr, None
            if ptr:
                _ffi.lib().specdec_model_destroy(ptr)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.info.model_type}, vocab {self.info.vocab_size}"
        return f"<specdec.Model {self.path!r} ({state})>"

    # -- queries ----------------------------------------------------------

    def _read_info(self) -> ModelInfo:
        lib = _ffi.lib()
        ptr = self._handle()
        raw = sized(_ffi.specdec_model_info_t)
        check(lib.specdec_model_get_info(ptr, ctypes.byref(raw)))
        return ModelInfo(
            architecture=raw.architecture,
            vocab_size=raw.vocab_size,
            context_length=raw.context_length,
            hidden_size=raw.hidden_size,
            num_layers=raw.num_layers,
            num_heads=raw.num_heads,
            num_kv_heads=raw.num_kv_heads,
            bos_token_id=raw.bos_token_id,
            eos_token_id=raw.eos_token_id,
            pad_token_id=raw.pad_token_id,
            num_parameters=raw.num_parameters,
            model_type=_ffi.decode(lib.specdec_model_type(ptr)),
            is_encoder_decoder=bool(raw.is_encoder_decoder),
            source_vocab_size=raw.source_vocab_size,
            decoder_start_token_id=raw.decoder_start_token_id,
            max_source_length=raw.max_source_length,
            weights={v: k for k, v in WEIGHT_PRECISIONS.items()}.get(raw.weight_precision, "unknown"),
            kernel_path=_ffi.decode(lib.specdec_kernel_path_name(raw.kernel_path)),
            weight_bytes=raw.weight_bytes,
        )

    @property
    def vocab_size(self) -> int:
        return _ffi.lib().specdec_model_vocab_size(self._handle())

    @property
    def context_length(self) -> int:
        return _ffi.lib().specdec_model_context_length(self._handle())

    @property
    def bos_token(self) -> int:
        """BOS id, or -1 when the model has none."""
        return _ffi.lib().specdec_model_bos_token(self._handle())

    @property
    def eos_token(self) -> int:
        """First EOS id, or -1 when the model has none."""
        return _ffi.lib().specdec_model_eos_token(self._handle())

    @property
    def eos_tokens(self) -> Tuple[int, ...]:
        """Every EOS id of the model (config.json may list several)."""
        lib = _ffi.lib()
        ptr = self._handle()
        code, ids = read_array(ctypes.c_int32, lambda buf, cap, n: lib.specdec_model_eos_tokens(ptr, buf, cap, n), 8)
        check(code)
        return tuple(ids)

    @property
    def model_type(self) -> str:
        """Architecture name from config.json ("llama", "gpt2", ...)."""
        return _ffi.decode(_ffi.lib().specdec_model_type(self._handle()))

    @property
    def is_encoder_decoder(self) -> bool:
        """True for Marian/BART models: use :meth:`Session.translate` and
        :meth:`Session.beam_search` instead of :meth:`Session.generate`."""
        return self.info.is_encoder_decoder

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer found in the model's directory (``specdec_model_get_tokenizer``),
        as a new :class:`specdec.Tokenizer` reference (it may outlive the model).

        Raises :class:`UnsupportedError` when the directory has none (or it failed to
        load: the message says why)."""
        return Tokenizer._from_model(self)

    def session(self, **kwargs):
        """Shorthand for ``specdec.Session(self, **kwargs)``."""
        return Model._session_type(self, **kwargs)
