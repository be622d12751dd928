"""Batched decoding (ABI 4): many inputs per call (``specdec_generate_batch``,
``specdec_beam_search_batch``), their options (``specdec_batch_params_t``), output
buffers, and the error that names the sequence that failed."""

from __future__ import annotations

import ctypes
import operator
from typing import List, Optional, Sequence

from . import _ffi
from ._marshal import id_array, int32
from .errors import InvalidArgumentError, SpecDecError, make_error
from .seq2seq import Hypothesis


class BatchInputs:
    """Token id lists as the C arrays a batch call reads: one int32 array per input, an
    array of their addresses and an array of their lengths."""

    def __init__(self, inputs: Sequence[Sequence[int]], what: str):
        if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__len__"):
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{what} must be a list of id lists")
        self.arrays = [id_array(ids, f"{what}[{i}]") for i, ids in enumerate(inputs)]
        self.count = len(self.arrays)
        n = max(self.count, 1)
        self.pointers = (ctypes.POINTER(ctypes.c_int32) * n)(
            *[ctypes.cast(array, ctypes.POINTER(ctypes.c_int32)) for array, _ in self.arrays]
        )
        self.lengths = (ctypes.c_int32 * n)(*[length for _, length in self.arrays])


def batch_params(batch_size: int, batch_tokens: int, seeds: Optional[Sequence[int]], count: int):
    """A ``specdec_batch_params_t``; it keeps its seed array alive itself."""
    params = _ffi.lib().specdec_batch_default_params()
    params.batch_size = int32(batch_size, "batch_size")
    params.batch_tokens = int32(batch_tokens, "batch_tokens")
    if seeds is not None:
        values = [operator.index(seed) for seed in seeds]
        if len(values) != count:
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"{len(values)} seeds for {count} sequences")
        for seed in values:
            if not 0 <= seed < 2**64:
                raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"seed {seed} is not a uint64")
        array = (ctypes.c_uint64 * max(count, 1))(*values)
        params.seeds = ctypes.cast(array, ctypes.POINTER(ctypes.c_uint64))
    return params


class BatchError(SpecDecError):
    """Some sequences of a batch call failed; the others were decoded.

    Raised as the error class of the first failing sequence's status is not enough to
    keep the good results, so this one carries them:

    Attributes:
        outputs: per input, its result (ids, or hypotheses for beam search), None where
            it failed.
        errors: per input, None or the :class:`SpecDecError` of that sequence.
    """

    def __init__(self, first: SpecDecError, outputs: List, errors: List[Optional[SpecDecError]]):
        super().__init__(first.code, first.message, first.status)
        self.outputs = outputs
        self.errors = errors
        self.first = first


def per_sequence_errors(statuses, count: int, message: str) -> List[Optional[SpecDecError]]:
    """An error per failed sequence: the call's message belongs to the first one; the
    others get their status with their index."""
    errors: List[Optional[SpecDecError]] = []
    first = True
    for i in range(count):
        code = statuses[i]
        if code == _ffi.SPECDEC_OK:
            errors.append(None)
            continue
        errors.append(make_error(code, message if first else f"sequence {i} failed"))
        first = False
    return errors


def raise_for_batch(code: int, message: str, statuses, outputs: List) -> List:
    """Returns ``outputs`` when the call succeeded; raises the call's error when it failed
    as a whole, else a :class:`BatchError` carrying the sequences that were decoded."""
    if code == _ffi.SPECDEC_OK:
        return outputs
    count = len(outputs)
    if all(statuses[i] == _ffi.SPECDEC_OK for i in range(count)):
        raise make_error(code, message)
    errors = per_sequence_errors(statuses, count, message)
    outputs = [None if errors[i] is not None else outputs[i] for i in range(count)]
    raise BatchError(next(e for e in errors if e is not None), outputs, errors)


class BatchTokenOutput:
    """The buffers ``specdec_generate_batch`` fills: count rows of max_new_tokens ids,
    lengths, stop reasons and statuses."""

    def __init__(self, params: "_ffi.specdec_generate_params_t", count: int):
        self.width = max(params.max_new_tokens, 0)
        self.count = count
        n = max(count, 1)
        self.capacity = max(self.width * count, 1)
        self.tokens = (ctypes.c_int32 * self.capacity)()
        self.lengths = (ctypes.c_int32 * n)()
        self.stop_reasons = (ctypes.c_int32 * n)()
        self.statuses = (ctypes.c_int32 * n)()

    def arguments(self) -> tuple:
        return self.tokens, self.capacity, self.lengths, self.stop_reasons, self.statuses

    def outputs(self) -> List[List[int]]:
        rows = []
        for i in range(self.count):
            start = i * self.width
            rows.append(list(self.tokens[start : start + max(0, min(self.lengths[i], self.width))]))
        return rows


class BatchBeamOutput:
    """The buffers ``specdec_beam_search_batch`` fills: num_return hypotheses per source."""

    def __init__(self, params: "_ffi.specdec_beam_params_t", count: int):
        self.width = max(params.max_new_tokens, 1)
        self.per_source = max(params.num_return, 1)
        self.count = count
        rows = max(count, 1) * self.per_source
        self.tokens = (ctypes.c_int32 * (rows * self.width))()
        self.lengths = (ctypes.c_int32 * rows)()
        self.scores = (ctypes.c_float * rows)()
        self.ended = (ctypes.c_int32 * rows)()
        self.found = (ctypes.c_int32 * max(count, 1))()
        self.statuses = (ctypes.c_int32 * max(count, 1))()

    def arguments(self) -> tuple:
        return self.tokens, self.lengths, self.scores, self.ended, self.found, self.statuses

    def outputs(self) -> List[List[Hypothesis]]:
        result = []
        for i in range(self.count):
            hypotheses = []
            for j in range(max(0, min(self.found[i], self.per_source))):
                row = i * self.per_source + j
                n = max(0, min(self.lengths[row], self.width))
                start = row * self.width
                hypotheses.append(Hypothesis(list(self.tokens[start : start + n]), float(self.scores[row]), bool(self.ended[row])))
            result.append(hypotheses)
        return result
