"""specdec.Session: one sequence's KV cache, sampler state and statistics."""

from __future__ import annotations

import array
import ctypes
import operator
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Sequence, Union

from . import _ffi
from .errors import (
    ClosedError,
    InvalidArgumentError,
    SpecDecError,
    TokenOutOfRangeError,
    check,
    last_message,
    make_error,
)
from .model import Model

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

ARENA_BACKENDS = {
    "auto": _ffi.SPECDEC_ARENA_AUTO,
    "jemalloc": _ffi.SPECDEC_ARENA_JEMALLOC,
    "mmap": _ffi.SPECDEC_ARENA_MMAP,
}

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
    """``specdec_stats_t``: statistics of the session's most recent generate call."""

    prompt_tokens: int
    reused_tokens: int
    generated_tokens: int
    stop_reason: int
    prefill_seconds: float
    decode_seconds: float
    prefill_tokens_per_second: float
    decode_tokens_per_second: float

    @property
    def stop_reason_name(self) -> str:
        return STOP_REASONS.get(self.stop_reason, "unknown")


def _int32(value, what: str) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        raise InvalidArgumentError(
            _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} must be an integer, not {type(value).__name__}"
        ) from None
    if not INT32_MIN <= value <= INT32_MAX:
        raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} {value} does not fit in int32")
    return value


def _id_array(ids: Iterable[int], what: str):
    """ids as a C int32 array. Values outside int32 would be silently wrapped by
    ctypes (turning a bad id into a valid one), so they are rejected here."""
    values = []
    for i, value in enumerate(ids):
        try:
            value = operator.index(value)
        except TypeError:
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                f"{what}[{i}] must be an integer, not {type(value).__name__}",
            ) from None
        if not INT32_MIN <= value <= INT32_MAX:
            raise TokenOutOfRangeError(
                _ffi.SPECDEC_ERR_TOKEN_OUT_OF_RANGE, f"{what}[{i}] = {value} does not fit in int32"
            )
        values.append(value)
    return (ctypes.c_int32 * len(values))(*values), len(values)


class _CallbackState:
    __slots__ = ("fn", "exc")

    def __init__(self, fn: TokenCallback):
        self.fn = fn
        self.exc: Optional[BaseException] = None

    def __call__(self, user_data, token: int, index: int) -> int:
        # Runs inside the C call: nothing may propagate out of here.
        try:
            return _ffi.SPECDEC_CALLBACK_STOP if self.fn(token, index) else _ffi.SPECDEC_CALLBACK_CONTINUE
        except BaseException as exc:  # noqa: B036 - re-raised by generate()
            self.exc = exc
            return -1


class Session:
    """A generation session on a :class:`Model`.

    Args:
        model: the model (kept alive by the session).
        kv_capacity: tokens the KV cache holds; 0 means the model's context length.
        n_threads: compute threads; 0 means one per online CPU.
        arena_backend: "auto", "jemalloc" or "mmap" (or a SPECDEC_ARENA_* value).
        max_batch: most tokens one :meth:`eval` call may score; None keeps the
            library default.

    A session is used by one thread at a time; the bindings serialise calls from
    several threads and reject re-entrant calls (e.g. from a streaming callback).
    """

    def __init__(
        self,
        model: Model,
        kv_capacity: int = 0,
        n_threads: int = 0,
        arena_backend: Union[str, int] = "auto",
        max_batch: Optional[int] = None,
    ):
        self._ptr = None
        self._lock = threading.RLock()
        self._depth = 0
        if not isinstance(model, Model):
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"model must be a specdec.Model, not {type(model).__name__}"
            )
        if isinstance(arena_backend, str):
            try:
                backend = ARENA_BACKENDS[arena_backend.lower()]
            except KeyError:
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                    f"arena_backend must be one of {sorted(ARENA_BACKENDS)}, not {arena_backend!r}",
                ) from None
        else:
            backend = _int32(arena_backend, "arena_backend")
        lib = _ffi.lib()
        params = lib.specdec_session_default_params()
        params.kv_capacity = _int32(kv_capacity, "kv_capacity")
        params.n_threads = _int32(n_threads, "n_threads")
        params.arena_backend = backend
        if max_batch is not None:
            params.max_batch = _int32(max_batch, "max_batch")
        self.model = model
        out = _ffi.specdec_session_p()
        code = lib.specdec_session_create(model._handle(), ctypes.byref(params), ctypes.byref(out))
        check(code)
        self._ptr = out
        self._vocab = model.info.vocab_size
        model._register(self)

    # -- lifetime ---------------------------------------------------------

    def _enter(self):
        """Takes the session for one call; returns the live pointer."""
        self._lock.acquire()
        if self._depth:
            self._lock.release()
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                "re-entrant call: the session is busy (called from its own streaming callback?)",
            )
        ptr = self._ptr
        if not ptr:
            self._lock.release()
            raise ClosedError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "the session is closed")
        self._depth += 1
        return ptr

    def _leave(self) -> None:
        self._depth -= 1
        self._lock.release()

    @property
    def closed(self) -> bool:
        return not self._ptr

    def close(self) -> None:
        """Releases the session and its arena. Idempotent."""
        with self._lock:
            if self._depth:
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT, "cannot close a session from inside one of its calls"
                )
            ptr, self._ptr = self._ptr, None
            if ptr:
                _ffi.lib().specdec_session_destroy(ptr)

    def __enter__(self) -> "Session":
        if not self._ptr:
            raise ClosedError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "the session is closed")
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            if self._ptr:
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self.closed:
            return "<specdec.Session (closed)>"
        return f"<specdec.Session length={self.length} capacity={self.capacity} arena={self.arena_backend}>"

    # -- state ------------------------------------------------------------

    @property
    def length(self) -> int:
        """Tokens currently held in the KV cache."""
        ptr = self._enter()
        try:
            return _ffi.lib().specdec_session_length(ptr)
        finally:
            self._leave()

    @property
    def capacity(self) -> int:
        """KV capacity in tokens."""
        ptr = self._enter()
        try:
            return _ffi.lib().specdec_session_capacity(ptr)
        finally:
            self._leave()

    @property
    def arena_backend(self) -> str:
        """"jemalloc" or "mmap": where this session's memory comes from."""
        ptr = self._enter()
        try:
            return _ffi.decode(_ffi.lib().specdec_session_arena_backend(ptr))
        finally:
            self._leave()

    @property
    def error_message(self) -> str:
        """The session's most recent failure message ("" if none)."""
        ptr = self._enter()
        try:
            return _ffi.decode(_ffi.lib().specdec_session_error_message(ptr))
        finally:
            self._leave()

    @property
    def tokens(self) -> List[int]:
        """The token ids held in the KV cache, in cache order."""
        ptr = self._enter()
        try:
            lib = _ffi.lib()
            cap = max(lib.specdec_session_length(ptr), 1)
            while True:
                buf = (ctypes.c_int32 * cap)()
                n = ctypes.c_int32(0)
                code = lib.specdec_session_tokens(ptr, buf, cap, ctypes.byref(n))
                if code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL and n.value > cap:
                    cap = n.value
                    continue
                check(code, ptr)
                return list(buf[: n.value])
        finally:
            self._leave()

    @property
    def stats(self) -> Stats:
        """Statistics of the most recent :meth:`generate` call."""
        ptr = self._enter()
        try:
            raw = _ffi.specdec_stats_t()
            raw.struct_size = ctypes.sizeof(raw)
            check(_ffi.lib().specdec_session_get_stats(ptr, ctypes.byref(raw)), ptr)
            return Stats(
                prompt_tokens=raw.prompt_tokens,
                reused_tokens=raw.reused_tokens,
                generated_tokens=raw.generated_tokens,
                stop_reason=raw.stop_reason,
                prefill_seconds=raw.prefill_seconds,
                decode_seconds=raw.decode_seconds,
                prefill_tokens_per_second=raw.prefill_tokens_per_second,
                decode_tokens_per_second=raw.decode_tokens_per_second,
            )
        finally:
            self._leave()

    def reset(self) -> None:
        """Empties the KV cache and clears statistics (keeps the memory)."""
        ptr = self._enter()
        try:
            check(_ffi.lib().specdec_session_reset(ptr), ptr)
        finally:
            self._leave()

    def truncate(self, length: int) -> None:
        """Drops cached tokens beyond ``length`` (0 <= length <= self.length)."""
        length = _int32(length, "length")
        ptr = self._enter()
        try:
            check(_ffi.lib().specdec_session_truncate(ptr, length), ptr)
        finally:
            self._leave()

    # -- compute ----------------------------------------------------------

    def eval(
        self,
        tokens: Sequence[int],
        positions: Optional[Sequence[int]] = None,
        *,
        logits: bool = True,
    ) -> List["array.array[float]"]:
        """Runs the model over ``tokens``, appending them to the KV cache.

        Returns one ``array.array('f')`` of vocab_size logits per token (an empty
        list with ``logits=False``, which only fills the cache). ``positions``
        defaults to length, length+1, ... At most the session's max_batch tokens per
        call; a failed call leaves the cache unchanged.
        """
        tok, n = _id_array(tokens, "tokens")
        pos = None
        if positions is not None:
            pos, n_pos = _id_array(positions, "positions")
            if n_pos != n:
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{n_pos} positions given for {n} tokens"
                )
        vocab = self._vocab
        flat = None
        out = None
        cap = 0
        if logits and n > 0:
            cap = n * vocab
            flat = array.array("f", bytes(4 * cap))
            out = (ctypes.c_float * cap).from_buffer(flat)
        ptr = self._enter()
        try:
            code = _ffi.lib().specdec_session_eval(ptr, tok, pos, n, out, cap)
            check(code, ptr)
        finally:
            self._leave()
            del out  # release the export of `flat` before slicing it
        if flat is None:
            return []
        return [flat[i * vocab : (i + 1) * vocab] for i in range(n)]

    def generate(
        self,
        prompt_ids: Sequence[int],
        max_new_tokens: Optional[int] = None,
        temperature: float = 0.0,
        top_k: int = 0,
        top_p: float = 1.0,
        min_p: float = 0.0,
        repetition_penalty: float = 1.0,
        seed: int = 0,
        stop_tokens: Iterable[int] = (),
        stop_at_eos: bool = True,
        on_token: Optional[TokenCallback] = None,
    ) -> List[int]:
        """Generates a continuation of ``prompt_ids`` (used verbatim, no BOS added).

        Returns the generated ids (prompt not included). ``max_new_tokens`` defaults
        to the library's default (128). ``on_token(token, index)`` is called for each
        generated token: return None/False to continue, True to stop (the token is
        kept). If it raises, generation ends and :class:`CallbackError` is raised from
        the original exception (``KeyboardInterrupt``/``SystemExit`` are re-raised as
        they are); the session stays usable.
        """
        prompt, n_prompt = _id_array(prompt_ids, "prompt_ids")
        stops, n_stops = _id_array(stop_tokens, "stop_tokens")
        lib = _ffi.lib()
        params = lib.specdec_generate_default_params()
        if max_new_tokens is not None:
            params.max_new_tokens = _int32(max_new_tokens, "max_new_tokens")
        params.temperature = float(temperature)
        params.top_k = _int32(top_k, "top_k")
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
        state = None
        trampoline = None
        if on_token is not None:
            if not callable(on_token):
                raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "on_token must be callable")
            state = _CallbackState(on_token)
            # Kept alive by this local (and by params._objects) for the whole call.
            trampoline = _ffi.specdec_token_callback(state)
            params.callback = trampoline
        cap = max(params.max_new_tokens, 1)
        out = (ctypes.c_int32 * cap)()
        n_out = ctypes.c_int32(0)
        ptr = self._enter()
        try:
            code = lib.specdec_generate(ptr, prompt, n_prompt, ctypes.byref(params), out, cap, ctypes.byref(n_out))
            message = last_message(ptr) if code != _ffi.SPECDEC_OK else ""
        finally:
            self._leave()
        tokens = list(out[: max(0, min(n_out.value, cap))])
        del trampoline
        if code == _ffi.SPECDEC_OK:
            return tokens
        exc = state.exc if state is not None else None
        if exc is not None and not isinstance(exc, Exception):
            raise exc  # KeyboardInterrupt, SystemExit, ...: not ours to wrap
        error: SpecDecError = make_error(code, message)
        if code == _ffi.SPECDEC_ERR_CALLBACK:
            error.tokens = tokens  # type: ignore[attr-defined]
        if exc is not None:
            raise error from exc
        raise error
