"""Weight precision and kernel path chosen at load (ABI 3): the info they report, greedy
ids on every kernel path equal for int8, and bad values refused with the right error."""

import pytest

import specdec

from conftest import fixture_dir

PROMPT = [5, 9, 200, 17]


def greedy(model: specdec.Model, count: int = 10):
    with specdec.Session(model) as session:
        return session.generate(PROMPT, max_new_tokens=count)


@pytest.mark.parametrize("weights", ["auto", "fp32", "bf16", "int8"])
def test_info_reports_precision_and_path(lib, weights):
    with specdec.Model(fixture_dir("llama_f32"), weights=weights) as model:
        assert model.info.weights == weights
        assert model.info.kernel_path in specdec.supported_kernel_paths()
        assert model.info.kernel_path != "auto"
        assert model.info.weight_bytes > 0


def test_int8_ids_agree_on_every_path(lib):
    paths = [p for p in specdec.supported_kernel_paths() if p != "auto"]
    assert "portable" in paths
    outputs = set()
    for path in paths:
        with specdec.Model(fixture_dir("llama_f32"), weights="int8", kernels=path) as model:
            assert model.info.kernel_path == path
            outputs.add(tuple(greedy(model)))
    assert len(outputs) == 1


def test_bad_values_are_refused(lib):
    with pytest.raises(specdec.InvalidArgumentError, match="int4"):
        specdec.Model(fixture_dir("llama_f32"), weights="int4")
    with pytest.raises(specdec.InvalidArgumentError, match="neon"):
        specdec.Model(fixture_dir("llama_f32"), kernels="neon")
    missing = [p for p in ("portable", "avx2", "avx512", "avx512_bf16", "amx") if p not in specdec.supported_kernel_paths()]
    for path in missing:
        with pytest.raises(specdec.UnsupportedError, match=path):
            specdec.Model(fixture_dir("llama_f32"), weights="bf16", kernels=path)
    # the process and the library stay usable
    with specdec.Model(fixture_dir("llama_f32"), weights="bf16") as model:
        assert len(greedy(model, 4)) == 4
