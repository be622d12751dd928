"""Drafters for speculative decoding: Python drafters and plugins.

A drafter proposes tokens that the target model then checks in one pass. libspecdec has
built-in drafters ("ngram", "suffix", "model"); this module adds the two kinds a host
supplies through ``specdec_drafter_t``:

* :class:`Drafter`, a base class to subclass in Python: implement
  ``propose(tokens, n_prompt, max_tokens)``; it is wrapped with
  ``specdec_drafter_create`` and ctypes callbacks;
* :class:`PluginDrafter`, a drafter loaded from a shared object that exports
  ``specdec_plugin_entry`` (:func:`load_drafter_plugin`).

Both are passed to ``Session.generate(..., drafter=...)`` or
:func:`specdec.generate_with_verifier`.
"""

from __future__ import annotations

import ctypes
import itertools
import operator
import os
import threading
import weakref
from typing import Dict, List, Optional, Sequence, Tuple, Union

from . import _ffi
from ._handle import Handle
from ._marshal import INT32_MAX, INT32_MIN, is_sequence, new_handle, sized, write_float_rows
from .errors import ClosedError, InvalidArgumentError

#: What ``propose`` may return: a chain of ids, or ``(tokens, parents)`` for a tree,
#: optionally ``(tokens, parents, probabilities)``.
Proposal = Union[None, Sequence[int], Tuple[Sequence[int], Sequence[int]], Tuple[Sequence[int], Sequence[int], object]]


class BaseDrafter(Handle):
    """A ``specdec_drafter_t`` handle owned by Python (see :class:`Drafter` and
    :class:`PluginDrafter`). Use it as a context manager or call :meth:`close`; it is
    also released when garbage-collected.

    A drafter serves one generate call at a time; a second concurrent call with the
    same drafter is refused with :class:`InvalidArgumentError`.
    """

    _noun = "drafter"
    _failure: Optional[BaseException] = None
    _busy = False

    def close(self) -> None:
        """Releases the C drafter (``specdec_drafter_destroy``). Idempotent."""
        if self._busy:
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT, "cannot close a drafter while a generate call uses it"
            )
        ptr, self._ptr = self._ptr, None
        if ptr:
            _ffi.lib().specdec_drafter_destroy(ptr)

    # -- one generate call ------------------------------------------------

    def _acquire(self):
        """Marks the drafter as used by one call; returns its handle."""
        ptr = self._handle()
        with _REGISTRY_LOCK:
            if self._busy:
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT, "the drafter is already used by another generate call"
                )
            self._busy = True
        self._failure = None
        return ptr

    def _release(self) -> Optional[BaseException]:
        """Ends the call; returns the exception a callback raised, if any."""
        failure, self._failure = self._failure, None
        self._busy = False
        return failure


class PluginDrafter(BaseDrafter):
    """A drafter loaded from a shared object (``specdec_drafter_load_plugin``).

    The object exports ``specdec_plugin_entry`` and does not link libspecdec; its
    ``create(config)`` makes the instance. Errors: :class:`SpecDecIOError` (cannot be
    loaded), :class:`FormatError` (no entry symbol), :class:`UnsupportedError` (cannot
    serve this ABI), :class:`CallbackError` (its create failed).
    """

    def __init__(self, path: Union[str, bytes, "os.PathLike[str]"], config: Optional[str] = None):
        self.path = os.fsdecode(path)
        raw_path = os.fsencode(path)
        if b"\0" in raw_path:
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"plugin path contains a NUL byte: {path!r}")
        raw_config = None
        if config is not None:
            raw_config = config.encode("utf-8") if isinstance(config, str) else bytes(config)
            if b"\0" in raw_config:
                raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "plugin config contains a NUL byte")
        self.config = config
        self._ptr = new_handle(_ffi.specdec_drafter_p, "specdec_drafter_load_plugin", "a drafter", raw_path, raw_config)

    def __repr__(self) -> str:
        state = " (closed)" if self.closed else ""
        return f"<specdec.PluginDrafter {self.path!r} config={self.config!r}{state}>"


def load_drafter_plugin(path: Union[str, bytes, "os.PathLike[str]"], config: Optional[str] = None) -> PluginDrafter:
    """Loads a drafter plugin (a ``.so`` exporting ``specdec_plugin_entry``).

    ``config`` is passed to the plugin's ``create`` (e.g. ``"max_ngram=3"``)."""
    return PluginDrafter(path, config)


# ---------------------------------------------------------------------------
# Python drafters
# ---------------------------------------------------------------------------

# Re-entrant: a finalizer (Drafter.__del__ -> close) may run on a thread that holds it,
# when the garbage collector kicks in while it is held.
_REGISTRY_LOCK = threading.RLock()
_LIVE: Dict[int, "weakref.ref[Drafter]"] = {}
_KEYS = itertools.count(1)  # the `instance` pointer handed to C; never 0 (NULL)


def _lookup(instance) -> Optional["Drafter"]:
    ref = _LIVE.get(instance or 0)
    return ref() if ref is not None else None


def _int32_id(value, what: str) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, not {type(value).__name__}") from None
    if not INT32_MIN <= value <= INT32_MAX:
        raise ValueError(f"{what} = {value} does not fit in int32")
    return value


def _split_proposal(result, max_tokens: int):
    """(tokens, parents, probabilities) from what propose returned."""
    if result is None:
        return [], [], None
    probabilities = None
    if isinstance(result, tuple) and len(result) in (2, 3) and all(is_sequence(part) for part in result[:2]):
        tokens = list(result[0])
        parents = list(result[1])
        if len(result) == 3:
            probabilities = result[2]
        if len(parents) != len(tokens):
            raise ValueError(f"propose returned {len(tokens)} tokens but {len(parents)} parents")
    else:
        if not is_sequence(result) and not hasattr(result, "__iter__"):
            raise TypeError(
                f"propose must return a list of ids or (tokens, parents), not {type(result).__name__}"
            )
        tokens = list(result)
        parents = list(range(-1, len(tokens) - 1))
    if len(tokens) > max_tokens:
        raise ValueError(f"propose returned {len(tokens)} tokens, more than max_tokens = {max_tokens}")
    tokens = [_int32_id(t, f"token[{i}]") for i, t in enumerate(tokens)]
    parents = [_int32_id(p, f"parent[{i}]") for i, p in enumerate(parents)]
    return tokens, parents, probabilities


def _propose(instance, request, output) -> int:
    # Runs inside the C call: nothing may propagate out of here.
    drafter = _lookup(instance)
    if drafter is None:
        return -1
    try:
        if drafter._failure is not None:  # an earlier callback of this call failed
            return -1
        req = request.contents
        out = output.contents
        n = req.n_tokens
        tokens = req.tokens[:n] if n > 0 and req.tokens else []
        max_tokens = max(0, req.max_tokens)
        result = drafter.propose(tokens, req.n_prompt, max_tokens)
        ids, parents, probabilities = _split_proposal(result, max_tokens)
        for i, (token, parent) in enumerate(zip(ids, parents)):
            out.tokens[i] = token
            out.parents[i] = parent
        out.has_probabilities = 0
        if probabilities is not None and req.want_probabilities and out.probabilities and ids:
            write_float_rows(probabilities, len(ids), req.vocab_size, out.probabilities, "probabilities")
            out.has_probabilities = 1
        out.n_tokens = len(ids)
        return 0
    except BaseException as exc:  # noqa: B036 - re-raised by the generate call
        drafter._failure = exc
        return -1


def _begin(instance, request) -> int:
    drafter = _lookup(instance)
    if drafter is None:
        return -1
    try:
        req = request.contents
        n = req.n_tokens
        tokens = req.tokens[:n] if n > 0 and req.tokens else []
        drafter.begin(tokens, req.n_prompt)
        return 0
    except BaseException as exc:  # noqa: B036
        drafter._failure = exc
        return -1


def _accepted(instance, path, n_path, next_token) -> None:
    drafter = _lookup(instance)
    if drafter is None or drafter._failure is not None:
        return
    try:
        drafter.accepted(path[:n_path] if n_path > 0 and path else [], next_token)
    except BaseException as exc:  # noqa: B036 - the next propose fails, then it is re-raised
        drafter._failure = exc


# Created once; they live as long as the module (the C side may call them any time a
# drafter exists).
_PROPOSE = _ffi.specdec_propose_fn(_propose)
_BEGIN = _ffi.specdec_begin_fn(_begin)
_ACCEPTED = _ffi.specdec_accepted_fn(_accepted)


class Drafter(BaseDrafter):
    """Base class of drafters written in Python.

    Subclasses implement :meth:`propose`, and optionally :meth:`begin` and
    :meth:`accepted`. An instance is wrapped with ``specdec_drafter_create`` on first
    use and passed as ``Session.generate(..., drafter=instance)``.

    An exception raised in a callback never crosses into C: the callback reports a
    failure, generation ends with :class:`CallbackError` raised from the exception
    (``err.__cause__``; ``err.tokens`` holds the ids generated so far), and the session
    stays usable. So do malformed proposals (more than ``max_tokens`` ids, ids that are
    not int32, parents not matching tokens); ids outside the vocabulary are refused by
    the library with the same error.
    """

    def propose(self, tokens: List[int], n_prompt: int, max_tokens: int) -> Proposal:
        """Proposes up to ``max_tokens`` draft tokens to follow ``tokens``.

        ``tokens`` is the sequence so far (prompt, then output; the last id is the
        newest, not yet verified), of which the first ``n_prompt`` are the prompt.

        Return a list of ids (a chain), ``(tokens, parents)`` for a tree (``parents[i]``
        is the index of node i's parent, -1 for a node that follows the newest token;
        parents precede children), or ``(tokens, parents, probabilities)`` with one row
        of vocab_size floats per node when the drafter sampled its proposal (used by
        ``acceptance="sample"``). Return an empty list (or None) to propose nothing.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement propose()")

    def begin(self, tokens: List[int], n_prompt: int) -> None:
        """Optional: a request starts (``tokens`` is the prompt, plus its first token)."""

    def accepted(self, path: List[int], next_token: int) -> None:
        """Optional: the target kept the proposal's nodes ``path`` (indices, root first)
        and appended ``next_token``."""

    def _handle(self):
        ptr = self._ptr
        if ptr:
            return ptr
        if getattr(self, "_closed", False):
            raise ClosedError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "the drafter is closed")
        cls = type(self)
        vtable = sized(_ffi.specdec_drafter_vtable_t)
        vtable.abi_version = _ffi.SPECDEC_PLUGIN_ABI_VERSION
        vtable.propose = _PROPOSE
        if cls.begin is not Drafter.begin:
            vtable.begin = _BEGIN
        if cls.accepted is not Drafter.accepted:
            vtable.accepted = _ACCEPTED
        with _REGISTRY_LOCK:
            if self._ptr:
                return self._ptr
            key = next(_KEYS)
            _LIVE[key] = weakref.ref(self)
        try:
            out = new_handle(
                _ffi.specdec_drafter_p, "specdec_drafter_create", "a drafter", ctypes.byref(vtable), ctypes.c_void_p(key)
            )
        except BaseException:
            with _REGISTRY_LOCK:
                _LIVE.pop(key, None)
            raise
        self._vtable = vtable  # must stay valid while the drafter lives
        self._key = key
        self._ptr = out
        return out

    def close(self) -> None:
        super().close()
        self._closed = True
        key = getattr(self, "_key", None)
        if key is not None:
            _LIVE.pop(key, None)  # atomic; no lock here, this also runs from __del__
            self._key = None

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__} (specdec.Drafter)>"
