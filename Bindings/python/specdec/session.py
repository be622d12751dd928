"""specdec.Session: one sequence's KV cache, sampler state and statistics."""

from __future__ import annotations

import array
import ctypes
import operator
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Sequence, Tuple, Union

from . import _ffi
from .drafter import speculative_params
from .errors import (
    CallbackError,
    ClosedError,
    InvalidArgumentError,
    SpecDecError,
    TokenOutOfRangeError,
    check,
    last_message,
    make_error,
)
from .model import Model
from .tokenizer import Tokenizer, clear_host_failure, require, take_host_failure, text_bytes

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
#: on_text(piece) -> None/False to continue, True to stop.
TextCallback = Callable[[str], Optional[bool]]


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
            return Stats.from_raw(raw, self._acceptance_by_depth(ptr))
        finally:
            self._leave()

    @property
    def acceptance_by_depth(self) -> Tuple[float, ...]:
        """Acceptance rate of the last request per draft depth (index 0 = first draft
        token); empty after plain decoding."""
        ptr = self._enter()
        try:
            return self._acceptance_by_depth(ptr)
        finally:
            self._leave()

    @staticmethod
    def _acceptance_by_depth(ptr) -> Tuple[float, ...]:
        lib = _ffi.lib()
        cap = 16
        while True:
            buf = (ctypes.c_double * cap)()
            n = ctypes.c_int32(0)
            code = lib.specdec_session_acceptance_by_depth(ptr, buf, cap, ctypes.byref(n))
            if code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL and n.value > cap:
                cap = n.value
                continue
            check(code, ptr)
            return tuple(buf[: max(0, min(n.value, cap))])

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
        *,
        drafter=None,
        draft_model: Optional[Model] = None,
        draft_length: int = 5,
        acceptance: Union[str, int] = "greedy",
        beta: int = 5,
        tau: float = 3.0,
        adaptive: bool = False,
        ngram_min: int = 1,
        ngram_max: int = 3,
    ) -> List[int]:
        """Generates a continuation of ``prompt_ids`` (used verbatim, no BOS added).

        Returns the generated ids (prompt not included). ``max_new_tokens`` defaults
        to the library's default (128). ``on_token(token, index)`` is called for each
        generated token: return None/False to continue, True to stop (the token is
        kept). If it raises, generation ends and :class:`CallbackError` is raised from
        the original exception (``KeyboardInterrupt``/``SystemExit`` are re-raised as
        they are); the session stays usable.

        Speculative decoding (``specdec_generate_speculative``) is used when
        ``drafter`` is given (or ``draft_model`` alone, which means "model"):

        * ``drafter``: "ngram" (prompt lookup; ``ngram_min``/``ngram_max``), "suffix"
          (suffix tree, proposes trees), "model" (``draft_model``, a smaller
          :class:`Model` with the same vocabulary; a Model may also be passed as
          ``drafter``), "none" (plain decoding through the speculative path), or a
          :class:`specdec.Drafter` / :class:`specdec.PluginDrafter` object;
        * ``draft_length``: most draft tokens per round (0 = plain decoding);
        * ``acceptance``: "greedy" (output identical to greedy decoding), "sample"
          (lossless speculative sampling) or "topk" (top-``beta`` with tolerance
          ``tau``; beta 1 is greedy);
        * ``adaptive``: adapt the draft length to the acceptance rate.

        A failing Python drafter ends generation with :class:`CallbackError` raised
        from its exception (``err.tokens``: ids generated so far); the session stays
        usable. Statistics, including drafted/accepted tokens, are in :attr:`stats`.
        """
        prompt, n_prompt = _id_array(prompt_ids, "prompt_ids")
        stops, n_stops = _id_array(stop_tokens, "stop_tokens")
        params = _generate_params(
            max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stops, n_stops, stop_at_eos
        )
        spec, custom = _speculation(
            drafter, draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max
        )
        lib = _ffi.lib()

        def invoke(ptr, params_ref, spec_ref, out, cap, n_out):
            if spec_ref is None:
                return lib.specdec_generate(ptr, prompt, n_prompt, params_ref, out, cap, n_out)
            return lib.specdec_generate_speculative(ptr, prompt, n_prompt, params_ref, spec_ref, out, cap, n_out)

        return self._run_tokens(invoke, params, spec, custom, on_token, _DECODER_ONLY_HINT)

    def _run_tokens(self, invoke, params, spec, custom, on_token, hint: str = "") -> List[int]:
        """Runs one token-producing call (generate, speculative, seq2seq) with the
        streaming callback and a custom drafter wired up; raises its error."""
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
        drafter_failure = None
        ptr = self._enter()
        try:
            if custom is not None:
                spec.custom_drafter = custom._acquire()
            try:
                code = invoke(
                    ptr, ctypes.byref(params), None if spec is None else ctypes.byref(spec), out, cap,
                    ctypes.byref(n_out),
                )
            finally:
                if custom is not None:
                    drafter_failure = custom._release()
            message = self._failure_message(ptr, code, hint)
        finally:
            self._leave()
        tokens = list(out[: max(0, min(n_out.value, cap))])
        del trampoline
        exc = state.exc if state is not None else None
        _raise_for_status(code, message, tokens, exc, drafter_failure)
        return tokens

    def _failure_message(self, ptr, code: int, hint: str = "") -> str:
        """The session's message for a failed call ("" for SPECDEC_OK), with `hint`
        added when the library refused a decoder-only call on an encoder-decoder model
        (or the reverse)."""
        if code == _ffi.SPECDEC_OK:
            return ""
        message = last_message(ptr)
        if hint and code == _ffi.SPECDEC_ERR_INVALID_ARGUMENT and ("decoder-only" in message or "encoder-decoder" in message):
            wrong_kind = self.model.info.is_encoder_decoder == (hint is _DECODER_ONLY_HINT)
            if wrong_kind:
                message = f"{message} ({hint})"
        return message

    # -- text (ABI 2) -----------------------------------------------------

    def generate_text(
        self,
        prompt: Union[str, bytes],
        max_new_tokens: Optional[int] = None,
        temperature: float = 0.0,
        top_k: int = 0,
        top_p: float = 1.0,
        min_p: float = 0.0,
        repetition_penalty: float = 1.0,
        seed: int = 0,
        stop_tokens: Iterable[int] = (),
        stop_at_eos: bool = True,
        on_text: Optional[TextCallback] = None,
        *,
        on_token: Optional[TokenCallback] = None,
        tokenizer: Optional[Tokenizer] = None,
        add_special_tokens: bool = True,
        skip_special_tokens: bool = True,
        drafter=None,
        draft_model: Optional[Model] = None,
        draft_length: int = 5,
        acceptance: Union[str, int] = "greedy",
        beta: int = 5,
        tau: float = 3.0,
        adaptive: bool = False,
        ngram_min: int = 1,
        ngram_max: int = 3,
    ) -> str:
        """Generates from a text prompt (``specdec_generate_text``) and returns the
        generated text (the prompt not included).

        The prompt is encoded with ``tokenizer`` (a :class:`Tokenizer`; by default the
        model's own, :attr:`Model.tokenizer`), applying its BOS/EOS template when
        ``add_special_tokens``; the output leaves special tokens out when
        ``skip_special_tokens``. ``prompt`` is a str, or UTF-8 bytes (invalid UTF-8
        raises :class:`InvalidUTF8Error`; a NUL byte :class:`InvalidArgumentError`).

        ``on_text(piece)`` receives each new piece of complete text as it is generated
        (the pieces concatenate to the result): return None/False to continue, True to
        stop. If it raises, generation ends with :class:`CallbackError` raised from the
        exception (``err.text``: the text streamed so far); the session stays usable.
        ``on_token(token, index)`` streams ids as in :meth:`generate`.

        Sampling, stopping and speculative options (``drafter=...``) are those of
        :meth:`generate`. The generated ids are in :attr:`tokens` (after the prompt's)
        and the statistics in :attr:`stats`.

        On an encoder-decoder model the encoded prompt is the source and the result the
        decoded translation (as :meth:`translate` of those ids would give).
        """
        require("specdec_generate_text")
        raw_prompt = text_bytes(prompt, "prompt", nul_terminated=True)
        stops, n_stops = _id_array(stop_tokens, "stop_tokens")
        params = _generate_params(
            max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stops, n_stops, stop_at_eos
        )
        spec, custom = _speculation(
            drafter, draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max
        )
        lib = _ffi.lib()
        text_params = lib.specdec_text_default_params()
        text_params.add_special_tokens = 1 if add_special_tokens else 0
        text_params.skip_special_tokens = 1 if skip_special_tokens else 0
        if tokenizer is not None:
            if not isinstance(tokenizer, Tokenizer):
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                    f"tokenizer must be a specdec.Tokenizer, not {type(tokenizer).__name__}",
                )
            text_params.tokenizer = tokenizer._handle()
        token_state = None
        token_trampoline = None
        if on_token is not None:
            if not callable(on_token):
                raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "on_token must be callable")
            token_state = _CallbackState(on_token)
            token_trampoline = _ffi.specdec_token_callback(token_state)
            params.callback = token_trampoline
        text_state = _TextCallbackState(on_text)
        text_trampoline = None
        if on_text is not None:
            if not callable(on_text):
                raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "on_text must be callable")
            text_trampoline = _ffi.specdec_text_callback(text_state)
            text_params.on_text = text_trampoline
        cap = max(1, _initial_text_cap(params.max_new_tokens))
        buf = ctypes.create_string_buffer(cap)
        length = ctypes.c_size_t(0)
        drafter_failure = None
        host_failure = None
        text = b""
        ptr = self._enter()
        try:
            if custom is not None:
                spec.custom_drafter = custom._acquire()
            clear_host_failure()
            try:
                code = lib.specdec_generate_text(
                    ptr, raw_prompt, ctypes.byref(params), None if spec is None else ctypes.byref(spec),
                    ctypes.byref(text_params), buf, cap, ctypes.byref(length),
                )
            finally:
                if custom is not None:
                    drafter_failure = custom._release()
                host_failure = take_host_failure()
            if code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL:
                # The call completed; the text waits in the session.
                code, text = self._session_text(ptr, length.value)
            elif code == _ffi.SPECDEC_OK:
                text = buf.raw[: length.value]
            message = self._failure_message(ptr, code)
        finally:
            self._leave()
        del token_trampoline, text_trampoline
        callback_exc = text_state.exc if text_state.exc is not None else (
            token_state.exc if token_state is not None else None
        )
        if code == _ffi.SPECDEC_ERR_CALLBACK and text_state.exc is not None and isinstance(text_state.exc, Exception):
            detail = f"on_text raised {type(text_state.exc).__name__}: {text_state.exc}"
            message = f"{message} ({detail})" if message else detail
        try:
            if code != _ffi.SPECDEC_OK and callback_exc is None and host_failure is not None:
                # A host tokenizer raised: CallbackError from its exception (see
                # Tokenizer._check for why the library's code is not kept).
                _raise_for_status(_ffi.SPECDEC_ERR_CALLBACK, message, [], None, host_failure, "host tokenizer")
            _raise_for_status(code, message, [], callback_exc, drafter_failure)
        except CallbackError as err:
            err.text = "".join(text_state.pieces)  # type: ignore[attr-defined]
            raise
        return text.decode("utf-8", errors="replace")

    @staticmethod
    def _session_text(ptr, needed: int):
        """(status, bytes) of ``specdec_session_text``."""
        lib = _ffi.lib()
        cap = max(needed + 1, 16)
        while True:
            buf = ctypes.create_string_buffer(cap)
            length = ctypes.c_size_t(0)
            code = lib.specdec_session_text(ptr, buf, cap, ctypes.byref(length))
            if code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL and length.value >= cap:
                cap = length.value + 1
                continue
            return code, (buf.raw[: length.value] if code == _ffi.SPECDEC_OK else b"")

    @property
    def text(self) -> str:
        """The text of the session's last :meth:`generate_text` call
        (``specdec_session_text``)."""
        require("specdec_session_text")
        ptr = self._enter()
        try:
            code, raw = self._session_text(ptr, 256)
            check(code, ptr)
        finally:
            self._leave()
        return raw.decode("utf-8", errors="replace")

    # -- encoder-decoder models (ABI 2) -------------------------------------

    def set_source(self, source_ids: Sequence[int]) -> None:
        """Encodes ``source_ids`` (``specdec_session_set_source``) and empties the
        decoder cache; afterwards :meth:`eval`, :meth:`truncate`, :attr:`tokens` and
        :attr:`length` work on the decoder side, whose first token is the decoder start
        token (``model.info.decoder_start_token_id``), which you evaluate yourself.

        Errors: :class:`InvalidArgumentError` (a decoder-only model),
        :class:`CapacityError` (longer than ``max_source_length``),
        :class:`TokenOutOfRangeError` (ids beyond ``source_vocab_size``)."""
        require("specdec_session_set_source", "the encoder-decoder API")
        src, n_src = _id_array(source_ids, "source_ids")
        ptr = self._enter()
        try:
            code = _ffi.lib().specdec_session_set_source(ptr, src, n_src)
            message = self._failure_message(ptr, code, _SEQ2SEQ_HINT)
        finally:
            self._leave()
        if code != _ffi.SPECDEC_OK:
            raise make_error(code, message)

    def translate(
        self,
        source_ids: Sequence[int],
        prefix: Sequence[int] = (),
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
        *,
        drafter=None,
        draft_model: Optional[Model] = None,
        draft_length: int = 5,
        acceptance: Union[str, int] = "greedy",
        beta: int = 5,
        tau: float = 3.0,
        adaptive: bool = False,
        ngram_min: int = 1,
        ngram_max: int = 3,
    ) -> List[int]:
        """Generates the target sequence for ``source_ids`` on an encoder-decoder model
        (``specdec_generate_seq2seq``) and returns its ids.

        Decoding starts from the decoder start token followed by the forced target
        ``prefix``; neither is part of the result. Sampling, stopping, streaming and
        speculative options are those of :meth:`generate`; the drafters see the source
        ("ngram" prompt lookup copies from it; "suffix" and :class:`specdec.Drafter`
        objects work too). Greedy acceptance gives exactly the greedy translation.
        """
        require("specdec_generate_seq2seq", "the encoder-decoder API")
        src, n_src = _id_array(source_ids, "source_ids")
        pre, n_pre = _id_array(prefix, "prefix")
        stops, n_stops = _id_array(stop_tokens, "stop_tokens")
        params = _generate_params(
            max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stops, n_stops, stop_at_eos
        )
        spec, custom = _speculation(
            drafter, draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max
        )
        lib = _ffi.lib()

        def invoke(ptr, params_ref, spec_ref, out, cap, n_out):
            return lib.specdec_generate_seq2seq(
                ptr, src, n_src, pre if n_pre else None, n_pre, params_ref, spec_ref, out, cap, n_out
            )

        return self._run_tokens(invoke, params, spec, custom, on_token, _SEQ2SEQ_HINT)

    def beam_search(
        self,
        source_ids: Sequence[int],
        beams: int = 4,
        max_new_tokens: Optional[int] = None,
        length_penalty: float = 1.0,
        early_stopping: Union[str, bool, int] = "heuristic",
        num_return: int = 1,
    ) -> List["Hypothesis"]:
        """Beam search on an encoder-decoder model (``specdec_beam_search``), identical
        to transformers' ``generate(num_beams=beams, ...)``.

        ``early_stopping``: "heuristic" (transformers' ``False``, the default),
        "beams" (``True``: stop when ``beams`` hypotheses ended) or "never"; the
        booleans are accepted as in transformers. ``max_new_tokens`` defaults to the
        library's 128. Returns up to ``num_return`` (1..beams) hypotheses, best first:
        their ids (EOS included when they ended with it), score (the length-penalised
        log-probability, transformers' ``sequences_scores``) and ``ended_with_eos``.
        """
        require("specdec_beam_search", "the encoder-decoder API")
        src, n_src = _id_array(source_ids, "source_ids")
        lib = _ffi.lib()
        params = lib.specdec_beam_default_params()
        params.beam_size = _int32(beams, "beams")
        if max_new_tokens is not None:
            params.max_new_tokens = _int32(max_new_tokens, "max_new_tokens")
        params.length_penalty = float(length_penalty)
        params.early_stopping = _early_stopping(early_stopping)
        params.num_return = _int32(num_return, "num_return")
        per = max(params.max_new_tokens, 1)
        k = max(params.num_return, 1)
        tokens = (ctypes.c_int32 * (k * per))()
        lengths = (ctypes.c_int32 * k)()
        scores = (ctypes.c_float * k)()
        ended = (ctypes.c_int32 * k)()
        count = ctypes.c_int32(0)
        ptr = self._enter()
        try:
            code = lib.specdec_beam_search(
                ptr, src, n_src, ctypes.byref(params), tokens, lengths, scores, ended, ctypes.byref(count)
            )
            message = self._failure_message(ptr, code, _SEQ2SEQ_HINT)
        finally:
            self._leave()
        if code != _ffi.SPECDEC_OK:
            raise make_error(code, message)
        hypotheses = []
        for i in range(max(0, min(count.value, k))):
            n = max(0, min(lengths[i], per))
            hypotheses.append(
                Hypothesis(list(tokens[i * per : i * per + n]), float(scores[i]), bool(ended[i]))
            )
        return hypotheses


_DECODER_ONLY_HINT = "encoder-decoder models generate with Session.translate() or Session.beam_search()"
_SEQ2SEQ_HINT = "decoder-only models generate with Session.generate() or Session.generate_text()"

EARLY_STOPPING = {
    "heuristic": _ffi.SPECDEC_EARLY_STOP_HEURISTIC,
    "beams": _ffi.SPECDEC_EARLY_STOP_BEAMS,
    "never": _ffi.SPECDEC_EARLY_STOP_NEVER,
}


def _early_stopping(value) -> int:
    if isinstance(value, bool):  # transformers' early_stopping=False / True
        return _ffi.SPECDEC_EARLY_STOP_BEAMS if value else _ffi.SPECDEC_EARLY_STOP_HEURISTIC
    if isinstance(value, str):
        try:
            return EARLY_STOPPING[value.lower()]
        except KeyError:
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                f"early_stopping must be one of {sorted(EARLY_STOPPING)} or a bool, not {value!r}",
            ) from None
    return _int32(value, "early_stopping")


@dataclass(frozen=True)
class Hypothesis:
    """One beam search result: ids (EOS included when it ended with one), score (the
    length-penalised log-probability) and whether it ended with EOS."""

    tokens: List[int]
    score: float
    ended_with_eos: bool


class _TextCallbackState:
    """The on_text trampoline's state: the pieces streamed and the exception raised."""

    __slots__ = ("fn", "exc", "pieces")

    def __init__(self, fn: Optional[TextCallback]):
        self.fn = fn
        self.exc: Optional[BaseException] = None
        self.pieces: List[str] = []

    def __call__(self, user_data, text, length: int) -> int:
        # Runs inside the C call: nothing may propagate out of here.
        try:
            piece = ctypes.string_at(text, length).decode("utf-8", errors="replace") if length else ""
            self.pieces.append(piece)
            return _ffi.SPECDEC_CALLBACK_STOP if self.fn(piece) else _ffi.SPECDEC_CALLBACK_CONTINUE
        except BaseException as exc:  # noqa: B036 - re-raised by generate_text()
            self.exc = exc
            return -1


def _initial_text_cap(max_new_tokens: int) -> int:
    """Bytes first offered for generate_text's output (more come from
    specdec_session_text when the text is longer)."""
    return 64 + 16 * max(max_new_tokens, 0)


def _speculation(drafter, draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max):
    """(spec, custom) for a generate call: (None, None) for plain decoding."""
    if drafter is None and draft_model is None:
        return None, None
    return speculative_params(
        "model" if drafter is None else drafter,
        draft_model=draft_model,
        draft_length=draft_length,
        acceptance=acceptance,
        beta=beta,
        tau=tau,
        adaptive=adaptive,
        ngram_min=ngram_min,
        ngram_max=ngram_max,
    )


def _generate_params(
    max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stops, n_stops, stop_at_eos
) -> "_ffi.specdec_generate_params_t":
    """A specdec_generate_params_t (without callback); `stops` must outlive the call."""
    params = _ffi.lib().specdec_generate_default_params()
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
    return params


def _raise_for_status(
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
