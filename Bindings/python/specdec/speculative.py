"""The speculative options of a generate call (``specdec_speculative_params_t``): which
drafter proposes tokens, how the target accepts them, and the custom drafter it uses."""

from __future__ import annotations

import contextlib
import ctypes
from typing import Optional

from . import _ffi
from ._marshal import int32, name_or_int32
from .drafter import BaseDrafter
from .errors import InvalidArgumentError
from .model import Model

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


class Speculation:
    """The speculative options of one call: the struct (None for plain decoding) and
    the custom drafter it names, which :meth:`drafting` holds for the call."""

    def __init__(self, params: Optional["_ffi.specdec_speculative_params_t"] = None,
                 custom: Optional[BaseDrafter] = None):
        self.params = params
        self.custom = custom
        self.drafter_failure: Optional[BaseException] = None

    @property
    def ref(self):
        """The struct's address for the C call (NULL for plain decoding)."""
        return None if self.params is None else ctypes.byref(self.params)

    @contextlib.contextmanager
    def drafting(self):
        """Holds the custom drafter around the C call; afterwards ``drafter_failure``
        is the exception one of its callbacks raised, if any."""
        if self.custom is None:
            yield
            return
        self.params.custom_drafter = self.custom._acquire()
        try:
            yield
        finally:
            self.drafter_failure = self.custom._release()


def speculative_params(
    drafter, draft_model: Optional[Model], draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max
) -> Speculation:
    """Builds a ``specdec_speculative_params_t`` from the speculative options of the
    generate calls (see :meth:`Session.generate`).

    ``drafter``: "none", "ngram", "suffix", "model" (with ``draft_model``), a
    :class:`Model` (the draft model itself), a :class:`BaseDrafter` (custom), or a
    ``SPECDEC_DRAFTER_*`` value.
    """
    params = _ffi.lib().specdec_speculative_default_params()
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
        params.drafter = name_or_int32(DRAFTERS, drafter, "drafter")
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
    params.acceptance = name_or_int32(ACCEPTANCE_RULES, acceptance, "acceptance")
    params.draft_length = int32(draft_length, "draft_length")
    params.adaptive = 1 if adaptive else 0
    params.top_beta = int32(beta, "beta")
    params.tolerance_tau = float(tau)
    params.ngram_min = int32(ngram_min, "ngram_min")
    params.ngram_max = int32(ngram_max, "ngram_max")
    return Speculation(params, custom)


def speculation(drafter, draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max) -> Speculation:
    """The options of a session's generate call: plain decoding without ``drafter`` and
    ``draft_model``; ``draft_model`` alone means the "model" drafter."""
    if drafter is None and draft_model is None:
        return Speculation()
    return speculative_params(
        "model" if drafter is None else drafter,
        draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max,
    )
