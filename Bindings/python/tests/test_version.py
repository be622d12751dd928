"""Versions, ABI and status strings: runtime twins agree with the header."""

import re
from pathlib import Path

import pytest

import specdec
from specdec import _ffi

from conftest import REPO_ROOT

HEADER = REPO_ROOT / "include" / "specdec.h"
PLUGIN_HEADER = REPO_ROOT / "include" / "specdec_plugin.h"


def _header_defines():
    defines = {}
    for header in (HEADER, PLUGIN_HEADER):
        text = header.read_text(encoding="utf-8")
        defines.update(re.findall(r"^#define\s+(SPECDEC_\w+)\s+(-?\d+|\"[^\"]*\")", text, re.M))
    return defines


def test_runtime_versions_match_header(lib):
    assert specdec.version_number() == _ffi.SPECDEC_VERSION_NUMBER == 400
    assert specdec.abi_version() == _ffi.SPECDEC_ABI_VERSION == 4
    assert _ffi.SPECDEC_VERSION_STRING == specdec.__version__ == "0.4.0"


def test_runtime_version_string_matches_header(lib):
    assert specdec.version_string() == _ffi.SPECDEC_VERSION_STRING


def test_binding_constants_mirror_header():
    defines = _header_defines()
    assert defines, f"no #define found in {HEADER}"
    checked = 0
    for name, value in defines.items():
        if value.startswith('"'):
            assert getattr(_ffi, name) == value.strip('"'), name
        else:
            assert getattr(_ffi, name) == int(value), name
        checked += 1
    assert checked >= 40
    assert defines["SPECDEC_PLUGIN_ABI_VERSION"] == "1"
    assert _ffi.SPECDEC_PLUGIN_ENTRY_SYMBOL == "specdec_plugin_entry"


def test_status_strings(lib):
    texts = set()
    for code in range(0, 13):
        text = specdec.status_string(code)
        assert text and text != "unknown status", code
        texts.add(text)
    assert len(texts) == 13, "every status has its own text"
    assert specdec.status_string(9999) == "unknown status"
    assert specdec.status_string(-1) == "unknown status"


def test_error_classes():
    assert specdec.error_class(_ffi.SPECDEC_ERR_IO) is specdec.SpecDecIOError
    assert specdec.error_class(_ffi.SPECDEC_ERR_CALLBACK) is specdec.CallbackError
    assert specdec.error_class(12345) is specdec.SpecDecError
    for code in range(1, 13):
        assert issubclass(specdec.error_class(code), specdec.SpecDecError)


def test_library_path(lib):
    path = specdec.library_path()
    assert "specdec" in Path(path).name
