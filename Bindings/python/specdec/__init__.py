"""Python bindings for libspecdec (ctypes over the stable C ABI of include/specdec.h).

    import specdec

    with specdec.Model("path/to/hf-model") as model:
        with specdec.Session(model) as session:
            ids = session.generate([1, 403, 407], max_new_tokens=32,
                                   on_token=lambda tok, i: print(tok, flush=True))
            print(session.stats)

            # Speculative decoding: built-in drafters ("ngram", "suffix", "model" with
            # draft_model=...), a specdec.Drafter subclass, or a plugin.
            ids = session.generate([1, 403, 407] * 2, max_new_tokens=32, drafter="ngram")
            print(session.stats.accepted_tokens, session.stats.acceptance_by_depth)

            # Text in, text out, with the model's tokenizer (ABI 2).
            text = session.generate_text("Once upon a time", max_new_tokens=32,
                                         on_text=lambda piece: print(piece, end=""))

    # Encoder-decoder models (Marian, BART): translate and beam search.
    with specdec.Model("Tests/Fixtures/seq2seq/marian_f32") as mt, specdec.Session(mt) as s:
        ids = s.translate([27, 251, 121, 7, 0], max_new_tokens=24)
        for hyp in s.beam_search([27, 251, 121, 7, 0], beams=4, num_return=2):
            print(hyp.tokens, hyp.score, hyp.ended_with_eos)

    tok = specdec.Tokenizer.load("path/to/tokenizer.json")
    ids = tok.encode("Hello world"); text = tok.decode(ids)

The shared library is found through SPECDEC_LIBRARY, a copy inside this package,
the repository's dist/lib (from a checkout), or the dynamic loader; see
:mod:`specdec._ffi`.
"""

from __future__ import annotations

from . import _ffi
from ._ffi import (
    SPECDEC_ABI_VERSION,
    SPECDEC_VERSION_NUMBER,
    SPECDEC_VERSION_STRING,
    LibraryNotFoundError,
    library_path,
)
from .drafter import BaseDrafter, Drafter, PluginDrafter, load_drafter_plugin
from .errors import (
    BufferTooSmallError,
    CallbackError,
    CancelledError,
    CapacityError,
    ClosedError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    InvalidUTF8Error,
    ShapeError,
    SpecDecError,
    SpecDecIOError,
    SpecDecMemoryError,
    TokenOutOfRangeError,
    UnsupportedError,
    error_class,
    status_string,
)
from .generation import Stats
from .model import Model, ModelInfo, supported_kernel_paths
from .seq2seq import Hypothesis
from .batch import BatchError
from .session import Session
from .tokenizer import Tokenizer
from .verifier import generate_with_verifier

__version__ = SPECDEC_VERSION_STRING

__all__ = [
    "Model",
    "ModelInfo",
    "supported_kernel_paths",
    "Session",
    "BatchError",
    "Stats",
    "Hypothesis",
    "Tokenizer",
    "BaseDrafter",
    "Drafter",
    "PluginDrafter",
    "load_drafter_plugin",
    "generate_with_verifier",
    "SpecDecError",
    "InvalidArgumentError",
    "SpecDecIOError",
    "FormatError",
    "UnsupportedError",
    "ShapeError",
    "TokenOutOfRangeError",
    "BufferTooSmallError",
    "CapacityError",
    "SpecDecMemoryError",
    "CancelledError",
    "CallbackError",
    "InternalError",
    "InvalidUTF8Error",
    "ClosedError",
    "LibraryNotFoundError",
    "SPECDEC_ABI_VERSION",
    "SPECDEC_VERSION_NUMBER",
    "SPECDEC_VERSION_STRING",
    "abi_version",
    "version_number",
    "version_string",
    "status_string",
    "error_class",
    "library_path",
]


def version_number() -> int:
    """Runtime ``specdec_version_number()`` of the loaded library."""
    return int(_ffi.lib().specdec_version_number())


def version_string() -> str:
    """Runtime ``specdec_version_string()`` of the loaded library."""
    return _ffi.decode(_ffi.lib().specdec_version_string())


def abi_version() -> int:
    """Runtime ``specdec_abi_version()`` of the loaded library."""
    return int(_ffi.lib().specdec_abi_version())
