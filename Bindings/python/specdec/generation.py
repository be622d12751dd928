"""What every generate call shares: its sampling options (``specdec_generate_params_t``),
the streaming token callback, the buffer its ids come back in, its statistics, and how
its failure is raised."""

from __future__ import annotations

import ctypes
import operator
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

from . import _ffi
from ._marshal import id_array, int32
from .errors import InvalidArgumentError, SpecDecError, make_error

STOP_REASONS = {
    _ffi.SPECDEC_STOP_NONE: "none",
    _ffi.SPECDEC_STOP_MAX_TOKENS: "max_tokens",
    _ffi.SPECDEC_STOP_TOKEN: "token",
    _ffi.SPECDEC_STOP_CALLBACK: "callback",
    _ffi.SPECDEC_STOP_CAPACITY: "capacity",
    _ffi.SPECDEC_STOP_ERROR: "error",
}

#: on_token(token, index) -> None/False to continue, True to stop.
TokenCallback = Callable[[int, int], Optional[bool]]


@dataclass(frozen=True)
class Stats:
    """``specdec_stats_t``: statistics of the session's most recent generate call.

    The speculative fields (ABI 2) count the target's forward passes after the prefill
    (``target_calls``), the draft tokens it scored (``drafted_tokens``) and kept
    (``accepted_tokens``); ``acceptance_by_depth`` is the acceptance rate per draft
    depth (``specdec_session_acceptance_by_depth``; index 0 = first draft token). For
    plain decoding ``tokens_per_target_call`` is 1 and nothing is drafted.
    """

    prompt_tokens: int
    reused_tokens: int
    generated_tokens: int
    stop_reason: int
    prefill_seconds: float
    decode_seconds: float
    prefill_tokens_per_second: float
    decode_tokens_per_second: float
    # ABI 2
    target_calls: int = 0
    drafted_tokens: int = 0
    accepted_tokens: int = 0
    tokens_per_target_call: float = 0.0
    draft_seconds: float = 0.0
    verify_seconds: float = 0.0
    sample_seconds: float = 0.0
    acceptance_by_depth: Tuple[float, ...] = ()

    @property
    def stop_reason_name(self) -> str:
        return STOP_REASONS.get(self.stop_reason, "unknown")

    @property
    def acceptance_rate(self) -> float:
        """accepted_tokens / drafted_tokens (0 when nothing was drafted)."""
        return self.accepted_tokens / self.drafted_tokens if self.drafted_tokens > 0 else 0.0

    @classmethod
    def from_raw(cls, raw: "_ffi.specdec_stats_t", acceptance_by_depth: Sequence[float] = ()) -> "Stats":
        return cls(
            prompt_tokens=raw.prompt_tokens,
            reused_tokens=raw.reused_tokens,
            generated_tokens=raw.generated_tokens,
            stop_reason=raw.stop_reason,
            prefill_seconds=raw.prefill_seconds,
            decode_seconds=raw.decode_seconds,
            prefill_tokens_per_second=raw.prefill_tokens_per_second,
            decode_tokens_per_second=raw.decode_tokens_per_second,
            target_calls=raw.target_calls,
            drafted_tokens=raw.drafted_tokens,
            accepted_tokens=raw.accepted_tokens,
            tokens_per_target_call=raw.tokens_per_target_call,
            draft_seconds=raw.draft_seconds,
            verify_seconds=raw.verify_seconds,
            sample_seconds=raw.sample_seconds,
            acceptance_by_depth=tuple(acceptance_by_depth),
        )


def generate_params(
    max_new_tokens: Optional[int],
    temperature: float,
    top_k: int,
    top_p: float,
    min_p: float,
    repetition_penalty: float,
    seed: int,
    stop_tokens: Iterable[int],
    stop_at_eos: bool,
) -> "_ffi.specdec_generate_params_t":
    """A ``specdec_generate_params_t`` without callback. It keeps its stop-token array
    alive itself (ctypes records the array in the struct's ``_objects``)."""
    stops, n_stops = id_array(stop_tokens, "stop_tokens")
    params = _ffi.lib().specdec_generate_default_params()
    if max_new_tokens is not None:
        params.max_new_tokens = int32(max_new_tokens, "max_new_tokens")
    params.temperature = float(temperature)
    params.top_k = int32(top_k, "top_k")
    params.top_p = float(top_p)
    params.min_p = float(min_p)
    params.repetition_penalty = float(repetition_penalty)
    seed = operator.index(seed)
    if not 0 <= seed < 2**64:
        raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"seed {seed} is not a uint64")
    params.seed = seed
    params.stop_tokens = ctypes.cast(stops, ctypes.POINTER(ctypes.c_int32)) if n_stops else None
    params.n_stop_tokens = n_stops
    params.stop_at_eos = 1 if stop_at_eos else 0
    return params


class TokenStream:
    """The on_token trampoline's state: the user's callback and the exception it raised."""

    __slots__ = ("fn", "exc")

    def __init__(self, fn: TokenCallback):
        self.fn = fn
        self.exc: Optional[BaseException] = None

    @classmethod
    def attach(cls, params: "_ffi.specdec_generate_params_t", on_token: Optional[TokenCallback]):
        """Wires ``on_token`` into ``params.callback``; returns the stream, or None
        without a callback. ``params`` keeps the C trampoline alive (in its ``_objects``)."""
        if on_token is None:
            return None
        if not callable(on_token):
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "on_token must be callable")
        stream = cls(on_token)
        params.callback = _ffi.specdec_token_callback(stream)
        return stream

    def __call__(self, user_data, token: int, index: int) -> int:
        # Runs inside the C call: nothing may propagate out of here.
        try:
            return _ffi.SPECDEC_CALLBACK_STOP if self.fn(token, index) else _ffi.SPECDEC_CALLBACK_CONTINUE
        except BaseException as exc:  # noqa: B036 - re-raised with the call's error
            self.exc = exc
            return -1


def raised_by(stream: Optional[TokenStream]) -> Optional[BaseException]:
    """What the on_token callback raised during the call (None without one)."""
    return stream.exc if stream is not None else None


class TokenOutput:
    """The int32 buffer a generate call writes its ids to (room for max_new_tokens)."""

    def __init__(self, params: "_ffi.specdec_generate_params_t"):
        self.capacity = max(params.max_new_tokens, 1)
        self.buffer = (ctypes.c_int32 * self.capacity)()
        self.count = ctypes.c_int32(0)

    def arguments(self) -> tuple:
        """(buffer, capacity, &count): the output arguments every generate function ends with."""
        return self.buffer, self.capacity, ctypes.byref(self.count)

    def tokens(self) -> List[int]:
        """The ids written (also after a failure: those generated before it)."""
        return list(self.buffer[: max(0, min(self.count.value, self.capacity))])


def raise_for_status(
    code: int,
    message: str,
    tokens: List[int],
    callback_exc: Optional[BaseException] = None,
    drafter_exc: Optional[BaseException] = None,
    what: str = "drafter",
) -> None:
    """Raises the error of a generate call (nothing for SPECDEC_OK without a callback
    failure). Exceptions raised by Python callbacks (the token callback, a drafter, a
    verifier) become the error's __cause__; BaseExceptions that are not Exceptions
    (KeyboardInterrupt, SystemExit) are re-raised as they are."""
    if code == _ffi.SPECDEC_OK:
        if drafter_exc is None:
            return
        callback_exc = None
    exc = callback_exc if callback_exc is not None else drafter_exc
    if exc is not None and not isinstance(exc, Exception):
        raise exc  # KeyboardInterrupt, SystemExit, ...: not ours to wrap
    if code == _ffi.SPECDEC_OK:
        # Only a void callback (Drafter.accepted) failed, after the last proposal.
        code = _ffi.SPECDEC_ERR_CALLBACK
        message = f"{what} callback failed"
    if code == _ffi.SPECDEC_ERR_CALLBACK and exc is not None and exc is drafter_exc:
        detail = f"{what} raised {type(exc).__name__}: {exc}"
        message = f"{message} ({detail})" if message else detail
    error: SpecDecError = make_error(code, message)
    if code == _ffi.SPECDEC_ERR_CALLBACK:
        error.tokens = tokens  # type: ignore[attr-defined]
    if exc is not None:
        raise error from exc
    raise error
