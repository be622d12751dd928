"""Bad input: a SpecDecError subclass with code, status text and a message; never a
crash, and the session stays usable."""

import json
import shutil

import pytest

import specdec
from specdec import _ffi


def test_missing_directory_names_the_path(lib, tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(specdec.SpecDecIOError) as info:
        specdec.Model(missing)
    err = info.value
    assert err.code == _ffi.SPECDEC_ERR_IO
    assert err.status == specdec.status_string(_ffi.SPECDEC_ERR_IO)
    assert str(missing) in err.message
    assert str(missing) in str(err)


def test_nul_in_path_is_rejected(lib):
    with pytest.raises(specdec.InvalidArgumentError):
        specdec.Model("bad\0path")


def _copy_model(decoder_path, dest):
    dest.mkdir()
    shutil.copy(decoder_path / "config.json", dest / "config.json")
    shutil.copy(decoder_path / "model.safetensors", dest / "model.safetensors")
    return dest


def test_invalid_json_is_a_format_error(llama, tmp_path):
    d = _copy_model(llama.path, tmp_path / "m")
    (d / "config.json").write_text("{ this is not json")
    with pytest.raises(specdec.FormatError) as info:
        specdec.Model(d)
    assert info.value.message


def test_unknown_architecture_is_unsupported(llama, tmp_path):
    d = _copy_model(llama.path, tmp_path / "m")
    config = json.loads((d / "config.json").read_text())
    config["model_type"] = "no_such_arch"
    config["architectures"] = ["NoSuchArchForCausalLM"]
    (d / "config.json").write_text(json.dumps(config))
    with pytest.raises(specdec.UnsupportedError) as info:
        specdec.Model(d)
    assert info.value.message


def test_missing_weights_is_an_io_error(llama, tmp_path):
    d = _copy_model(llama.path, tmp_path / "m")
    (d / "model.safetensors").unlink()
    with pytest.raises(specdec.SpecDecIOError):
        specdec.Model(d)


def test_truncated_safetensors_is_a_format_error(llama, tmp_path):
    d = _copy_model(llama.path, tmp_path / "m")
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(specdec.FormatError):
        specdec.Model(d)


def test_token_out_of_range(llama, session):
    vocab = llama.model.vocab_size
    for bad in (vocab, -1, 10**6):
        with pytest.raises(specdec.TokenOutOfRangeError) as info:
            session.generate([1, bad], max_new_tokens=4)
        assert info.value.code == _ffi.SPECDEC_ERR_TOKEN_OUT_OF_RANGE
        assert info.value.message
    with pytest.raises(specdec.TokenOutOfRangeError):
        session.eval([0, vocab])
    # Values that do not even fit int32 are caught by the wrapper (ctypes would wrap them).
    with pytest.raises(specdec.TokenOutOfRangeError):
        session.generate([2**32 + 1], max_new_tokens=1)
    assert session.length == 0  # errors before prefill leave the session unchanged
    assert session.generate(llama.prompt, max_new_tokens=24, stop_at_eos=False) == llama.greedy


def test_non_integer_ids(session):
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(["a", "b"], max_new_tokens=1)
    with pytest.raises(specdec.InvalidArgumentError):
        session.eval([1.5])


def test_prompt_longer_than_capacity(llama):
    with specdec.Session(llama.model, kv_capacity=4) as session:
        assert session.capacity == 4
        with pytest.raises(specdec.CapacityError) as info:
            session.generate(llama.prompt, max_new_tokens=4)
        assert info.value.message
        assert session.length == 0
        with pytest.raises(specdec.CapacityError):
            session.eval(llama.prompt)
        assert session.length == 0
        assert session.generate(llama.prompt[:2], max_new_tokens=1, stop_at_eos=False)


def test_capacity_above_context_length(llama):
    with pytest.raises(specdec.CapacityError):
        specdec.Session(llama.model, kv_capacity=llama.model.context_length + 1)


def test_eval_batch_above_max_batch(llama):
    with specdec.Session(llama.model, max_batch=4) as session:
        with pytest.raises(specdec.CapacityError):
            session.eval(llama.prompt[:5])
        assert session.length == 0
        assert len(session.eval(llama.prompt[:4])) == 4


def test_bad_parameters(llama, session):
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate([], max_new_tokens=4)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(llama.prompt, max_new_tokens=-1)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(llama.prompt, max_new_tokens=4, temperature=-1.0)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(llama.prompt, max_new_tokens=4, top_p=0.0)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(llama.prompt, max_new_tokens=4, top_p=1.5)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(llama.prompt, max_new_tokens=4, min_p=2.0)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(llama.prompt, max_new_tokens=4, repetition_penalty=0.0)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(llama.prompt, max_new_tokens=4, seed=-1)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(llama.prompt, max_new_tokens=4, on_token=42)
    with pytest.raises(specdec.InvalidArgumentError):
        session.eval(llama.prompt, positions=[0, 1])
    with pytest.raises(specdec.InvalidArgumentError):
        specdec.Session(llama.model, arena_backend="tcmalloc")
    with pytest.raises(specdec.InvalidArgumentError):
        specdec.Session(llama.model, n_threads=-1)
    assert session.generate(llama.prompt, max_new_tokens=24, stop_at_eos=False) == llama.greedy


def test_truncate_out_of_range(llama, session):
    session.eval(llama.prompt, logits=False)
    for bad in (-1, len(llama.prompt) + 1):
        with pytest.raises(specdec.InvalidArgumentError):
            session.truncate(bad)
        assert session.length == len(llama.prompt)
    assert session.error_message


def test_closed_session_is_refused_by_the_wrapper(llama):
    session = specdec.Session(llama.model)
    session.close()
    session.close()  # idempotent
    assert session.closed
    for call in (
        lambda: session.generate(llama.prompt, max_new_tokens=1),
        lambda: session.eval([1]),
        lambda: session.truncate(0),
        lambda: session.reset(),
        lambda: session.length,
        lambda: session.tokens,
        lambda: session.stats,
        lambda: session.arena_backend,
    ):
        with pytest.raises(specdec.ClosedError) as info:
            call()
        assert info.value.code == _ffi.SPECDEC_ERR_INVALID_ARGUMENT
    with pytest.raises(specdec.ClosedError):
        with session:
            pass


def test_closing_the_model_closes_its_sessions(llama):
    model = specdec.Model(llama.path)
    with model:
        session = specdec.Session(model)
        assert session.generate(llama.prompt, max_new_tokens=2, stop_at_eos=False) == llama.greedy[:2]
    assert model.closed and session.closed
    with pytest.raises(specdec.ClosedError):
        session.generate(llama.prompt, max_new_tokens=1)
    with pytest.raises(specdec.ClosedError):
        model.vocab_size
    with pytest.raises(specdec.ClosedError):
        specdec.Session(model)


def test_session_requires_a_model(lib):
    with pytest.raises(specdec.InvalidArgumentError):
        specdec.Session(None)


def test_raw_null_handles_return_statuses(lib):
    """The C contract itself: NULL pointers give a status, never a crash."""
    import ctypes

    out = _ffi.specdec_model_p()
    assert lib.specdec_model_load(None, None, ctypes.byref(out)) == _ffi.SPECDEC_ERR_INVALID_ARGUMENT
    assert lib.specdec_last_error_message()
    assert lib.specdec_model_vocab_size(None) == -1
    assert lib.specdec_session_length(None) == -1
    assert lib.specdec_session_capacity(None) == -1
    assert lib.specdec_model_type(None) == b""
    lib.specdec_model_destroy(None)
    lib.specdec_session_destroy(None)
    assert lib.specdec_session_reset(None) == _ffi.SPECDEC_ERR_INVALID_ARGUMENT
    assert lib.specdec_session_truncate(None, 0) == _ffi.SPECDEC_ERR_INVALID_ARGUMENT
    n = ctypes.c_int32(0)
    assert lib.specdec_generate(None, None, 0, None, None, 0, ctypes.byref(n)) == _ffi.SPECDEC_ERR_INVALID_ARGUMENT
    sess = _ffi.specdec_session_p()
    assert lib.specdec_session_create(None, None, ctypes.byref(sess)) == _ffi.SPECDEC_ERR_INVALID_ARGUMENT
    assert not sess


def test_raw_buffer_too_small_reports_needed_size(llama, session):
    import ctypes

    lib = _ffi.lib()
    prompt = (ctypes.c_int32 * len(llama.prompt))(*llama.prompt)
    params = lib.specdec_generate_default_params()
    params.max_new_tokens = 10
    out = (ctypes.c_int32 * 4)()
    n = ctypes.c_int32(0)
    code = lib.specdec_generate(session._ptr, prompt, len(llama.prompt), ctypes.byref(params), out, 4, ctypes.byref(n))
    assert code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL
    assert n.value == 10
    logits = (ctypes.c_float * 3)()
    code = lib.specdec_session_eval(session._ptr, prompt, None, 2, logits, 3)
    assert code == _ffi.SPECDEC_ERR_BUFFER_TOO_SMALL
    assert session.length == 0
