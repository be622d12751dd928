"""ctypes structs and function declarations mirror include/specdec.h and
include/specdec_plugin.h exactly.

A tiny C program, compiled against the headers, prints sizeof/alignof of every struct
and offsetof of every field; the ctypes layout must agree byte for byte."""

import ctypes
import re
import shutil
import subprocess

import pytest

import specdec
from specdec import _ffi

from conftest import REPO_ROOT

INCLUDE = REPO_ROOT / "include"

# Hand-computed x86-64 / LP64 layouts (also printed by examples/c/struct_sizes.c).
EXPECTED_SIZES = {
    "specdec_model_params_t": 16,  # 8 in ABI 2; ABI 3 appended weight_precision, kernel_path
    "specdec_model_info_t": 88,  # 56 in ABI 1, 72 in ABI 2; ABI 3 appended 2 int32 + 1 int64
    "specdec_session_params_t": 24,  # 20 before ABI 4 appended max_sequences
    "specdec_generate_params_t": 72,
    "specdec_stats_t": 104,
    # ABI 2
    "specdec_speculative_params_t": 56,
    "specdec_draft_request_t": 48,
    "specdec_draft_output_t": 32,
    "specdec_drafter_vtable_t": 48,
    "specdec_verifier_vtable_t": 40,
    "specdec_host_api_t": 24,
    # ABI 2, encoder-decoder models
    "specdec_beam_params_t": 24,
    # ABI 2, tokenizers and text
    "specdec_text_params_t": 40,
    "specdec_tokenizer_vtable_t": 32,
    # ABI 4
    "specdec_batch_params_t": 24,
}


def test_sizes_hand_computed():
    assert set(_ffi.ALL_STRUCTS) == set(EXPECTED_SIZES)
    for name, struct in _ffi.ALL_STRUCTS.items():
        assert ctypes.sizeof(struct) == EXPECTED_SIZES[name], name


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory):
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler")
    lines = [
        "#include <stdio.h>",
        "#include <stddef.h>",
        '#include "specdec.h"',
        '#include "specdec_plugin.h"',
        "int main(void) {",
    ]
    for name, struct in _ffi.ALL_STRUCTS.items():
        lines.append(f'  printf("{name} %zu %zu\\n", sizeof({name}), _Alignof({name}));')
        for field, _ in struct._fields_:
            lines.append(f'  printf("{name}.{field} %zu\\n", offsetof({name}, {field}));')
    lines += ["  return 0;", "}"]
    work = tmp_path_factory.mktemp("layout")
    src = work / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = work / "layout"
    subprocess.run(
        [gcc, "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE}", str(src), "-o", str(exe)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    layout = {}
    for line in out.splitlines():
        key, *values = line.split()
        layout[key] = tuple(int(v) for v in values)
    return layout


@pytest.mark.parametrize("name", sorted(_ffi.ALL_STRUCTS))
def test_struct_layout_matches_c(name, c_layout):
    struct = _ffi.ALL_STRUCTS[name]
    size, align = c_layout[name]
    assert ctypes.sizeof(struct) == size
    assert ctypes.alignment(struct) == align
    for field, _ in struct._fields_:
        assert getattr(struct, field).offset == c_layout[f"{name}.{field}"][0], f"{name}.{field}"


def _header_structs(header: str):
    """{typedef name: [(field, is_function_pointer), ...]} of a header's structs."""
    text = (INCLUDE / header).read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # Function-pointer typedefs (specdec_token_callback) of both headers.
    fn_types = set()
    for other in ("specdec.h", "specdec_plugin.h"):
        fn_types.update(re.findall(r"typedef[^;{}]*\(\s*\*\s*(\w+)\s*\)\s*\(", (INCLUDE / other).read_text()))
    structs = {}
    for body, name in re.findall(r"typedef struct \w+ \{(.*?)\}\s*(\w+);", text, re.S):
        fields = []
        for decl in body.split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            pointer = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)  # int32_t (*propose)(...)
            if pointer:
                fields.append((pointer.group(1), True))
            else:
                words = re.findall(r"\w+", decl)
                fields.append((words[-1], any(w in fn_types for w in words[:-1])))
        structs[name] = fields
    return structs


@pytest.mark.parametrize(
    "header,mirror", [("specdec.h", _ffi.STRUCTS), ("specdec_plugin.h", _ffi.PLUGIN_STRUCTS)]
)
def test_every_header_struct_is_mirrored_field_for_field(header, mirror):
    structs = _header_structs(header)
    assert structs, header
    assert set(structs) == set(mirror)
    for name, fields in structs.items():
        ours = mirror[name]._fields_
        assert [f for f, _ in ours] == [f for f, _ in fields], name
        for (field, is_fn), (_, ctype) in zip(fields, ours):
            # Function-pointer members are CFUNCTYPE types, everything else is not.
            assert issubclass(ctype, ctypes._CFuncPtr) == is_fn, f"{name}.{field}"


def test_every_header_function_is_declared():
    text = (INCLUDE / "specdec.h").read_text(encoding="utf-8")
    declared = re.findall(r"SPECDEC_API\s+[^;(]*?\b(specdec_\w+)\s*\(", text)
    assert len(declared) >= 48
    assert set(declared) == set(_ffi.FUNCTIONS)
    assert _ffi.OPTIONAL_FUNCTIONS <= set(declared)


def test_examples_struct_sizes_program_agrees(tmp_path):
    """examples/c/struct_sizes.c (also run by examples/c/test.sh and the Rust tests)
    prints the same sizes and alignments as ctypes computes."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler")
    exe = tmp_path / "struct_sizes"
    subprocess.run(
        [gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE}",
         str(REPO_ROOT / "examples" / "c" / "struct_sizes.c"), "-o", str(exe)],
        check=True, capture_output=True,
    )
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    printed = {}
    for line in out.splitlines():
        name, size, align = line.split()
        printed[name] = (int(size), int(align))
    assert set(printed) == set(_ffi.ALL_STRUCTS)
    for name, struct in _ffi.ALL_STRUCTS.items():
        assert printed[name] == (ctypes.sizeof(struct), ctypes.alignment(struct)), name


def test_loaded_functions_have_signatures(lib):
    for name, (restype, argtypes) in _ffi.FUNCTIONS.items():
        if name in _ffi.OPTIONAL_FUNCTIONS and not _ffi.has_function(name):
            continue  # a library built before the tokenizer API (see _ffi.OPTIONAL_FUNCTIONS)
        fn = getattr(lib, name)
        assert fn.restype is restype, name
        assert list(fn.argtypes) == list(argtypes), name


def test_default_params_report_their_size(lib):
    assert lib.specdec_model_default_params().struct_size == ctypes.sizeof(_ffi.specdec_model_params_t)
    assert lib.specdec_session_default_params().struct_size == ctypes.sizeof(_ffi.specdec_session_params_t)
    g = lib.specdec_generate_default_params()
    assert g.struct_size == ctypes.sizeof(_ffi.specdec_generate_params_t)
    # Documented defaults.
    assert g.max_new_tokens == 128
    assert g.temperature == 0.0 and g.top_k == 0 and g.top_p == 1.0 and g.min_p == 0.0
    assert g.repetition_penalty == 1.0 and g.seed == 0 and g.stop_at_eos == 1
    assert not g.stop_tokens and g.n_stop_tokens == 0 and not g.callback
    s = lib.specdec_session_default_params()
    assert (s.kv_capacity, s.n_threads, s.arena_backend, s.max_batch) == (0, 0, _ffi.SPECDEC_ARENA_AUTO, 64)
    assert lib.specdec_model_default_params().use_mmap == 1
    # ABI 2: speculative decoding.
    sp = lib.specdec_speculative_default_params()
    assert sp.struct_size == ctypes.sizeof(_ffi.specdec_speculative_params_t)
    assert (sp.drafter, sp.acceptance, sp.draft_length, sp.adaptive) == (
        _ffi.SPECDEC_DRAFTER_NGRAM, _ffi.SPECDEC_ACCEPT_GREEDY, 5, 0)
    assert (sp.top_beta, sp.tolerance_tau, sp.ngram_min, sp.ngram_max) == (5, 3.0, 1, 3)
    assert not sp.draft_model and not sp.custom_drafter


def test_older_callers_struct_size_is_honoured(llama):
    """The library reads/writes only the bytes that struct_size covers, so code
    compiled against an older, shorter header keeps working."""
    lib = _ffi.lib()
    model = llama.model._handle()
    # Output struct: a caller that knows only struct_size + architecture + vocab_size.
    info = _ffi.specdec_model_info_t()
    ctypes.memset(ctypes.byref(info), 0xAB, ctypes.sizeof(info))
    info.struct_size = 12
    assert lib.specdec_model_get_info(model, ctypes.byref(info)) == _ffi.SPECDEC_OK
    assert info.vocab_size == llama.model.vocab_size
    assert info.context_length == -1414812757  # 0xABABABAB: untouched
    assert info.num_parameters & 0xFFFFFFFFFFFFFFFF == 0xABABABABABABABAB

    # Input struct: only struct_size and max_new_tokens; garbage after them is ignored
    # and the defaults (greedy, ...) apply.
    params = _ffi.specdec_generate_params_t()
    ctypes.memset(ctypes.byref(params), 0xFF, ctypes.sizeof(params))
    params.struct_size = 8
    params.max_new_tokens = 5
    with specdec.Session(llama.model) as session:
        prompt = (ctypes.c_int32 * len(llama.prompt))(*llama.prompt)
        out = (ctypes.c_int32 * 5)()
        n = ctypes.c_int32(0)
        code = lib.specdec_generate(session._ptr, prompt, len(llama.prompt), ctypes.byref(params), out, 5, ctypes.byref(n))
        assert code == _ffi.SPECDEC_OK, session.error_message
        greedy = llama.greedy[:5]
        eos = set(llama.model.eos_tokens)
        cut = next((i + 1 for i, t in enumerate(greedy) if t in eos), 5)  # stop_at_eos defaults to 1
        assert list(out[: n.value]) == greedy[:cut]
