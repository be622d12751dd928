"""Encoder-decoder arguments (ABI 2): beam search options (``specdec_beam_params_t``)
and results, and the hint for a call made on the wrong kind of model."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import List, Optional

from . import _ffi
from ._marshal import int32, name_or_int32

DECODER_ONLY_HINT = "encoder-decoder models generate with Session.translate() or Session.beam_search()"
SEQ2SEQ_HINT = "decoder-only models generate with Session.generate() or Session.generate_text()"

EARLY_STOPPING = {
    "heuristic": _ffi.SPECDEC_EARLY_STOP_HEURISTIC,
    "beams": _ffi.SPECDEC_EARLY_STOP_BEAMS,
    "never": _ffi.SPECDEC_EARLY_STOP_NEVER,
}


def explain_wrong_kind(message: str, code: int, hint: str, encoder_decoder: bool) -> str:
    """``message`` with ``hint`` added when the library refused a decoder-only call
    (hint DECODER_ONLY_HINT) on an encoder-decoder model, or the reverse."""
    if hint and code == _ffi.SPECDEC_ERR_INVALID_ARGUMENT and ("decoder-only" in message or "encoder-decoder" in message):
        if encoder_decoder == (hint is DECODER_ONLY_HINT):
            return f"{message} ({hint})"
    return message


def early_stopping(value) -> int:
    """A SPECDEC_EARLY_STOP_* value from a name, transformers' bool, or the value."""
    if isinstance(value, bool):  # transformers' early_stopping=False / True
        return _ffi.SPECDEC_EARLY_STOP_BEAMS if value else _ffi.SPECDEC_EARLY_STOP_HEURISTIC
    return name_or_int32(EARLY_STOPPING, value, "early_stopping", " or a bool")


def beam_params(
    beams: int, max_new_tokens: Optional[int], length_penalty: float, early_stop, num_return: int
) -> "_ffi.specdec_beam_params_t":
    """A ``specdec_beam_params_t`` (the library's default max_new_tokens when None)."""
    params = _ffi.lib().specdec_beam_default_params()
    params.beam_size = int32(beams, "beams")
    if max_new_tokens is not None:
        params.max_new_tokens = int32(max_new_tokens, "max_new_tokens")
    params.length_penalty = float(length_penalty)
    params.early_stopping = early_stopping(early_stop)
    params.num_return = int32(num_return, "num_return")
    return params


@dataclass(frozen=True)
class Hypothesis:
    """One beam search result: ids (EOS included when it ended with one), score (the
    length-penalised log-probability) and whether it ended with EOS."""

    tokens: List[int]
    score: float
    ended_with_eos: bool


class BeamOutput:
    """The buffers ``specdec_beam_search`` fills: num_return rows of max_new_tokens ids,
    their lengths, scores and EOS flags, and the count."""

    def __init__(self, params: "_ffi.specdec_beam_params_t"):
        self.width = max(params.max_new_tokens, 1)
        self.rows = max(params.num_return, 1)
        self.tokens = (ctypes.c_int32 * (self.rows * self.width))()
        self.lengths = (ctypes.c_int32 * self.rows)()
        self.scores = (ctypes.c_float * self.rows)()
        self.ended = (ctypes.c_int32 * self.rows)()
        self.count = ctypes.c_int32(0)

    def hypotheses(self) -> List[Hypothesis]:
        result = []
        for i in range(max(0, min(self.count.value, self.rows))):
            start = i * self.width
            n = max(0, min(self.lengths[i], self.width))
            result.append(Hypothesis(list(self.tokens[start : start + n]), float(self.scores[i]), bool(self.ended[i])))
        return result
