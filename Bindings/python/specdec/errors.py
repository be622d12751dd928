"""Exceptions: one subclass of :class:`SpecDecError` per status code of specdec.h."""

from __future__ import annotations

from typing import Dict, Optional, Type

from . import _ffi


class SpecDecError(Exception):
    """A libspecdec call failed.

    Attributes:
        code: the ``specdec_status`` value (``SPECDEC_ERR_*``).
        status: the library's static text for the code (``specdec_status_string``).
        message: the detailed message (``specdec_session_error_message`` or
            ``specdec_last_error_message``), or a message from the bindings.
    """

    code: int = -1

    def __init__(self, code: int, message: str = "", status: Optional[str] = None):
        self.code = code
        self.status = status if status is not None else status_string(code)
        self.message = message
        text = f"{self.status} (status {code})"
        if message:
            text = f"{text}: {message}"
        super().__init__(text)


class InvalidArgumentError(SpecDecError, ValueError):
    """SPECDEC_ERR_INVALID_ARGUMENT: NULL pointer, negative count, bad parameter value."""


class SpecDecIOError(SpecDecError):
    """SPECDEC_ERR_IO: missing directory or file, unreadable file."""


class FormatError(SpecDecError):
    """SPECDEC_ERR_FORMAT: invalid JSON, corrupt or truncated safetensors."""


class UnsupportedError(SpecDecError):
    """SPECDEC_ERR_UNSUPPORTED: unknown architecture, dtype or feature."""


class ShapeError(SpecDecError):
    """SPECDEC_ERR_SHAPE: missing tensor, or tensor with wrong shape or dtype."""


class TokenOutOfRangeError(SpecDecError, ValueError):
    """SPECDEC_ERR_TOKEN_OUT_OF_RANGE: a token id < 0 or >= vocabulary size."""


class BufferTooSmallError(SpecDecError):
    """SPECDEC_ERR_BUFFER_TOO_SMALL (the bindings size buffers, so this is rare)."""


class CapacityError(SpecDecError):
    """SPECDEC_ERR_CAPACITY: the request does not fit the session's KV capacity."""


class SpecDecMemoryError(SpecDecError, MemoryError):
    """SPECDEC_ERR_OUT_OF_MEMORY: an allocation or mapping failed."""


class CancelledError(SpecDecError):
    """SPECDEC_ERR_CANCELLED (reserved by the contract)."""


class CallbackError(SpecDecError):
    """SPECDEC_ERR_CALLBACK: the streaming callback failed.

    When the callback raised, the original exception is ``__cause__``. ``tokens``
    holds the ids generated before the failure.
    """

    def __init__(self, code: int, message: str = "", status: Optional[str] = None):
        super().__init__(code, message, status)
        self.tokens: list = []


class InternalError(SpecDecError):
    """SPECDEC_ERR_INTERNAL: a bug in libspecdec."""


class InvalidUTF8Error(SpecDecError, ValueError):
    """SPECDEC_ERR_INVALID_UTF8: text input that is not valid UTF-8."""


class ClosedError(InvalidArgumentError):
    """A model or session was used after close(): prevented by the bindings, which
    never hand a destroyed (dangling) handle to the library."""


_BY_CODE: Dict[int, Type[SpecDecError]] = {
    _ffi.SPECDEC_ERR_INVALID_ARGUMENT: InvalidArgumentError,
    _ffi.SPECDEC_ERR_IO: SpecDecIOError,
    _ffi.SPECDEC_ERR_FORMAT: FormatError,
    _ffi.SPECDEC_ERR_UNSUPPORTED: UnsupportedError,
    _ffi.SPECDEC_ERR_SHAPE: ShapeError,
    _ffi.SPECDEC_ERR_TOKEN_OUT_OF_RANGE: TokenOutOfRangeError,
    _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL: BufferTooSmallError,
    _ffi.SPECDEC_ERR_CAPACITY: CapacityError,
    _ffi.SPECDEC_ERR_OUT_OF_MEMORY: SpecDecMemoryError,
    _ffi.SPECDEC_ERR_CANCELLED: CancelledError,
    _ffi.SPECDEC_ERR_CALLBACK: CallbackError,
    _ffi.SPECDEC_ERR_INTERNAL: InternalError,
    _ffi.SPECDEC_ERR_INVALID_UTF8: InvalidUTF8Error,
}


def error_class(code: int) -> Type[SpecDecError]:
    """The exception class for a status code (SpecDecError for unknown codes)."""
    return _BY_CODE.get(code, SpecDecError)


def status_string(code: int) -> str:
    """``specdec_status_string(code)``; falls back to a generic text if the library
    cannot be loaded."""
    try:
        return _ffi.decode(_ffi.lib().specdec_status_string(code))
    except OSError:
        return "unknown status"


def make_error(code: int, message: str = "") -> SpecDecError:
    return error_class(code)(code, message)


def check(code: int, session=None) -> None:
    """Raise the matching SpecDecError when ``code`` is not SPECDEC_OK.

    ``session`` is a raw session pointer whose own message is preferred; otherwise the
    calling thread's last error message is used."""
    if code == _ffi.SPECDEC_OK:
        return
    raise make_error(code, last_message(session))


def last_message(session=None) -> str:
    """The session's message for its last failure, else the calling thread's last one."""
    lib = _ffi.lib()
    message = ""
    if session:
        message = _ffi.decode(lib.specdec_session_error_message(session))
    if not message:
        message = _ffi.decode(lib.specdec_last_error_message())
    return message


def require(name: str, what: str = "the tokenizer and text API") -> None:
    """Raise UnsupportedError when the loaded library lacks ``name`` (it was built
    before that part of ABI 2; see ``_ffi.OPTIONAL_FUNCTIONS``)."""
    if not _ffi.has_function(name):
        raise UnsupportedError(
            _ffi.SPECDEC_ERR_UNSUPPORTED,
            f"{_ffi.library_path()} does not export {name}: it predates {what} of ABI {_ffi.SPECDEC_ABI_VERSION}",
        )
