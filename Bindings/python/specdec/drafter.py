"""Drafters for speculative decoding: Python drafters, plugins, and the params struct.

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

import array
import ctypes
import itertools
import operator
import os
import threading
import weakref
from typing import Dict, List, Optional, Sequence, Tuple, Union

from . import _ffi
from .errors import ClosedError, InternalError, InvalidArgumentError, check
from .model import Model

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

DRAFTERS = {
    "none": _ffi.SPECDEC_DRAFTER_NONE,
    "model": _ffi.SPECDEC_DRAFTER_MODEL,
    "ngram": _ffi.SPECDEC_DRAFTER_NGRAM,
    "suffix": _ffi.SPECDEC_DRAFTER_SUFFIX,
    "custom": _ffi.SPECDEC_DRAFTER_CUSTOM,
    # SpecDec's Spec-Drafter for encoder-decoder targets: pass it as draft_model.
    "specdec": _ffi.SPECDEC_DRAFTER_SPECDEC,
}

ACCEPTANCE_RULES = {
    "greedy": _ffi.SPECDEC_ACCEPT_GREEDY,
    "sample": _ffi.SPECDEC_ACCEPT_SAMPLE,
    "topk": _ffi.SPECDEC_ACCEPT_TOPK,
}

#: What ``propose`` may return: a chain of ids, or ``(tokens, parents)`` for a tree,
#: optionally ``(tokens, parents, probabilities)``.
Proposal = Union[None, Sequence[int], Tuple[Sequence[int], Sequence[int]], Tuple[Sequence[int], Sequence[int], object]]


class BaseDrafter:
    """A ``specdec_drafter_t`` handle owned by Python (see :class:`Drafter` and
    :class:`PluginDrafter`). Use it as a context manager or call :meth:`close`; it is
    also released when garbage-collected.

    A drafter serves one generate call at a time; a second concurrent call with the
    same drafter is refused with :class:`InvalidArgumentError`.
    """

    _ptr = None
    _failure: Optional[BaseException] = None
    _busy = False

    def _handle(self):
        """The live ``specdec_drafter_t *`` (created on first use)."""
        ptr = self._ptr
        if not ptr:
            raise ClosedError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, "the drafter is closed")
        return ptr

    @property
    def closed(self) -> bool:
        return not self._ptr

    def close(self) -> None:
        """Releases the C drafter (``specdec_drafter_destroy``). Idempotent."""
        if self._busy:
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT, "cannot close a drafter while a generate call uses it"
            )
        ptr, self._ptr = self._ptr, None
        if ptr:
            _ffi.lib().specdec_drafter_destroy(ptr)

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            if self._ptr:
                self.close()
        except Exception:  # interpreter shutdown: never raise from a finalizer
            pass

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
        out = _ffi.specdec_drafter_p()
        check(_ffi.lib().specdec_drafter_load_plugin(raw_path, raw_config, ctypes.byref(out)))
        if not out:
            raise InternalError(_ffi.SPECDEC_ERR_INTERNAL, "specdec_drafter_load_plugin returned OK without a drafter")
        self._ptr = out

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


def _is_sequence(value) -> bool:
    return not isinstance(value, (str, bytes)) and hasattr(value, "__len__") and hasattr(value, "__getitem__")


def _split_proposal(result, max_tokens: int):
    """(tokens, parents, probabilities) from what propose returned."""
    if result is None:
        return [], [], None
    probabilities = None
    if isinstance(result, tuple) and len(result) in (2, 3) and all(_is_sequence(part) for part in result[:2]):
        tokens = list(result[0])
        parents = list(result[1])
        if len(result) == 3:
            probabilities = result[2]
        if len(parents) != len(tokens):
            raise ValueError(f"propose returned {len(tokens)} tokens but {len(parents)} parents")
    else:
        if not _is_sequence(result) and not hasattr(result, "__iter__"):
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


def _write_rows(rows, n_rows: int, width: int, dst, what: str) -> None:
    """Copies n_rows x width floats to the C buffer `dst` (a float pointer).

    `rows` is one flat buffer/sequence of n_rows * width floats, or a sequence of
    n_rows rows. Buffers of C floats (array('f'), float32 memoryviews or numpy arrays)
    are copied with memmove; other sequences are converted first."""
    base = ctypes.cast(dst, ctypes.c_void_p).value
    if not base:
        raise ValueError(f"no {what} buffer to write to")

    def as_float_bytes(value, count: int) -> Optional[bytes]:
        try:
            view = memoryview(value)
        except TypeError:
            return None
        if view.format not in ("f", "<f", "=f") or not view.c_contiguous:
            return None
        if view.nbytes != 4 * count:
            return None
        return view.tobytes()

    whole = as_float_bytes(rows, n_rows * width)
    if whole is not None:
        ctypes.memmove(base, whole, len(whole))
        return
    if not _is_sequence(rows):
        rows = list(rows)
    if len(rows) == n_rows * width and (not rows or not _is_sequence(rows[0])):
        rows = [rows[i * width : (i + 1) * width] for i in range(n_rows)]  # flat
    if len(rows) != n_rows:
        raise ValueError(f"{what}: expected {n_rows} rows of {width} floats, got {len(rows)} items")
    for i, row in enumerate(rows):
        data = as_float_bytes(row, width)
        if data is None:
            values = array.array("f", row)
            if len(values) != width:
                raise ValueError(f"{what}: row {i} has {len(values)} floats, expected {width}")
            data = values.tobytes()
        ctypes.memmove(base + 4 * width * i, data, len(data))


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
            _write_rows(probabilities, len(ids), req.vocab_size, out.probabilities, "probabilities")
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
        vtable = _ffi.specdec_drafter_vtable_t()
        vtable.struct_size = ctypes.sizeof(vtable)
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
        out = _ffi.specdec_drafter_p()
        code = _ffi.lib().specdec_drafter_create(ctypes.byref(vtable), ctypes.c_void_p(key), ctypes.byref(out))
        if code != _ffi.SPECDEC_OK or not out:
            with _REGISTRY_LOCK:
                _LIVE.pop(key, None)
            check(code)
            raise InternalError(_ffi.SPECDEC_ERR_INTERNAL, "specdec_drafter_create returned OK without a drafter")
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


# ---------------------------------------------------------------------------
# specdec_speculative_params_t
# ---------------------------------------------------------------------------


def _lookup_name(table: Dict[str, int], value, what: str) -> int:
    if isinstance(value, str):
        try:
            return table[value.lower()]
        except KeyError:
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} must be one of {sorted(table)}, not {value!r}"
            ) from None
    try:
        value = operator.index(value)
    except TypeError:
        raise InvalidArgumentError(
            _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} must be a name or an integer, not {type(value).__name__}"
        ) from None
    if not INT32_MIN <= value <= INT32_MAX:
        raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} {value} does not fit in int32")
    return value


def _int(value, what: str) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        raise InvalidArgumentError(
            _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} must be an integer, not {type(value).__name__}"
        ) from None
    if not INT32_MIN <= value <= INT32_MAX:
        raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} {value} does not fit in int32")
    return value


def speculative_params(
    drafter,
    *,
    draft_model: Optional[Model] = None,
    draft_length: int = 5,
    acceptance="greedy",
    beta: int = 5,
    tau: float = 3.0,
    adaptive: bool = False,
    ngram_min: int = 1,
    ngram_max: int = 3,
):
    """Builds a ``specdec_speculative_params_t``.

    ``drafter``: "none", "ngram", "suffix", "model" (with ``draft_model``), a
    :class:`Model` (the draft model itself), a :class:`BaseDrafter` (custom), or a
    ``SPECDEC_DRAFTER_*`` value. Returns ``(params, custom_drafter_or_None)``; the
    caller must :meth:`BaseDrafter._acquire` the custom drafter around the call.
    """
    lib = _ffi.lib()
    params = lib.specdec_speculative_default_params()
    custom: Optional[BaseDrafter] = None
    if isinstance(drafter, BaseDrafter):
        custom = drafter
        params.drafter = _ffi.SPECDEC_DRAFTER_CUSTOM
    elif isinstance(drafter, Model):
        if draft_model is not None and draft_model is not drafter:
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT, "drafter is a Model and draft_model names another one"
            )
        draft_model = drafter
        params.drafter = _ffi.SPECDEC_DRAFTER_MODEL
    else:
        params.drafter = _lookup_name(DRAFTERS, drafter, "drafter")
        if params.drafter == _ffi.SPECDEC_DRAFTER_CUSTOM:
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT, "drafter 'custom' needs a specdec.Drafter or PluginDrafter object"
            )
    if draft_model is not None:
        if not isinstance(draft_model, Model):
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                f"draft_model must be a specdec.Model, not {type(draft_model).__name__}",
            )
        params.draft_model = draft_model._handle()
    params.acceptance = _lookup_name(ACCEPTANCE_RULES, acceptance, "acceptance")
    params.draft_length = _int(draft_length, "draft_length")
    params.adaptive = 1 if adaptive else 0
    params.top_beta = _int(beta, "beta")
    params.tolerance_tau = float(tau)
    params.ngram_min = _int(ngram_min, "ngram_min")
    params.ngram_max = _int(ngram_max, "ngram_max")
    return params, custom
