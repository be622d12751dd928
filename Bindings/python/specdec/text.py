"""Text generation's own arguments (ABI 2): the tokenizer options
(``specdec_text_params_t``), the streaming text callback, the session's text buffer,
and how a failed text call is raised."""

from __future__ import annotations

import ctypes
from typing import Callable, List, Optional, Tuple

from . import _ffi
from ._marshal import read_bytes
from .errors import CallbackError, InvalidArgumentError
from .generation import TokenStream, raise_for_status, raised_by
from .tokenizer import Tokenizer

#: on_text(piece) -> None/False to continue, True to stop.
TextCallback = Callable[[str], Optional[bool]]


def text_params(
    tokenizer: Optional[Tokenizer], add_special_tokens: bool, skip_special_tokens: bool
) -> "_ffi.specdec_text_params_t":
    """A ``specdec_text_params_t``; without ``tokenizer`` the model's own is used."""
    params = _ffi.lib().specdec_text_default_params()
    params.add_special_tokens = 1 if add_special_tokens else 0
    params.skip_special_tokens = 1 if skip_special_tokens else 0
    if tokenizer is not None:
        if not isinstance(tokenizer, Tokenizer):
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                f"tokenizer must be a specdec.Tokenizer, not {type(tokenizer).__name__}",
            )
        params.tokenizer = tokenizer._handle()
    return params


class TextStream:
    """The on_text trampoline's state: the pieces streamed and the exception raised."""

    __slots__ = ("fn", "exc", "pieces")

    def __init__(self, fn: Optional[TextCallback]):
        self.fn = fn
        self.exc: Optional[BaseException] = None
        self.pieces: List[str] = []

    def attach(self, params: "_ffi.specdec_text_params_t") -> None:
        """Wires the callback (if any) into ``params.on_text``, which keeps the C
        trampoline alive."""
        if self.fn is None:
            return
        if not callable(self.fn):
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "on_text must be callable")
        params.on_text = _ffi.specdec_text_callback(self)

    def __call__(self, user_data, text, length: int) -> int:
        # Runs inside the C call: nothing may propagate out of here.
        try:
            piece = ctypes.string_at(text, length).decode("utf-8", errors="replace") if length else ""
            self.pieces.append(piece)
            return _ffi.SPECDEC_CALLBACK_STOP if self.fn(piece) else _ffi.SPECDEC_CALLBACK_CONTINUE
        except BaseException as exc:  # noqa: B036 - re-raised by generate_text()
            self.exc = exc
            return -1


def read_session_text(ptr, needed: int) -> Tuple[int, bytes]:
    """(status, bytes) of ``specdec_session_text``, with room for ``needed`` bytes first."""
    lib = _ffi.lib()
    return read_bytes(lambda buf, cap, length: lib.specdec_session_text(ptr, buf, cap, length), max(needed + 1, 16))


def raise_for_text_status(
    code: int,
    message: str,
    text_stream: TextStream,
    token_stream: Optional[TokenStream],
    host_failure: Optional[BaseException],
    drafter_failure: Optional[BaseException],
) -> None:
    """Raises the error of a generate_text call, as :func:`raise_for_status` does, with
    the on_text exception first and a host tokenizer's failure reported as
    CallbackError; a CallbackError carries the text streamed so far (``err.text``)."""
    callback_exc = text_stream.exc if text_stream.exc is not None else raised_by(token_stream)
    if code == _ffi.SPECDEC_ERR_CALLBACK and isinstance(text_stream.exc, Exception):
        detail = f"on_text raised {type(text_stream.exc).__name__}: {text_stream.exc}"
        message = f"{message} ({detail})" if message else detail
    try:
        if code != _ffi.SPECDEC_OK and callback_exc is None and host_failure is not None:
            # A host tokenizer raised: CallbackError from its exception (see
            # Tokenizer._check for why the library's code is not kept).
            raise_for_status(_ffi.SPECDEC_ERR_CALLBACK, message, [], None, host_failure, "host tokenizer")
        raise_for_status(code, message, [], callback_exc, drafter_failure)
    except CallbackError as err:
        err.text = "".join(text_stream.pieces)  # type: ignore[attr-defined]
        raise
