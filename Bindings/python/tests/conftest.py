"""Shared fixtures for the specdec Python binding tests.

The tests import the package from this checkout (Bindings/python) unless
SPECDEC_TEST_INSTALLED=1, in which case the installed `specdec` is used. Test models
are the committed fixtures under Tests/Fixtures/decoder/<name>/ (config.json,
model.safetensors, reference.json computed with Hugging Face transformers);
SPECDEC_TEST_FIXTURES may point at another directory laid out the same way.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
PACKAGE_ROOT = TESTS_DIR.parent  # Bindings/python
REPO_ROOT = TESTS_DIR.parents[2]  # tests -> python -> Bindings -> repo root

if os.environ.get("SPECDEC_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(PACKAGE_ROOT))

import specdec  # noqa: E402
from specdec import _ffi  # noqa: E402

FIXTURES = Path(os.environ.get("SPECDEC_TEST_FIXTURES", REPO_ROOT / "Tests" / "Fixtures" / "decoder"))
DECODERS = ("llama_f32", "gpt2_f32")


def _library_or_skip():
    try:
        return _ffi.lib()
    except _ffi.LibraryNotFoundError as exc:
        pytest.skip(f"libspecdec is not available: {exc}")


@pytest.fixture(scope="session")
def lib():
    return _library_or_skip()


def fixture_dir(name: str) -> Path:
    path = FIXTURES / name
    if not (path / "config.json").is_file() or not (path / "reference.json").is_file():
        pytest.skip(f"test model {path} is missing (config.json / reference.json)")
    return path


def load_reference(name: str) -> dict:
    with open(fixture_dir(name) / "reference.json", encoding="utf-8") as f:
        return json.load(f)


class Decoder:
    """A fixture model: its directory, reference.json and a loaded Model."""

    def __init__(self, name: str):
        self.name = name
        self.path = fixture_dir(name)
        self.reference = load_reference(name)
        self.model = specdec.Model(self.path)

    @property
    def prompt(self):
        return list(self.reference["prompt_ids"])

    @property
    def greedy(self):
        return list(self.reference["greedy_ids"])


_decoders = {}


def get_decoder(name: str) -> Decoder:
    _library_or_skip()
    if name not in _decoders:
        _decoders[name] = Decoder(name)
    return _decoders[name]


@pytest.fixture(params=DECODERS)
def decoder(request) -> Decoder:
    return get_decoder(request.param)


@pytest.fixture
def llama() -> Decoder:
    return get_decoder("llama_f32")


@pytest.fixture
def session(llama):
    s = specdec.Session(llama.model, n_threads=1)
    yield s
    s.close()


def pytest_sessionfinish(session, exitstatus):
    for d in _decoders.values():
        d.model.close()
    _decoders.clear()
