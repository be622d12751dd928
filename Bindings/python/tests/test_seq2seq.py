"""Encoder-decoder models (ABI 2): Session.translate, Session.beam_search,
Session.set_source with eval/truncate on the decoder side.

The fixtures under Tests/Fixtures/seq2seq/<name>/ are tiny random Marian and BART models
whose reference.json was computed with Hugging Face transformers: the greedy
translation of `source_ids`, beam search runs (`beam`: num_beams, length_penalty,
early_stopping, max_new_tokens, num_return_sequences and the hypotheses with their
tokens, score and ended_with_eos), and teacher-forced log-probabilities (`logprobs`) of
`score_target_ids`. fairseq_f32 is a converted fairseq transformer (no beam runs).
"""

from __future__ import annotations

import json
import math

import pytest

import specdec
from specdec import _ffi

from conftest import REPO_ROOT, get_decoder

SEQ2SEQ = REPO_ROOT / "Tests" / "Fixtures" / "seq2seq"
TRANSFORMERS = ("marian_f32", "marian_f16", "bart_f32")
ALL = TRANSFORMERS + ("fairseq_f32",)


@pytest.fixture(scope="session", autouse=True)
def seq2seq_api(lib):
    if not _ffi.has_function("specdec_generate_seq2seq"):
        pytest.skip(f"{_ffi.library_path()} predates the encoder-decoder API")


class Seq2Seq:
    def __init__(self, name: str):
        self.name = name
        self.path = SEQ2SEQ / name
        if not (self.path / "config.json").is_file() or not (self.path / "reference.json").is_file():
            pytest.skip(f"seq2seq fixture {self.path} is missing")
        with open(self.path / "reference.json", encoding="utf-8") as f:
            self.ref = json.load(f)
        self.model = specdec.Model(self.path)

    @property
    def source(self):
        return list(self.ref["source_ids"])

    @property
    def greedy(self):
        return list(self.ref["greedy_ids"])

    @property
    def max_new_tokens(self):
        return int(self.ref["max_new_tokens"])


_models = {}


def get(name: str) -> Seq2Seq:
    if name not in _models:
        _models[name] = Seq2Seq(name)
    return _models[name]


def teardown_module(module):
    for m in _models.values():
        m.model.close()
    _models.clear()


@pytest.fixture(params=ALL)
def s2s(request, lib):
    return get(request.param)


@pytest.fixture(params=TRANSFORMERS)
def hf(request, lib):
    return get(request.param)


@pytest.fixture
def session(s2s):
    with specdec.Session(s2s.model, n_threads=1, kv_capacity=64) as s:
        yield s


@pytest.fixture
def hf_session(hf):
    with specdec.Session(hf.model, n_threads=1, kv_capacity=64) as s:
        yield s


def test_model_info(s2s):
    info = s2s.model.info
    assert info.is_encoder_decoder and s2s.model.is_encoder_decoder
    assert info.architecture_name in ("marian", "bart")
    assert info.architecture_name == s2s.ref["model_type"]
    assert info.decoder_start_token_id == s2s.ref["decoder_start_token_id"]
    assert info.vocab_size == s2s.model.vocab_size == s2s.ref["vocab_size"]  # the decoder's
    assert info.source_vocab_size >= max(s2s.source) + 1
    assert info.max_source_length >= len(s2s.source)
    assert s2s.ref["eos_token_id"] in s2s.model.eos_tokens


def test_decoder_only_info():
    llama = get_decoder("llama_f32")
    info = llama.model.info
    assert not info.is_encoder_decoder and not llama.model.is_encoder_decoder
    assert info.decoder_start_token_id == -1
    assert info.max_source_length == 0
    assert info.source_vocab_size == info.vocab_size


def test_translate_is_greedy(s2s, session):
    n = s2s.max_new_tokens
    assert session.translate(s2s.source, max_new_tokens=n) == s2s.greedy
    stats = session.stats
    assert stats.generated_tokens == len(s2s.greedy)
    assert stats.stop_reason_name == ("token" if s2s.ref["greedy_ended_with_eos"] else "max_tokens")
    # The decoder side holds the start token and the output (the last one not yet run).
    assert session.tokens[0] == s2s.ref["decoder_start_token_id"]
    assert session.tokens[1:] == s2s.greedy[: len(session.tokens) - 1]
    # Streaming.
    seen = []
    assert session.translate(s2s.source, max_new_tokens=n, on_token=lambda t, i: seen.append((i, t))) == s2s.greedy
    assert seen == list(enumerate(s2s.greedy))
    # Stopping from the callback keeps the token.
    assert session.translate(s2s.source, max_new_tokens=n, on_token=lambda t, i: i == 2) == s2s.greedy[:3]


@pytest.mark.parametrize("drafter", ["ngram", "suffix"])
def test_translate_speculative_is_greedy(s2s, session, drafter):
    n = s2s.max_new_tokens
    assert session.translate(s2s.source, max_new_tokens=n, drafter=drafter) == s2s.greedy
    stats = session.stats
    assert stats.generated_tokens == len(s2s.greedy)
    assert stats.target_calls + stats.accepted_tokens == stats.generated_tokens - 1
    assert 0 <= stats.accepted_tokens <= stats.drafted_tokens


class Oracle(specdec.Drafter):
    """Proposes the reference translation: every draft is accepted."""

    def __init__(self, greedy):
        self.greedy = greedy
        self.calls = 0
        self.accepted_total = 0

    def propose(self, tokens, n_prompt, max_tokens):
        self.calls += 1
        done = len(tokens) - n_prompt  # tokens: decoder start token, then the output
        return self.greedy[done : done + max_tokens]

    def accepted(self, path, next_token):
        self.accepted_total += len(path)


class Wrong(specdec.Drafter):
    """Proposes a token the model never picks first: every draft is rejected."""

    def __init__(self, token):
        self.token = token

    def propose(self, tokens, n_prompt, max_tokens):
        return [self.token] * max_tokens


def test_translate_with_python_drafters(s2s, session):
    n = s2s.max_new_tokens
    with Oracle(s2s.greedy) as oracle:
        assert session.translate(s2s.source, max_new_tokens=n, drafter=oracle) == s2s.greedy
        stats = session.stats
        assert oracle.calls > 0
        if len(s2s.greedy) > 6:
            assert stats.accepted_tokens > 0
        assert stats.accepted_tokens == stats.drafted_tokens == oracle.accepted_total
    wrong_token = next(t for t in range(s2s.model.vocab_size) if t not in s2s.greedy)
    with Wrong(wrong_token) as wrong:
        assert session.translate(s2s.source, max_new_tokens=n, drafter=wrong, draft_length=3) == s2s.greedy
        assert session.stats.accepted_tokens == 0

    class Broken(specdec.Drafter):
        def propose(self, tokens, n_prompt, max_tokens):
            raise LookupError("no draft today")

    with Broken() as broken:
        with pytest.raises(specdec.CallbackError) as info:
            session.translate(s2s.source, max_new_tokens=n, drafter=broken)
        assert isinstance(info.value.__cause__, LookupError)
    assert session.translate(s2s.source, max_new_tokens=n) == s2s.greedy  # still usable


def test_forced_prefix(s2s, session):
    n = s2s.max_new_tokens
    greedy = s2s.greedy
    # The forced tokens are not output; what follows is the rest of the greedy
    # translation (which then goes on where the reference stopped at max_new_tokens).
    out = session.translate(s2s.source, prefix=greedy[:3], max_new_tokens=n)
    assert out[: len(greedy) - 3] == greedy[3:]
    assert len(out) == (len(greedy) - 3 if s2s.ref["greedy_ended_with_eos"] else n)
    assert session.translate(s2s.source, prefix=greedy[:3], max_new_tokens=n, drafter="ngram") == out
    assert session.translate(s2s.source, prefix=greedy[:3], max_new_tokens=len(greedy) - 3) == greedy[3:]
    tokens = session.tokens
    assert tokens[:4] == [s2s.ref["decoder_start_token_id"]] + greedy[:3]


def test_beam_search_matches_transformers(hf, hf_session):
    session = hf_session
    runs = hf.ref["beam"]
    assert runs
    for run in runs:
        hyps = session.beam_search(
            hf.source,
            beams=run["num_beams"],
            max_new_tokens=run["max_new_tokens"],
            length_penalty=run["length_penalty"],
            early_stopping=run["early_stopping"],  # False / True / "never", as transformers
            num_return=run["num_return_sequences"],
        )
        what = f"{hf.name} beams={run['num_beams']} lp={run['length_penalty']} es={run['early_stopping']}"
        assert len(hyps) == len(run["hypotheses"]), what
        for i, (ours, ref) in enumerate(zip(hyps, run["hypotheses"])):
            assert isinstance(ours, specdec.Hypothesis)
            assert ours.tokens == ref["tokens"], f"{what} hypothesis {i}"
            assert ours.score == pytest.approx(ref["score"], abs=1e-3), f"{what} hypothesis {i}"
            assert ours.ended_with_eos is ref["ended_with_eos"], f"{what} hypothesis {i}"
        scores = [h.score for h in hyps]
        assert scores == sorted(scores, reverse=True)


def test_beam_search_options(hf, hf_session):
    session = hf_session
    run = hf.ref["beam"][0]
    by_name = session.beam_search(hf.source, beams=4, max_new_tokens=run["max_new_tokens"],
                                  early_stopping="heuristic", num_return=4)
    by_bool = session.beam_search(hf.source, beams=4, max_new_tokens=run["max_new_tokens"],
                                  early_stopping=False, num_return=4)
    by_value = session.beam_search(hf.source, beams=4, max_new_tokens=run["max_new_tokens"],
                                   early_stopping=_ffi.SPECDEC_EARLY_STOP_HEURISTIC, num_return=4)
    assert by_name == by_bool == by_value
    best = session.beam_search(hf.source, beams=4, max_new_tokens=run["max_new_tokens"])
    assert len(best) == 1 and best[0] == by_name[0]  # num_return defaults to 1
    # One beam is greedy search.
    greedy = session.beam_search(hf.source, beams=1, max_new_tokens=hf.max_new_tokens)
    assert greedy[0].tokens == hf.greedy
    assert greedy[0].ended_with_eos is hf.ref["greedy_ended_with_eos"]
    for bad in (dict(num_return=5), dict(beams=0), dict(max_new_tokens=0), dict(length_penalty=float("nan"))):
        with pytest.raises(specdec.InvalidArgumentError):
            session.beam_search(hf.source, **bad)
    with pytest.raises(specdec.InvalidArgumentError, match="early_stopping"):
        session.beam_search(hf.source, early_stopping="sometimes")
    assert session.beam_search(hf.source, beams=4, max_new_tokens=run["max_new_tokens"], num_return=4) == by_name


def log_softmax_at(row, index):
    m = max(row)
    return row[index] - (m + math.log(sum(math.exp(x - m) for x in row)))


def test_teacher_forcing_with_set_source_and_eval(s2s, session):
    targets = s2s.ref["score_target_ids"]
    start = s2s.ref["decoder_start_token_id"]
    decoder_input = [start] + targets[:-1]
    session.set_source(s2s.source)
    assert session.length == 0  # the decoder side starts empty
    rows = session.eval(decoder_input)
    assert session.length == len(decoder_input)
    assert session.tokens == decoder_input
    assert all(len(row) == s2s.model.vocab_size for row in rows)
    for i, (row, target, expected) in enumerate(zip(rows, targets, s2s.ref["logprobs"])):
        assert log_softmax_at(row, target) == pytest.approx(expected, abs=1e-3), f"{s2s.name} row {i}"
    # Truncate the decoder side and evaluate again: the same rows.
    session.truncate(4)
    assert session.length == 4
    again = session.eval(decoder_input[4:])
    for a, b in zip(rows[4:], again):
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4
    # Setting the same source again keeps it but empties the decoder side.
    session.set_source(s2s.source)
    assert session.length == 0
    assert session.eval(decoder_input[:1])[0] == pytest.approx(rows[0], abs=1e-4)


def test_eval_needs_a_source(s2s):
    with specdec.Session(s2s.model, n_threads=1) as fresh:
        with pytest.raises(specdec.InvalidArgumentError, match="source"):
            fresh.eval([s2s.ref["decoder_start_token_id"]])


def test_decoder_only_api_is_refused_with_a_clear_message(s2s, session):
    with pytest.raises(specdec.InvalidArgumentError, match="encoder-decoder") as info:
        session.generate(s2s.source, max_new_tokens=4)
    assert "translate" in str(info.value)
    with pytest.raises(specdec.InvalidArgumentError, match="encoder-decoder"):
        session.generate(s2s.source, max_new_tokens=4, drafter="ngram")
    assert session.translate(s2s.source, max_new_tokens=s2s.max_new_tokens) == s2s.greedy


def test_generate_text_translates_on_encoder_decoder_models(s2s, session):
    """With a tokenizer, generate_text on an encoder-decoder model translates: the
    encoded prompt is the source."""
    source = s2s.source

    class Ids:
        def encode(self, text, add_special):
            return [int(x) for x in text.split()]

        def decode(self, ids, skip_special):
            return "".join(f" {i}" for i in ids)

    with specdec.Tokenizer.from_python(Ids(), s2s.model.info.source_vocab_size) as tok:
        text = session.generate_text(" ".join(map(str, source)), max_new_tokens=s2s.max_new_tokens,
                                     tokenizer=tok, skip_special_tokens=False)
    assert text == "".join(f" {i}" for i in s2s.greedy)


def test_seq2seq_api_on_a_decoder_only_model():
    llama = get_decoder("llama_f32")
    with specdec.Session(llama.model, n_threads=1) as session:
        for call in (
            lambda: session.set_source([1, 2, 3]),
            lambda: session.translate([1, 2, 3], max_new_tokens=4),
            lambda: session.beam_search([1, 2, 3], max_new_tokens=4),
        ):
            with pytest.raises(specdec.InvalidArgumentError, match="decoder-only") as info:
                call()
            assert "Session.generate" in str(info.value)
        assert session.generate(llama.prompt, max_new_tokens=4, stop_at_eos=False) == llama.greedy[:4]


def test_bad_sources(s2s, session):
    too_long = [5] * (s2s.model.info.max_source_length + 1)
    with pytest.raises(specdec.CapacityError, match="source"):
        session.translate(too_long, max_new_tokens=4)
    with pytest.raises(specdec.CapacityError):
        session.beam_search(too_long, max_new_tokens=4)
    with pytest.raises(specdec.CapacityError):
        session.set_source(too_long)
    with pytest.raises(specdec.CapacityError):
        session.translate([5] * 10_000, max_new_tokens=4)
    with pytest.raises(specdec.TokenOutOfRangeError):
        session.translate([5, s2s.model.info.source_vocab_size], max_new_tokens=4)
    with pytest.raises(specdec.TokenOutOfRangeError):
        session.set_source([5, -1])
    with pytest.raises(specdec.TokenOutOfRangeError, match="int32"):
        session.translate([5, 2**40], max_new_tokens=4)
    with pytest.raises(specdec.InvalidArgumentError):
        session.set_source([])
    with pytest.raises(specdec.TokenOutOfRangeError):
        session.translate(s2s.source, prefix=[s2s.model.vocab_size], max_new_tokens=4)
    # Still usable.
    assert session.translate(s2s.source, max_new_tokens=s2s.max_new_tokens) == s2s.greedy


# -- SpecDec with the shipped pair ------------------------------------------------------------

PAIR = REPO_ROOT / "models"
PAIR_REFERENCE = REPO_ROOT / "Tests" / "Fixtures" / "specdec-pair" / "reference.json"


def test_specdec_with_the_shipped_pair():
    """drafter="specdec": beta 1 gives transformers' greedy translation with fewer verifier
    passes than tokens; beta/tau are passed through; a k the drafter was not trained for is
    refused and the session stays usable."""
    cases = json.loads(PAIR_REFERENCE.read_text(encoding="utf-8"))["cases"][:6]
    with specdec.Model(PAIR / "specdec-en-de-verifier") as verifier, \
            specdec.Model(PAIR / "specdec-en-de-drafter") as drafter, verifier.session() as session:
        accepted = 0
        for case in cases:
            ids = session.translate(case["source_ids"], max_new_tokens=200, drafter="specdec", draft_model=drafter,
                                    draft_length=12, acceptance="topk", beta=1, tau=0.0)
            assert ids == case["greedy_ids"]
            accepted += session.stats.accepted_tokens
            assert session.stats.target_calls < len(ids)
        assert accepted > 0
        loose = session.translate(cases[0]["source_ids"], max_new_tokens=200, drafter="specdec",
                                  draft_model=drafter, draft_length=12, acceptance="topk", beta=5, tau=3.0)
        assert loose and loose[-1] == verifier.eos_token
        with pytest.raises(specdec.InvalidArgumentError, match="trained for k = 12"):
            session.translate(cases[0]["source_ids"], drafter="specdec", draft_model=drafter, draft_length=4,
                              acceptance="topk")
        assert session.translate(cases[0]["source_ids"], max_new_tokens=200) == cases[0]["greedy_ids"]
