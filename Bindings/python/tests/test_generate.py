"""Greedy generation against transformers' reference ids, streaming, stopping."""

import threading

import pytest

import specdec
from specdec import _ffi

from conftest import get_decoder

N = 24  # reference.json holds 24 greedy ids


def test_model_info(decoder):
    model = decoder.model
    info = model.info
    import json

    config = json.loads((decoder.path / "config.json").read_text())
    assert info.vocab_size == model.vocab_size == config["vocab_size"]
    assert info.context_length == model.context_length > 0
    assert info.num_layers > 0 and info.hidden_size > 0 and info.num_parameters > 0
    assert info.model_type == model.model_type == config["model_type"]
    expected_arch = _ffi.SPECDEC_ARCH_GPT2 if config["model_type"] == "gpt2" else _ffi.SPECDEC_ARCH_LLAMA
    assert info.architecture == expected_arch
    eos = model.eos_tokens
    assert isinstance(eos, tuple)
    assert model.eos_token == (eos[0] if eos else -1) == info.eos_token_id
    assert model.bos_token == info.bos_token_id
    assert "Model" in repr(model)


def test_greedy_matches_reference(decoder):
    with specdec.Session(decoder.model) as session:
        ids = session.generate(decoder.prompt, max_new_tokens=N, stop_at_eos=False)
        assert ids == decoder.greedy
        stats = session.stats
        assert stats.prompt_tokens == len(decoder.prompt)
        assert stats.generated_tokens == N
        assert stats.stop_reason == _ffi.SPECDEC_STOP_MAX_TOKENS
        assert stats.stop_reason_name == "max_tokens"
        assert stats.decode_seconds >= 0 and stats.prefill_seconds >= 0
        # The cache holds the prompt followed by (at least most of) the generated ids.
        tokens = session.tokens
        assert tokens[: len(decoder.prompt)] == decoder.prompt
        assert tokens[len(decoder.prompt) :] == decoder.greedy[: len(tokens) - len(decoder.prompt)]
        assert session.length == len(tokens) >= len(decoder.prompt) + N - 1


def test_repeat_generate_reuses_prefix(llama, session):
    first = session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False)
    second = session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False)
    assert first == second == llama.greedy
    stats = session.stats
    assert 0 < stats.reused_tokens <= len(llama.prompt)
    # A prompt that extends the previous output continues the same greedy path.
    cont = session.generate(llama.prompt + llama.greedy[:10], max_new_tokens=N - 10, stop_at_eos=False)
    assert cont == llama.greedy[10:]
    assert session.stats.reused_tokens >= len(llama.prompt)


def test_shorter_max_new_tokens_is_a_prefix(llama, session):
    assert session.generate(llama.prompt, max_new_tokens=5, stop_at_eos=False) == llama.greedy[:5]
    assert session.generate(llama.prompt, max_new_tokens=0, stop_at_eos=False) == []


def test_streaming_callback_sees_every_token_in_order(decoder):
    seen = []
    with specdec.Session(decoder.model) as session:
        ids = session.generate(
            decoder.prompt, max_new_tokens=N, stop_at_eos=False, on_token=lambda t, i: seen.append((t, i))
        )
    assert ids == decoder.greedy
    assert seen == [(t, i) for i, t in enumerate(decoder.greedy)]


def test_callback_stop_keeps_the_token(llama, session):
    seen = []

    def on_token(token, index):
        seen.append(token)
        return index == 5

    ids = session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False, on_token=on_token)
    assert ids == llama.greedy[:6] == seen
    assert session.stats.stop_reason == _ffi.SPECDEC_STOP_CALLBACK
    assert session.stats.generated_tokens == 6


def test_callback_false_and_none_continue(llama, session):
    assert session.generate(llama.prompt, max_new_tokens=8, stop_at_eos=False, on_token=lambda t, i: False) == llama.greedy[:8]
    assert session.generate(llama.prompt, max_new_tokens=8, stop_at_eos=False, on_token=lambda t, i: None) == llama.greedy[:8]


class Boom(RuntimeError):
    pass


def test_exception_in_callback_raises_and_session_survives(llama, session):
    def on_token(token, index):
        if index == 3:
            raise Boom("stop right there")

    with pytest.raises(specdec.CallbackError) as info:
        session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False, on_token=on_token)
    err = info.value
    assert err.code == _ffi.SPECDEC_ERR_CALLBACK
    assert err.status == specdec.status_string(_ffi.SPECDEC_ERR_CALLBACK)
    assert isinstance(err.__cause__, Boom)
    assert err.tokens == llama.greedy[:4]  # the failing token was generated and reported
    assert session.stats.stop_reason == _ffi.SPECDEC_STOP_ERROR
    # Still usable, and correct.
    assert session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False) == llama.greedy
    seen = []
    assert session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False, on_token=lambda t, i: seen.append(t)) == llama.greedy
    assert seen == llama.greedy


def test_exception_from_truthiness_is_caught(llama, session):
    class Ambiguous:
        def __bool__(self):
            raise ValueError("ambiguous")

    with pytest.raises(specdec.CallbackError) as info:
        session.generate(llama.prompt, max_new_tokens=4, stop_at_eos=False, on_token=lambda t, i: Ambiguous())
    assert isinstance(info.value.__cause__, ValueError)
    assert session.generate(llama.prompt, max_new_tokens=4, stop_at_eos=False) == llama.greedy[:4]


def test_keyboard_interrupt_in_callback_is_reraised(llama, session):
    def on_token(token, index):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        session.generate(llama.prompt, max_new_tokens=4, stop_at_eos=False, on_token=on_token)
    assert session.generate(llama.prompt, max_new_tokens=4, stop_at_eos=False) == llama.greedy[:4]


def test_reentrant_call_from_callback_is_refused(llama, session):
    def on_token(token, index):
        session.generate(llama.prompt, max_new_tokens=1)

    with pytest.raises(specdec.CallbackError) as info:
        session.generate(llama.prompt, max_new_tokens=4, stop_at_eos=False, on_token=on_token)
    assert isinstance(info.value.__cause__, specdec.InvalidArgumentError)
    with pytest.raises(specdec.CallbackError):
        session.generate(llama.prompt, max_new_tokens=4, on_token=lambda t, i: session.close())
    assert not session.closed
    assert session.generate(llama.prompt, max_new_tokens=4, stop_at_eos=False) == llama.greedy[:4]


def test_stop_tokens(llama, session):
    target = llama.greedy[6]
    first = llama.greedy.index(target)
    ids = session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False, stop_tokens=[target])
    assert ids == llama.greedy[: first + 1]
    assert session.stats.stop_reason == _ffi.SPECDEC_STOP_TOKEN


def test_capacity_stop(llama):
    prompt = llama.prompt
    with specdec.Session(llama.model, kv_capacity=len(prompt) + 4) as session:
        ids = session.generate(prompt, max_new_tokens=N, stop_at_eos=False)
        assert ids == llama.greedy[: len(ids)]
        assert 1 <= len(ids) <= 5
        assert session.stats.stop_reason == _ffi.SPECDEC_STOP_CAPACITY


def test_sampling_is_reproducible_with_a_seed(llama, session):
    kwargs = dict(max_new_tokens=N, stop_at_eos=False, temperature=1.0, top_k=40, top_p=0.95, seed=1234)
    a = session.generate(llama.prompt, **kwargs)
    b = session.generate(llama.prompt, **kwargs)
    assert a == b and len(a) == N
    assert all(0 <= t < llama.model.vocab_size for t in a)
    # Temperature close to zero behaves like greedy.
    c = session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False, temperature=1e-4, seed=7)
    assert c == llama.greedy


def test_two_threads_share_a_model(llama):
    results = {}

    def work(k):
        with specdec.Session(llama.model, n_threads=1) as s:
            results[k] = [s.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False) for _ in range(2)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: [llama.greedy, llama.greedy] for k in range(3)}


def test_one_session_from_several_threads_is_serialised(llama, session):
    results = []

    def work():
        results.append(session.generate(llama.prompt, max_new_tokens=N, stop_at_eos=False))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [llama.greedy] * 3
