"""specdec.Session: one sequence's KV cache, sampler state and statistics."""

from __future__ import annotations

import array
import contextlib
import ctypes
import threading
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import _ffi
from ._handle import Handle
from ._marshal import id_array, int32, name_or_int32, new_handle, read_array, sized, text_bytes
from .errors import InvalidArgumentError, check, last_message, make_error, require
from .batch import BatchBeamOutput, BatchError, BatchInputs, BatchTokenOutput, batch_params, raise_for_batch
from .generation import Stats, TokenCallback, TokenOutput, TokenStream, generate_params, raise_for_status, raised_by
from .model import Model
from .seq2seq import DECODER_ONLY_HINT, SEQ2SEQ_HINT, BeamOutput, Hypothesis, beam_params, explain_wrong_kind
from .speculative import Speculation, speculation
from .text import TextCallback, TextStream, raise_for_text_status, read_session_text, text_params
from .tokenizer import Tokenizer, clear_host_failure, take_host_failure

__all__ = ["Session", "Stats", "Hypothesis", "TokenCallback", "TextCallback", "BatchError"]

ARENA_BACKENDS = {
    "auto": _ffi.SPECDEC_ARENA_AUTO,
    "jemalloc": _ffi.SPECDEC_ARENA_JEMALLOC,
    "mmap": _ffi.SPECDEC_ARENA_MMAP,
}


def _initial_text_cap(max_new_tokens: int) -> int:
    """Bytes first offered for generate_text's output (more come from
    specdec_session_text when the text is longer)."""
    return 64 + 16 * max(max_new_tokens, 0)


class Session(Handle):
    """A generation session on a :class:`Model`.

    Args:
        model: the model (kept alive by the session).
        kv_capacity: tokens the KV cache holds; 0 means the model's context length.
        n_threads: compute threads; 0 means one per online CPU.
        arena_backend: "auto", "jemalloc" or "mmap" (or a SPECDEC_ARENA_* value).
        max_batch: most tokens one :meth:`eval` call may score; None keeps the
            library default.
        max_sequences: sequences the batch calls (:meth:`generate_batch`,
            :meth:`translate_batch`) decode together; each gets a KV cache of
            ``kv_capacity``, allocated with the session. Default 1.

    A session is used by one thread at a time; the bindings serialise calls from
    several threads and reject re-entrant calls (e.g. from a streaming callback).
    """

    _noun = "session"

    def __init__(
        self,
        model: Model,
        kv_capacity: int = 0,
        n_threads: int = 0,
        arena_backend: Union[str, int] = "auto",
        max_batch: Optional[int] = None,
        max_sequences: int = 1,
    ):
        self._lock = threading.RLock()
        self._depth = 0
        if not isinstance(model, Model):
            raise InvalidArgumentError(
                _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"model must be a specdec.Model, not {type(model).__name__}"
            )
        backend = name_or_int32(ARENA_BACKENDS, arena_backend, "arena_backend")
        params = _ffi.lib().specdec_session_default_params()
        params.kv_capacity = int32(kv_capacity, "kv_capacity")
        params.n_threads = int32(n_threads, "n_threads")
        params.arena_backend = backend
        if max_batch is not None:
            params.max_batch = int32(max_batch, "max_batch")
        params.max_sequences = int32(max_sequences, "max_sequences")
        self.model = model
        self._ptr = new_handle(
            _ffi.specdec_session_p, "specdec_session_create", "a session", model._handle(), ctypes.byref(params)
        )
        self._vocab = model.info.vocab_size
        model._register(self)

    # -- lifetime ---------------------------------------------------------

    @contextlib.contextmanager
    def _using(self):
        """Takes the session for one call and yields the live pointer; serialises
        threads and refuses re-entrant calls (from one of its own callbacks)."""
        with self._lock:
            if self._depth:
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT,
                    "re-entrant call: the session is busy (called from its own streaming callback?)",
                )
            ptr = self._handle()
            self._depth += 1
            try:
                yield ptr
            finally:
                self._depth -= 1

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

    def __repr__(self) -> str:
        if self.closed:
            return "<specdec.Session (closed)>"
        return f"<specdec.Session length={self.length} capacity={self.capacity} arena={self.arena_backend}>"

    # -- state ------------------------------------------------------------

    @property
    def length(self) -> int:
        """Tokens currently held in the KV cache."""
        with self._using() as ptr:
            return _ffi.lib().specdec_session_length(ptr)

    @property
    def capacity(self) -> int:
        """KV capacity in tokens."""
        with self._using() as ptr:
            return _ffi.lib().specdec_session_capacity(ptr)

    @property
    def arena_backend(self) -> str:
        """"jemalloc" or "mmap": where this session's memory comes from."""
        with self._using() as ptr:
            return _ffi.decode(_ffi.lib().specdec_session_arena_backend(ptr))

    @property
    def error_message(self) -> str:
        """The session's most recent failure message ("" if none)."""
        with self._using() as ptr:
            return _ffi.decode(_ffi.lib().specdec_session_error_message(ptr))

    @property
    def tokens(self) -> List[int]:
        """The token ids held in the KV cache, in cache order."""
        lib = _ffi.lib()
        with self._using() as ptr:
            code, ids = read_array(
                ctypes.c_int32, lambda buf, cap, n: lib.specdec_session_tokens(ptr, buf, cap, n),
                max(lib.specdec_session_length(ptr), 1),
            )
            check(code, ptr)
        return ids

    @property
    def stats(self) -> Stats:
        """Statistics of the most recent :meth:`generate` call."""
        with self._using() as ptr:
            raw = sized(_ffi.specdec_stats_t)
            check(_ffi.lib().specdec_session_get_stats(ptr, ctypes.byref(raw)), ptr)
            return Stats.from_raw(raw, self._acceptance_by_depth(ptr))

    @property
    def acceptance_by_depth(self) -> Tuple[float, ...]:
        """Acceptance rate of the last request per draft depth (index 0 = first draft
        token); empty after plain decoding."""
        with self._using() as ptr:
            return self._acceptance_by_depth(ptr)

    @staticmethod
    def _acceptance_by_depth(ptr) -> Tuple[float, ...]:
        lib = _ffi.lib()
        code, rates = read_array(
            ctypes.c_double, lambda buf, cap, n: lib.specdec_session_acceptance_by_depth(ptr, buf, cap, n), 16
        )
        check(code, ptr)
        return tuple(rates)

    def reset(self) -> None:
        """Empties the KV cache and clears statistics (keeps the memory)."""
        with self._using() as ptr:
            check(_ffi.lib().specdec_session_reset(ptr), ptr)

    def truncate(self, length: int) -> None:
        """Drops cached tokens beyond ``length`` (0 <= length <= self.length)."""
        length = int32(length, "length")
        with self._using() as ptr:
            check(_ffi.lib().specdec_session_truncate(ptr, length), ptr)

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
        tok, n = id_array(tokens, "tokens")
        pos = None
        if positions is not None:
            pos, n_pos = id_array(positions, "positions")
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
        try:
            with self._using() as ptr:
                check(_ffi.lib().specdec_session_eval(ptr, tok, pos, n, out, cap), ptr)
        finally:
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
        prompt, n_prompt = id_array(prompt_ids, "prompt_ids")
        params = generate_params(
            max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stop_tokens, stop_at_eos
        )
        spec = speculation(drafter, draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max)

        def invoke(ptr, out: TokenOutput) -> int:
            lib = _ffi.lib()
            if spec.params is None:
                return lib.specdec_generate(ptr, prompt, n_prompt, ctypes.byref(params), *out.arguments())
            return lib.specdec_generate_speculative(
                ptr, prompt, n_prompt, ctypes.byref(params), spec.ref, *out.arguments()
            )

        return self._run_tokens(invoke, params, spec, on_token, DECODER_ONLY_HINT)

    def _run_tokens(self, invoke, params, spec: Speculation, on_token, hint: str = "") -> List[int]:
        """Runs one token-producing call (generate, speculative, seq2seq),
        ``invoke(ptr, out)``, with the streaming callback and a custom drafter wired
        up; raises its error."""
        stream = TokenStream.attach(params, on_token)
        out = TokenOutput(params)
        with self._using() as ptr:
            with spec.drafting():
                code = invoke(ptr, out)
            message = self._failure_message(ptr, code, hint)
        tokens = out.tokens()
        raise_for_status(code, message, tokens, raised_by(stream), spec.drafter_failure)
        return tokens

    def _failure_message(self, ptr, code: int, hint: str = "") -> str:
        """The session's message for a failed call ("" for SPECDEC_OK), with `hint`
        added when the call was made on the wrong kind of model."""
        if code == _ffi.SPECDEC_OK:
            return ""
        return explain_wrong_kind(last_message(ptr), code, hint, self.model.info.is_encoder_decoder)

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
        params = generate_params(
            max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stop_tokens, stop_at_eos
        )
        spec = speculation(drafter, draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max)
        options = text_params(tokenizer, add_special_tokens, skip_special_tokens)
        token_stream = TokenStream.attach(params, on_token)
        text_stream = TextStream(on_text)
        text_stream.attach(options)
        cap = max(1, _initial_text_cap(params.max_new_tokens))
        buf = ctypes.create_string_buffer(cap)
        length = ctypes.c_size_t(0)
        host_failure = None
        text = b""
        lib = _ffi.lib()
        with self._using() as ptr:
            with spec.drafting():
                clear_host_failure()
                try:
                    code = lib.specdec_generate_text(
                        ptr, raw_prompt, ctypes.byref(params), spec.ref, ctypes.byref(options),
                        buf, cap, ctypes.byref(length),
                    )
                finally:
                    host_failure = take_host_failure()
            if code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL:
                # The call completed; the text waits in the session.
                code, text = read_session_text(ptr, length.value)
            elif code == _ffi.SPECDEC_OK:
                text = buf.raw[: length.value]
            message = self._failure_message(ptr, code)
        raise_for_text_status(code, message, text_stream, token_stream, host_failure, spec.drafter_failure)
        return text.decode("utf-8", errors="replace")

    @property
    def text(self) -> str:
        """The text of the session's last :meth:`generate_text` call
        (``specdec_session_text``)."""
        require("specdec_session_text")
        with self._using() as ptr:
            code, raw = read_session_text(ptr, 256)
            check(code, ptr)
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
        src, n_src = id_array(source_ids, "source_ids")
        with self._using() as ptr:
            code = _ffi.lib().specdec_session_set_source(ptr, src, n_src)
            message = self._failure_message(ptr, code, SEQ2SEQ_HINT)
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
        src, n_src = id_array(source_ids, "source_ids")
        pre, n_pre = id_array(prefix, "prefix")
        params = generate_params(
            max_new_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stop_tokens, stop_at_eos
        )
        spec = speculation(drafter, draft_model, draft_length, acceptance, beta, tau, adaptive, ngram_min, ngram_max)

        def invoke(ptr, out: TokenOutput) -> int:
            return _ffi.lib().specdec_generate_seq2seq(
                ptr, src, n_src, pre if n_pre else None, n_pre, ctypes.byref(params), spec.ref, *out.arguments()
            )

        return self._run_tokens(invoke, params, spec, on_token, SEQ2SEQ_HINT)

    def beam_search(
        self,
        source_ids: Sequence[int],
        beams: int = 4,
        max_new_tokens: Optional[int] = None,
        length_penalty: float = 1.0,
        early_stopping: Union[str, bool, int] = "heuristic",
        num_return: int = 1,
    ) -> List[Hypothesis]:
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
        src, n_src = id_array(source_ids, "source_ids")
        params = beam_params(beams, max_new_tokens, length_penalty, early_stopping, num_return)
        out = BeamOutput(params)
        with self._using() as ptr:
            code = _ffi.lib().specdec_beam_search(
                ptr, src, n_src, ctypes.byref(params), out.tokens, out.lengths, out.scores, out.ended,
                ctypes.byref(out.count),
            )
            message = self._failure_message(ptr, code, SEQ2SEQ_HINT)
        if code != _ffi.SPECDEC_OK:
            raise make_error(code, message)
        return out.hypotheses()


    # -- batches (ABI 4) ----------------------------------------------------

    def generate_batch(self, prompts: Sequence[Sequence[int]], max_new_tokens: Optional[int] = None, *,
                       batch_size: int = 0, batch_tokens: int = 0, seeds: Optional[Sequence[int]] = None,
                       **options) -> List[List[int]]:
        """Continues every prompt of ``prompts`` on a decoder-only model
        (``specdec_generate_batch``) and returns their ids, in order.

        Up to ``batch_size`` sequences (0: the session's ``max_sequences``) decode
        together, one model pass per token for all of them; with ``batch_tokens`` a
        sequence joins only while the prompts decoding hold at most that many tokens.
        ``seeds`` gives each sequence its own sampling seed (default: ``seed`` for all).
        The sampling, stopping and speculative keywords are those of :meth:`generate`
        (no ``on_token``); speculative decoding runs the sequences one after another,
        except SpecDec on an encoder-decoder model (``drafter="specdec"``), which drafts and
        verifies for the whole batch in one pass each.
        Each result equals what :meth:`generate` gives for that prompt alone. When some
        prompts fail, :class:`BatchError` carries the others' results.
        """
        return self._run_batch(prompts, "prompts", max_new_tokens, batch_size, batch_tokens, seeds, options,
                               DECODER_ONLY_HINT)

    def translate_batch(self, sources: Sequence[Sequence[int]], max_new_tokens: Optional[int] = None, *,
                        beams: int = 1, batch_size: int = 0, batch_tokens: int = 0,
                        seeds: Optional[Sequence[int]] = None, **options) -> List[List[int]]:
        """Translates every source of ``sources`` on an encoder-decoder model and
        returns their ids, in order (like CTranslate2's ``translate_batch``).

        ``beams`` > 1: beam search per source (:meth:`beam_search_batch`), the best
        hypothesis of each. Otherwise as :meth:`generate_batch`: greedy or sampling with
        one decoder pass per token for the whole batch, SpecDec (``drafter="specdec"``)
        with one drafting and one verifying pass per round for the whole batch, or
        speculative decoding with the other drafters one source after another. Each result equals what
        :meth:`translate` (or :meth:`beam_search`) gives for that source alone.
        """
        if beams > 1:
            if options:
                raise InvalidArgumentError(
                    _ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"beam search takes none of {sorted(options)}"
                )
            try:
                found = self.beam_search_batch(sources, beams=beams, max_new_tokens=max_new_tokens)
            except BatchError as err:
                err.outputs = [None if h is None else h[0].tokens for h in err.outputs]
                raise
            return [h[0].tokens if h else [] for h in found]
        return self._run_batch(sources, "sources", max_new_tokens, batch_size, batch_tokens, seeds, options,
                               SEQ2SEQ_HINT)

    def beam_search_batch(self, sources: Sequence[Sequence[int]], beams: int = 4,
                          max_new_tokens: Optional[int] = None, length_penalty: float = 1.0,
                          early_stopping: Union[str, bool, int] = "heuristic",
                          num_return: int = 1) -> List[List[Hypothesis]]:
        """:meth:`beam_search` for every source (``specdec_beam_search_batch``): a list of
        hypotheses per source, in order."""
        require("specdec_beam_search_batch", "batched decoding (ABI 4)")
        inputs = BatchInputs(sources, "sources")
        params = beam_params(beams, max_new_tokens, length_penalty, early_stopping, num_return)
        out = BatchBeamOutput(params, inputs.count)
        with self._using() as ptr:
            code = _ffi.lib().specdec_beam_search_batch(
                ptr, inputs.pointers, inputs.lengths, inputs.count, ctypes.byref(params), *out.arguments()
            )
            message = self._failure_message(ptr, code, SEQ2SEQ_HINT)
        return raise_for_batch(code, message, out.statuses, out.outputs())

    def _run_batch(self, inputs, what: str, max_new_tokens, batch_size, batch_tokens, seeds, options, hint: str):
        require("specdec_generate_batch", "batched decoding (ABI 4)")
        sampling = {name: options.pop(name) for name in list(options) if name in _SAMPLING_DEFAULTS}
        unknown = set(options) - set(_SPECULATION_DEFAULTS)
        if unknown:
            raise InvalidArgumentError(_ffi.SPECDEC_ERR_INVALID_ARGUMENT, f"unknown options {sorted(unknown)}")
        batch = BatchInputs(inputs, what)
        params = generate_params(max_new_tokens, **{**_SAMPLING_DEFAULTS, **sampling})
        spec = speculation(**{**_SPECULATION_DEFAULTS, **options})
        bp = batch_params(batch_size, batch_tokens, seeds, batch.count)
        out = BatchTokenOutput(params, batch.count)
        with self._using() as ptr:
            with spec.drafting():
                code = _ffi.lib().specdec_generate_batch(
                    ptr, batch.pointers, batch.lengths, batch.count, ctypes.byref(params), spec.ref,
                    ctypes.byref(bp), *out.arguments()
                )
            message = self._failure_message(ptr, code, hint)
        if spec.drafter_failure is not None and code == _ffi.SPECDEC_OK:
            raise_for_status(code, message, [], None, spec.drafter_failure)
        return raise_for_batch(code, message, out.statuses, out.outputs())


#: The keyword options of the batch calls, with the defaults of generate().
_SAMPLING_DEFAULTS = dict(
    temperature=0.0, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.0, seed=0, stop_tokens=(), stop_at_eos=True
)
_SPECULATION_DEFAULTS = dict(
    drafter=None, draft_model=None, draft_length=5, acceptance="greedy", beta=5, tau=3.0, adaptive=False,
    ngram_min=1, ngram_max=3
)


# Model.session() makes sessions; the model module sits below this one.
Model._session_type = Session
