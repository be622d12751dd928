"""specdec.Tokenizer: text to token ids and back (ABI 2).

A tokenizer is loaded from a Hugging Face ``tokenizer.json`` (BPE, byte-level BPE,
Unigram, WordPiece), a SentencePiece ``.model`` or a model directory
(:meth:`Tokenizer.load`), taken from a loaded model (:attr:`Model.tokenizer`), or
implemented in Python (:meth:`Tokenizer.from_python`): any object with

* ``encode(text: str, add_special: bool) -> list[int]`` and
* ``decode(ids: list[int], skip_special: bool) -> str``

wrapped with ``specdec_tokenizer_create`` and ctypes callbacks, so the library (for
example :meth:`Session.generate_text`) can use it. An exception raised by such an
object never crosses into C: the call that needed it fails with :class:`CallbackError`
raised from the exception.

Tokenizers are immutable and may be shared by threads and sessions.
"""

from __future__ import annotations

import ctypes
import itertools
import operator
import os
import threading
from typing import Dict, Iterable, List, Optional, Union

from . import _ffi
from ._handle import Handle
from ._marshal import INT32_MAX, INT32_MIN, Text, id_array, new_handle, positive_int32, read_array, read_bytes
from ._marshal import text_bytes, token_id, utf8
from .errors import InvalidArgumentError, InvalidUTF8Error, last_message, make_error, require

SPECIAL_TOKENS = {
    "bos": _ffi.SPECDEC_TOKEN_BOS,
    "eos": _ffi.SPECDEC_TOKEN_EOS,
    "pad": _ffi.SPECDEC_TOKEN_PAD,
    "unk": _ffi.SPECDEC_TOKEN_UNK,
}


# ---------------------------------------------------------------------------
# Host tokenizers (specdec_tokenizer_vtable_t)
# ---------------------------------------------------------------------------


class _Host:
    """A Python tokenizer object behind a C instance pointer, with the result of the
    last call kept for the library's retry with a larger buffer."""

    __slots__ = ("obj", "encoded", "decoded")

    def __init__(self, obj):
        self.obj = obj
        self.encoded = None  # ((text bytes, add_special), ids)
        self.decoded = None  # ((ids, skip_special), utf-8 bytes)


# instance key -> _Host. The entry lives exactly as long as the C tokenizer: it is
# removed by the vtable's destroy, which the library calls when the last reference goes.
_HOSTS: Dict[int, _Host] = {}
_HOST_KEYS = itertools.count(1)  # never 0 (NULL)
# The exception the last failing host callback raised, per thread (the library calls
# host tokenizers on the thread that called it).
_FAILURE = threading.local()


def _record_failure(exc: BaseException) -> int:
    if getattr(_FAILURE, "exc", None) is None:
        _FAILURE.exc = exc
    return -1


def take_host_failure() -> Optional[BaseException]:
    """The exception a host tokenizer raised during the last call on this thread (and
    forget it)."""
    exc = getattr(_FAILURE, "exc", None)
    _FAILURE.exc = None
    return exc


def clear_host_failure() -> None:
    _FAILURE.exc = None


def _host(instance) -> _Host:
    host = _HOSTS.get(instance or 0)
    if host is None:
        raise RuntimeError("unknown host tokenizer instance")
    return host


def _host_encode(instance, text, length, add_special, ids, cap, out_len) -> int:
    # Runs inside a C call: nothing may propagate out of here.
    try:
        host = _host(instance)
        raw = ctypes.string_at(text, length) if length else b""
        key = (raw, bool(add_special))
        cached = host.encoded
        if cached is not None and cached[0] == key:
            result = cached[1]
        else:
            produced = host.obj.encode(raw.decode("utf-8"), bool(add_special))
            if isinstance(produced, (str, bytes)) or not hasattr(produced, "__iter__"):
                raise TypeError(f"encode must return a list of ids, not {type(produced).__name__}")
            result = []
            for i, value in enumerate(produced):
                value = operator.index(value)
                if not INT32_MIN <= value <= INT32_MAX:
                    raise ValueError(f"encode returned id {value} at {i}, which does not fit in int32")
                result.append(value)
            host.encoded = (key, result)
        out_len[0] = len(result)
        if len(result) > cap:
            return _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL  # the library calls again
        for i, value in enumerate(result):
            ids[i] = value
        host.encoded = None
        return 0
    except BaseException as exc:  # noqa: B036 - re-raised by the caller of the C function
        return _record_failure(exc)


def _host_decode(instance, ids, n, skip_special, buf, cap, out_len) -> int:
    try:
        host = _host(instance)
        key = (tuple(ids[:n]) if n > 0 else (), bool(skip_special))
        cached = host.decoded
        if cached is not None and cached[0] == key:
            data = cached[1]
        else:
            text = host.obj.decode(list(key[0]), key[1])
            if isinstance(text, str):
                data = text.encode("utf-8")
            elif isinstance(text, (bytes, bytearray)):
                data = bytes(text)
            else:
                raise TypeError(f"decode must return str, not {type(text).__name__}")
            host.decoded = (key, data)
        out_len[0] = len(data)
        if len(data) > cap:
            return _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL
        if data:
            ctypes.memmove(buf, data, len(data))
        host.decoded = None
        return 0
    except BaseException as exc:  # noqa: B036
        return _record_failure(exc)


def _host_destroy(instance) -> None:
    _HOSTS.pop(instance or 0, None)


# Created once; they (and the vtable) live as long as the module, as the C side may
# call them any time a host tokenizer exists.
_ENCODE = _ffi.specdec_encode_fn(_host_encode)
_DECODE = _ffi.specdec_decode_fn(_host_decode)
_DESTROY = _ffi.specdec_destroy_fn(_host_destroy)
_HOST_VTABLE = _ffi.specdec_tokenizer_vtable_t(
    ctypes.sizeof(_ffi.specdec_tokenizer_vtable_t), _ffi.SPECDEC_PLUGIN_ABI_VERSION, _ENCODE, _DECODE, _DESTROY
)


# ---------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------


class Tokenizer(Handle):
    """A ``specdec_tokenizer_t`` reference. Make one with :meth:`load`,
    :attr:`Model.tokenizer` or :meth:`from_python`.

    Use it as a context manager or call :meth:`close`; it is also released when
    garbage-collected. Closing it does not affect models or other references.
    """

    _noun = "tokenizer"

    def __init__(self, *args, **kwargs):
        raise TypeError("use specdec.Tokenizer.load(path), Model.tokenizer or Tokenizer.from_python(obj, vocab_size)")

    @classmethod
    def _wrap(cls, ptr, source: str, host: Optional[object] = None) -> "Tokenizer":
        self = object.__new__(cls)
        self._ptr = ptr
        self._lock = threading.Lock()
        self.source = source
        self.host = host
        return self

    # -- construction -----------------------------------------------------

    @classmethod
    def load(cls, path) -> "Tokenizer":
        """Loads a ``tokenizer.json``, a SentencePiece ``.model``, or a model directory
        (tokenizer.json, then tokenizer.model, then Marian's source.spm/target.spm +
        vocab.json). Errors: :class:`SpecDecIOError`, :class:`FormatError`,
        :class:`UnsupportedError` (unknown model type or component)."""
        require("specdec_tokenizer_load")
        raw = os.fsencode(path)
        if b"\0" in raw:
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"tokenizer path contains a NUL byte: {path!r}")
        ptr = new_handle(_ffi.specdec_tokenizer_p, "specdec_tokenizer_load", "a tokenizer", raw)
        return cls._wrap(ptr, os.fsdecode(path))

    @classmethod
    def _from_model(cls, model) -> "Tokenizer":
        """The tokenizer of a loaded model's directory (``model`` is a specdec.Model)."""
        require("specdec_model_get_tokenizer")
        ptr = new_handle(_ffi.specdec_tokenizer_p, "specdec_model_get_tokenizer", "a tokenizer", model._handle())
        return cls._wrap(ptr, model.path)

    @classmethod
    def from_python(cls, obj, vocab_size: int) -> "Tokenizer":
        """Wraps a tokenizer implemented in Python (``specdec_tokenizer_create``).

        ``obj.encode(text, add_special) -> list[int]`` and ``obj.decode(ids,
        skip_special) -> str`` are called back by the library (for :meth:`encode`,
        :meth:`decode` and :meth:`Session.generate_text`); ids must be below
        ``vocab_size``. If one raises, the call that needed it fails with
        :class:`CallbackError` raised from the exception. The object is kept alive
        until the C tokenizer is destroyed.
        """
        require("specdec_tokenizer_create")
        for method in ("encode", "decode"):
            if not callable(getattr(obj, method, None)):
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"the tokenizer object has no {method}() method"
                )
        vocab = positive_int32(vocab_size, "vocab_size")
        key = next(_HOST_KEYS)
        _HOSTS[key] = _Host(obj)
        try:
            ptr = new_handle(
                _ffi.specdec_tokenizer_p, "specdec_tokenizer_create", "a tokenizer",
                ctypes.byref(_HOST_VTABLE), ctypes.c_void_p(key), vocab,
            )
        except BaseException:
            _HOSTS.pop(key, None)
            raise
        return cls._wrap(ptr, f"<{type(obj).__name__}>", obj)

    # -- lifetime ---------------------------------------------------------

    def close(self) -> None:
        """Releases this reference (``specdec_tokenizer_destroy``). Idempotent."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
            self.host = None  # the C tokenizer keeps it until its last reference goes
        if ptr:
            _ffi.lib().specdec_tokenizer_destroy(ptr)

    def __repr__(self) -> str:
        if self.closed:
            return f"<specdec.Tokenizer {self.source!r} (closed)>"
        return f"<specdec.Tokenizer {self.source!r} vocab {self.vocab_size}>"

    # -- queries ----------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return int(_ffi.lib().specdec_tokenizer_vocab_size(self._handle()))

    def __len__(self) -> int:
        return self.vocab_size

    def special_token(self, which: Union[str, int]) -> int:
        """Id of a special token ("bos", "eos", "pad", "unk" or a SPECDEC_TOKEN_*
        value), -1 when the tokenizer has none."""
        if isinstance(which, str):
            try:
                which = SPECIAL_TOKENS[which.lower()]
            except KeyError:
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                    f"special token must be one of {sorted(SPECIAL_TOKENS)}, not {which!r}",
                ) from None
        return int(_ffi.lib().specdec_tokenizer_special_token(self._handle(), operator.index(which)))

    @property
    def bos_token(self) -> int:
        """BOS id, -1 when none."""
        return self.special_token("bos")

    @property
    def eos_token(self) -> int:
        """EOS id, -1 when none."""
        return self.special_token("eos")

    @property
    def pad_token(self) -> int:
        """PAD id, -1 when none."""
        return self.special_token("pad")

    @property
    def unk_token(self) -> int:
        """UNK id, -1 when none."""
        return self.special_token("unk")

    # -- text <-> ids -----------------------------------------------------

    def _check(self, code: int) -> None:
        """Raise for a failed call; a host tokenizer's exception becomes __cause__."""
        if code == _ffi.SPECDEC_OK:
            return
        host_exc = take_host_failure()
        if host_exc is not None and not isinstance(host_exc, Exception):
            raise host_exc  # KeyboardInterrupt, SystemExit
        message = last_message()
        if host_exc is not None:
            detail = f"host tokenizer raised {type(host_exc).__name__}: {host_exc}"
            message = f"{message} ({detail})" if message else detail
            # specdec_plugin.h: a failing host callback ends the call with
            # SPECDEC_ERR_CALLBACK (some library versions report a failed decode as
            # SPECDEC_ERR_FORMAT; the bindings report what happened).
            code = _ffi.SPECDEC_ERR_CALLBACK
        error = make_error(code, message)
        if host_exc is not None:
            raise error from host_exc
        raise error

    def encode(self, text: Text, add_special: bool = True) -> List[int]:
        """Text to ids (``specdec_tokenize``). ``add_special`` applies the tokenizer's
        template (BOS/EOS). ``text`` is a str, or UTF-8 bytes: invalid UTF-8 raises
        :class:`InvalidUTF8Error`."""
        raw = text_bytes(text)
        ptr = self._handle()
        lib = _ffi.lib()
        data = ctypes.create_string_buffer(raw, len(raw) + 1)

        def tokenize(ids, cap, n):
            clear_host_failure()
            return lib.specdec_tokenize(ptr, data, len(raw), 1 if add_special else 0, ids, cap, n)

        code, ids = read_array(ctypes.c_int32, tokenize, len(raw) + 16)
        self._check(code)
        return ids

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        """Ids to text (``specdec_detokenize``); ``skip_special`` leaves special tokens
        out. Ids outside the vocabulary raise :class:`TokenOutOfRangeError`."""
        return utf8(self.decode_bytes(ids, skip_special))

    def decode_bytes(self, ids: Iterable[int], skip_special: bool = True) -> bytes:
        """Like :meth:`decode`, returning the UTF-8 bytes the library wrote."""
        arr, n = id_array(ids, "ids")
        ptr = self._handle()
        lib = _ffi.lib()

        def detokenize(buf, cap, length):
            clear_host_failure()
            return lib.specdec_detokenize(ptr, arr, n, 1 if skip_special else 0, buf, cap, length)

        code, raw = read_bytes(detokenize, 8 * n + 64)
        self._check(code)
        return raw

    def token_to_piece(self, token: int) -> str:
        """The vocabulary entry of ``token`` as stored (e.g. "\\u0120the", "\\u2581the")."""
        token = token_id(token, "token")
        ptr = self._handle()
        lib = _ffi.lib()
        code, raw = read_bytes(lambda buf, cap, length: lib.specdec_token_to_piece(ptr, token, buf, cap, length), 64)
        self._check(code)
        return utf8(raw)

    def piece_to_token(self, piece: Text) -> int:
        """The id of a vocabulary entry; :class:`InvalidArgumentError` when absent."""
        raw = text_bytes(piece, "piece", nul_terminated=True)
        out = ctypes.c_int32(-1)
        self._check(_ffi.lib().specdec_piece_to_token(self._handle(), raw, ctypes.byref(out)))
        return out.value

    def __contains__(self, piece) -> bool:
        try:
            self.piece_to_token(piece)
        except (InvalidArgumentError, InvalidUTF8Error):
            return False
        return True
