"""Batched decoding (ABI 4): Session.translate_batch, generate_batch and
beam_search_batch. The shipped pair's references (Tests/Fixtures/specdec-pair) are the
greedy and beam-5 translations of transformers' generate; the decoder fixtures' are
transformers' greedy continuations of their prompt."""

from __future__ import annotations

import json

import pytest

import specdec

from conftest import REPO_ROOT, get_decoder

PAIR = REPO_ROOT / "models"
CASES = json.loads((REPO_ROOT / "Tests" / "Fixtures" / "specdec-pair" / "reference.json").read_text())["cases"]


@pytest.fixture(scope="module")
def verifier(lib):
    with specdec.Model(PAIR / "specdec-en-de-verifier") as model:
        yield model


@pytest.fixture(scope="module")
def drafter(lib):
    with specdec.Model(PAIR / "specdec-en-de-drafter") as model:
        yield model


@pytest.fixture
def session(verifier):
    with specdec.Session(verifier, kv_capacity=160, n_threads=2, max_sequences=8) as s:
        yield s


def sources():
    return [case["source_ids"] for case in CASES]


@pytest.mark.parametrize("batch_size", [1, 4, 8])
def test_translate_batch_equals_transformers_greedy(session, batch_size):
    out = session.translate_batch(sources() + sources()[:5], max_new_tokens=128, batch_size=batch_size)
    assert out == [case["greedy_ids"] for case in CASES] + [case["greedy_ids"] for case in CASES[:5]]
    if batch_size > 1:
        assert session.stats.target_calls < sum(len(t) for t in out) / 2


def test_translate_batch_with_drafters_and_beams(session, drafter):
    expected = [case["greedy_ids"] for case in CASES[:8]]
    src = sources()[:8]
    assert session.translate_batch(src, max_new_tokens=128, drafter="ngram") == expected
    assert session.translate_batch(
        src, max_new_tokens=128, drafter="specdec", draft_model=drafter, draft_length=12, acceptance="topk", beta=1
    ) == expected
    assert session.translate_batch(src, max_new_tokens=128, beams=5) == [case["beam5_ids"] for case in CASES[:8]]
    found = session.beam_search_batch(src[:2], beams=5, max_new_tokens=128, num_return=2)
    assert [len(h) for h in found] == [2, 2] and found[0][0].tokens == CASES[0]["beam5_ids"]


def test_sampling_with_seeds_equals_alone(session, verifier):
    src = sources()[:6]
    seeds = [11, 12, 13, 14, 15, 16]
    out = session.translate_batch(src, max_new_tokens=30, temperature=0.8, top_k=30, seeds=seeds, batch_tokens=40)
    with specdec.Session(verifier, kv_capacity=160, n_threads=2) as alone:
        assert out == [alone.translate(s, max_new_tokens=30, temperature=0.8, top_k=30, seed=seed) for s, seed in zip(src, seeds)]


def test_bad_sequences_fail_alone(session):
    src = [sources()[0], [], [5, 10**6, 0], sources()[1]]
    with pytest.raises(specdec.BatchError) as info:
        session.translate_batch(src, max_new_tokens=128)
    err = info.value
    assert "sequence 1" in str(err)
    assert err.outputs[0] == CASES[0]["greedy_ids"] and err.outputs[3] == CASES[1]["greedy_ids"]
    assert err.outputs[1] is None and err.outputs[2] is None
    assert isinstance(err.errors[1], specdec.InvalidArgumentError)
    assert isinstance(err.errors[2], specdec.TokenOutOfRangeError)
    with pytest.raises(specdec.InvalidArgumentError):
        session.translate_batch([], max_new_tokens=8)
    with pytest.raises(specdec.CapacityError):
        session.translate_batch(sources()[:2], batch_size=9)
    with pytest.raises(specdec.InvalidArgumentError):
        session.translate_batch(sources()[:2], seeds=[1])
    with pytest.raises(specdec.InvalidArgumentError):
        session.translate_batch(sources()[:2], on_token=lambda t, i: None)
    assert session.translate_batch(sources()[:1], max_new_tokens=128) == [CASES[0]["greedy_ids"]]


def test_generate_batch_decoder_only(lib):
    llama = get_decoder("llama_f32")
    prompts = [llama.prompt, [1, 2, 3], llama.prompt[:3], [7] * 20]
    n = len(llama.greedy)
    with specdec.Session(llama.model, kv_capacity=64, max_sequences=4) as batch, specdec.Session(llama.model, kv_capacity=64) as alone:
        out = batch.generate_batch(prompts, max_new_tokens=n, stop_at_eos=False)
        assert out[0] == llama.greedy
        assert out == [alone.generate(p, max_new_tokens=n, stop_at_eos=False) for p in prompts]
        assert batch.generate_batch(prompts, max_new_tokens=n, stop_at_eos=False, drafter="ngram") == out
