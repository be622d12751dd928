"""generate_with_verifier: speculative decoding against a target model the host implements.

The verifier is any Python object with

* ``prefill(tokens) -> logits``: run the prompt, return the logits of its last token
  (vocab_size floats);
* ``score(tokens, parents) -> rows``: score ``tokens[0]`` (the newest token, not yet
  run) and the draft nodes ``tokens[1:]``; ``parents[i]`` is node i's parent (-1 for
  ``tokens[0]``, 0 for first-level nodes), so node i sees ``tokens[0]`` and its
  ancestors only. Return ``len(tokens)`` rows of vocab_size logits (row i predicts
  what follows ``tokens[i]``), as a sequence of rows or one flat buffer;
* ``commit(path)`` (optional): keep ``tokens[0]`` and the nodes ``path`` (indices into
  the last score call's tokens, ascending) and forget the rest;
* ``remaining_capacity() -> int`` (optional): tokens the verifier can still take.

Rows may be ``array('f')`` (what :meth:`Session.eval` returns), float32 memoryviews or
numpy arrays (copied with memmove), or sequences of numbers.
"""

from __future__ import annotations

import ctypes
import operator
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import _ffi
from ._marshal import id_array, positive_int32, sized, write_float_rows
from .drafter import BaseDrafter
from .errors import InvalidArgumentError, last_message
from .generation import Stats, TokenCallback, TokenOutput, TokenStream, generate_params, raise_for_status, raised_by
from .speculative import speculative_params


class _VerifierCall:
    """The C callbacks of one generate_with_verifier call; failures are kept in `exc`."""

    def __init__(self, verifier, vocab_size: int):
        self.verifier = verifier
        self.vocab = vocab_size
        self.exc: Optional[BaseException] = None
        commit = getattr(verifier, "commit", None)
        remaining = getattr(verifier, "remaining_capacity", None)
        self.vtable = sized(_ffi.specdec_verifier_vtable_t)
        self.vtable.abi_version = _ffi.SPECDEC_PLUGIN_ABI_VERSION
        # The CFUNCTYPE objects are kept alive by this object (and the vtable's _objects).
        self.vtable.prefill = _ffi.specdec_prefill_fn(self._prefill)
        self.vtable.score = _ffi.specdec_score_fn(self._score)
        self.vtable.commit = _ffi.specdec_commit_fn(self._commit if callable(commit) else self._no_commit)
        if callable(remaining):
            self.vtable.remaining_capacity = _ffi.specdec_remaining_capacity_fn(self._remaining)

    def _fail(self, exc: BaseException) -> int:
        if self.exc is None:
            self.exc = exc
        return -1

    def _prefill(self, instance, tokens, n_tokens, logits) -> int:
        try:
            if self.exc is not None:
                return -1
            row = self.verifier.prefill(tokens[:n_tokens] if n_tokens > 0 else [])
            write_float_rows(row, 1, self.vocab, logits, "prefill logits")
            return 0
        except BaseException as exc:  # noqa: B036 - re-raised by generate_with_verifier
            return self._fail(exc)

    def _score(self, instance, tokens, parents, n_tokens, logits) -> int:
        try:
            if self.exc is not None:
                return -1
            ids = tokens[:n_tokens] if n_tokens > 0 else []
            tree = parents[:n_tokens] if n_tokens > 0 else []
            rows = self.verifier.score(ids, tree)
            write_float_rows(rows, n_tokens, self.vocab, logits, "score logits")
            return 0
        except BaseException as exc:  # noqa: B036
            return self._fail(exc)

    def _commit(self, instance, path, n_path) -> int:
        try:
            if self.exc is not None:
                return -1
            self.verifier.commit(path[:n_path] if n_path > 0 else [])
            return 0
        except BaseException as exc:  # noqa: B036
            return self._fail(exc)

    def _no_commit(self, instance, path, n_path) -> int:
        return -1 if self.exc is not None else 0

    def _remaining(self, instance) -> int:
        try:
            value = operator.index(self.verifier.remaining_capacity())
            return max(0, min(value, 2**31 - 1))
        except BaseException as exc:  # noqa: B036
            return self._fail(exc)


def generate_with_verifier(
    verifier,
    vocab_size: int,
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
    drafter: Union[str, int, BaseDrafter] = "ngram",
    draft_length: int = 5,
    acceptance: Union[str, int] = "greedy",
    beta: int = 5,
    tau: float = 3.0,
    adaptive: bool = False,
    ngram_min: int = 1,
    ngram_max: int = 3,
) -> Tuple[List[int], Stats]:
    """Speculative generation (``specdec_generate_with_verifier``) against ``verifier``,
    a target model implemented in Python (see the module docstring), with libspecdec's
    drafters ("ngram", "suffix", or a :class:`Drafter`/:class:`PluginDrafter`; "model"
    is refused by the library) and acceptance rules.

    Returns ``(ids, stats)``. There is no model whose EOS ids could stop generation:
    pass them in ``stop_tokens``.
    An exception raised by the verifier (or a drafter, or ``on_token``) ends the call
    with :class:`CallbackError` raised from it (``err.tokens``: ids generated so far).
    """
    vocab = positive_int32(vocab_size, "vocab_size")
    for method in ("prefill", "score"):
        if not callable(getattr(verifier, method, None)):
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"the verifier has no {method}() method"
            )
    prompt, n_prompt = id_array(prompt_ids, "prompt_ids")
    params = generate_params(
        max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stop_tokens, stop_at_eos
    )
    # No draft model: the verifier is the only model here.
    spec = speculative_params(drafter, None, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max)
    stream = TokenStream.attach(params, on_token)
    call = _VerifierCall(verifier, vocab)
    out = TokenOutput(params)
    raw_stats = sized(_ffi.specdec_stats_t)
    with spec.drafting():
        code = _ffi.lib().specdec_generate_with_verifier(
            ctypes.byref(call.vtable), None, vocab, prompt, n_prompt, ctypes.byref(params), spec.ref,
            *out.arguments(), ctypes.byref(raw_stats),
        )
    message = last_message() if code != _ffi.SPECDEC_OK else ""
    tokens = out.tokens()
    callback_exc = raised_by(stream)
    if callback_exc is None and call.exc is not None:
        raise_for_status(code, message, tokens, None, call.exc, "verifier")
    raise_for_status(code, message, tokens, callback_exc, spec.drafter_failure)
    return tokens, Stats.from_raw(raw_stats)
