"""Low-level ctypes mirror of include/specdec.h and include/specdec_plugin.h.

Everything here follows the header one to one: constants, structs (field order,
types and therefore size and alignment), and every function with its argtypes and
restype. The Pythonic API in :mod:`specdec` is built on top of it; use this module
directly only when you need the raw C contract.

The shared library is loaded lazily by :func:`lib`, looked up in this order:

1. the environment variable ``SPECDEC_LIBRARY`` (a full path to the file);
2. the ``libspecdec.so`` bundled inside this package directory (``pip install`` and
   wheels put it there: see setup.py), loaded by path;
3. ``dist/lib/libspecdec.so`` of the repository, when the package runs from a checkout
   (``<repo>/Bindings/python/specdec``);
4. :func:`ctypes.util.find_library` (``ldconfig``, ``LD_LIBRARY_PATH``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_double,
    c_float,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import List, Optional

# --------------------------------------------------------------------------
# Versions (compile-time values of the header this module mirrors)
# --------------------------------------------------------------------------

SPECDEC_VERSION_MAJOR = 0
SPECDEC_VERSION_MINOR = 4
SPECDEC_VERSION_PATCH = 0
SPECDEC_VERSION_NUMBER = SPECDEC_VERSION_MAJOR * 10000 + SPECDEC_VERSION_MINOR * 100 + SPECDEC_VERSION_PATCH
SPECDEC_VERSION_STRING = "0.4.0"
SPECDEC_ABI_VERSION = 4

# --------------------------------------------------------------------------
# Status codes (pinned forever)
# --------------------------------------------------------------------------

SPECDEC_OK = 0
SPECDEC_ERR_INVALID_ARGUMENT = 1
SPECDEC_ERR_IO = 2
SPECDEC_ERR_FORMAT = 3
SPECDEC_ERR_UNSUPPORTED = 4
SPECDEC_ERR_SHAPE = 5
SPECDEC_ERR_TOKEN_OUT_OF_RANGE = 6
SPECDEC_ERR_BUFFER_TOO_SMALL = 7
SPECDEC_ERR_CAPACITY = 8
SPECDEC_ERR_OUT_OF_MEMORY = 9
SPECDEC_ERR_CANCELLED = 10
SPECDEC_ERR_CALLBACK = 11
SPECDEC_ERR_INTERNAL = 12
SPECDEC_ERR_INVALID_UTF8 = 13  # ABI 2 (tokenizers)

# Architectures
SPECDEC_ARCH_UNKNOWN = 0
SPECDEC_ARCH_LLAMA = 1
SPECDEC_ARCH_GPT2 = 2
SPECDEC_ARCH_MARIAN = 3  # ABI 2: encoder-decoder
SPECDEC_ARCH_BART = 4  # ABI 2: encoder-decoder
SPECDEC_ARCH_SPEC_DRAFTER = 5  # ABI 2: SpecDec's Spec-Drafter (a draft model only)

# Arena backends
# ABI 3: weight precision and kernel path at load
SPECDEC_WEIGHTS_AUTO = 0
SPECDEC_WEIGHTS_FP32 = 1
SPECDEC_WEIGHTS_BF16 = 2
SPECDEC_WEIGHTS_INT8 = 3
SPECDEC_KERNELS_AUTO = 0
SPECDEC_KERNELS_PORTABLE = 1
SPECDEC_KERNELS_AVX2 = 2
SPECDEC_KERNELS_AVX512 = 3
SPECDEC_KERNELS_AVX512_BF16 = 4
SPECDEC_KERNELS_AMX = 5

SPECDEC_ARENA_AUTO = 0
SPECDEC_ARENA_JEMALLOC = 1
SPECDEC_ARENA_MMAP = 2

# Callback return values
SPECDEC_CALLBACK_CONTINUE = 0
SPECDEC_CALLBACK_STOP = 1

# Stop reasons
SPECDEC_STOP_NONE = 0
SPECDEC_STOP_MAX_TOKENS = 1
SPECDEC_STOP_TOKEN = 2
SPECDEC_STOP_CALLBACK = 3
SPECDEC_STOP_CAPACITY = 4
SPECDEC_STOP_ERROR = 5

# Drafters (ABI 2)
SPECDEC_DRAFTER_NONE = 0
SPECDEC_DRAFTER_MODEL = 1
SPECDEC_DRAFTER_NGRAM = 2
SPECDEC_DRAFTER_SUFFIX = 3
SPECDEC_DRAFTER_CUSTOM = 4
SPECDEC_DRAFTER_SPECDEC = 5

# Acceptance rules (ABI 2)
SPECDEC_ACCEPT_GREEDY = 0
SPECDEC_ACCEPT_SAMPLE = 1
SPECDEC_ACCEPT_TOPK = 2

# Beam search early stopping (ABI 2, encoder-decoder models)
SPECDEC_EARLY_STOP_HEURISTIC = 0  # transformers' early_stopping=False
SPECDEC_EARLY_STOP_BEAMS = 1  # early_stopping=True
SPECDEC_EARLY_STOP_NEVER = 2  # early_stopping="never"

# Special tokens (ABI 2, tokenizers)
SPECDEC_TOKEN_BOS = 0
SPECDEC_TOKEN_EOS = 1
SPECDEC_TOKEN_PAD = 2
SPECDEC_TOKEN_UNK = 3

# specdec_plugin.h
SPECDEC_PLUGIN_ABI_VERSION = 1
SPECDEC_PLUGIN_ENTRY_SYMBOL = "specdec_plugin_entry"

specdec_status = c_int32

# --------------------------------------------------------------------------
# Opaque handles
# --------------------------------------------------------------------------


class specdec_model(Structure):
    """Opaque ``struct specdec_model``; only ever used through a pointer."""


class specdec_session(Structure):
    """Opaque ``struct specdec_session``; only ever used through a pointer."""


class specdec_drafter(Structure):
    """Opaque ``struct specdec_drafter``; only ever used through a pointer."""


class specdec_tokenizer(Structure):
    """Opaque ``struct specdec_tokenizer``; only ever used through a pointer."""


specdec_model_p = POINTER(specdec_model)
specdec_session_p = POINTER(specdec_session)
specdec_drafter_p = POINTER(specdec_drafter)
specdec_tokenizer_p = POINTER(specdec_tokenizer)

# --------------------------------------------------------------------------
# Structs (field order and types exactly as in specdec.h)
# --------------------------------------------------------------------------


class specdec_model_params_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("use_mmap", c_int32),
        # ABI 3
        ("weight_precision", c_int32),
        ("kernel_path", c_int32),
    ]


class specdec_model_info_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("architecture", c_int32),
        ("vocab_size", c_int32),
        ("context_length", c_int32),
        ("hidden_size", c_int32),
        ("num_layers", c_int32),
        ("num_heads", c_int32),
        ("num_kv_heads", c_int32),
        ("bos_token_id", c_int32),
        ("eos_token_id", c_int32),
        ("pad_token_id", c_int32),
        ("num_parameters", c_int64),
        # ABI 2
        ("is_encoder_decoder", c_int32),
        ("source_vocab_size", c_int32),
        ("decoder_start_token_id", c_int32),
        ("max_source_length", c_int32),
        # ABI 3
        ("weight_precision", c_int32),
        ("kernel_path", c_int32),
        ("weight_bytes", c_int64),
    ]


class specdec_session_params_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("kv_capacity", c_int32),
        ("n_threads", c_int32),
        ("arena_backend", c_int32),
        ("max_batch", c_int32),
        # ABI 4
        ("max_sequences", c_int32),
    ]


# int32_t (*specdec_token_callback)(void *user_data, int32_t token, int32_t index)
specdec_token_callback = CFUNCTYPE(c_int32, c_void_p, c_int32, c_int32)


class specdec_generate_params_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("max_new_tokens", c_int32),
        ("temperature", c_float),
        ("top_k", c_int32),
        ("top_p", c_float),
        ("min_p", c_float),
        ("repetition_penalty", c_float),
        ("seed", c_uint64),
        ("stop_tokens", POINTER(c_int32)),
        ("n_stop_tokens", c_int32),
        ("stop_at_eos", c_int32),
        ("callback", specdec_token_callback),
        ("callback_user_data", c_void_p),
    ]


class specdec_stats_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("prompt_tokens", c_int32),
        ("reused_tokens", c_int32),
        ("generated_tokens", c_int32),
        ("stop_reason", c_int32),
        ("prefill_seconds", c_double),
        ("decode_seconds", c_double),
        ("prefill_tokens_per_second", c_double),
        ("decode_tokens_per_second", c_double),
        # ABI 2
        ("target_calls", c_int32),
        ("drafted_tokens", c_int32),
        ("accepted_tokens", c_int32),
        ("reserved0", c_int32),
        ("tokens_per_target_call", c_double),
        ("draft_seconds", c_double),
        ("verify_seconds", c_double),
        ("sample_seconds", c_double),
    ]


class specdec_speculative_params_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("drafter", c_int32),
        ("acceptance", c_int32),
        ("draft_length", c_int32),
        ("adaptive", c_int32),
        ("top_beta", c_int32),
        ("tolerance_tau", c_float),
        ("ngram_min", c_int32),
        ("ngram_max", c_int32),
        ("draft_model", specdec_model_p),
        ("custom_drafter", specdec_drafter_p),
    ]


class specdec_beam_params_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("beam_size", c_int32),
        ("max_new_tokens", c_int32),
        ("length_penalty", c_float),
        ("early_stopping", c_int32),
        ("num_return", c_int32),
    ]


class specdec_batch_params_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("batch_size", c_int32),
        ("batch_tokens", c_int32),
        ("reserved0", c_int32),
        ("seeds", POINTER(c_uint64)),
    ]


_i32p = POINTER(c_int32)
_f32p = POINTER(c_float)
_charp = POINTER(c_char)  # a char buffer with an explicit length (not NUL-terminated)
_sizep = POINTER(c_size_t)

# int32_t (*specdec_text_callback)(void *user_data, const char *text, size_t len)
specdec_text_callback = CFUNCTYPE(c_int32, c_void_p, _charp, c_size_t)


class specdec_text_params_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("tokenizer", specdec_tokenizer_p),
        ("add_special_tokens", c_int32),
        ("skip_special_tokens", c_int32),
        ("on_text", specdec_text_callback),
        ("user_data", c_void_p),
    ]


# --------------------------------------------------------------------------
# specdec_plugin.h: what drafter and verifier authors implement
# --------------------------------------------------------------------------


class specdec_draft_request_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("tokens", _i32p),
        ("n_tokens", c_int32),
        ("n_prompt", c_int32),
        ("source", _i32p),
        ("n_source", c_int32),
        ("max_tokens", c_int32),
        ("vocab_size", c_int32),
        ("want_probabilities", c_int32),
    ]


class specdec_draft_output_t(Structure):
    _fields_ = [
        ("tokens", _i32p),
        ("parents", _i32p),
        ("probabilities", _f32p),
        ("n_tokens", c_int32),
        ("has_probabilities", c_int32),
    ]


# int32_t (*propose)(void *instance, const specdec_draft_request_t *request, specdec_draft_output_t *output)
specdec_propose_fn = CFUNCTYPE(c_int32, c_void_p, POINTER(specdec_draft_request_t), POINTER(specdec_draft_output_t))
# int32_t (*begin)(void *instance, const specdec_draft_request_t *request)
specdec_begin_fn = CFUNCTYPE(c_int32, c_void_p, POINTER(specdec_draft_request_t))
# void (*accepted)(void *instance, const int32_t *path, int32_t n_path, int32_t next_token)
specdec_accepted_fn = CFUNCTYPE(None, c_void_p, _i32p, c_int32, c_int32)
# void *(*create)(const char *config)
specdec_create_fn = CFUNCTYPE(c_void_p, c_char_p)
# void (*destroy)(void *instance)
specdec_destroy_fn = CFUNCTYPE(None, c_void_p)


class specdec_drafter_vtable_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("abi_version", c_uint32),
        ("propose", specdec_propose_fn),
        ("begin", specdec_begin_fn),
        ("accepted", specdec_accepted_fn),
        ("create", specdec_create_fn),
        ("destroy", specdec_destroy_fn),
    ]


# int32_t (*prefill)(void *instance, const int32_t *tokens, int32_t n_tokens, float *logits)
specdec_prefill_fn = CFUNCTYPE(c_int32, c_void_p, _i32p, c_int32, _f32p)
# int32_t (*score)(void *instance, const int32_t *tokens, const int32_t *parents, int32_t n_tokens, float *logits)
specdec_score_fn = CFUNCTYPE(c_int32, c_void_p, _i32p, _i32p, c_int32, _f32p)
# int32_t (*commit)(void *instance, const int32_t *path, int32_t n_path)
specdec_commit_fn = CFUNCTYPE(c_int32, c_void_p, _i32p, c_int32)
# int32_t (*remaining_capacity)(void *instance)
specdec_remaining_capacity_fn = CFUNCTYPE(c_int32, c_void_p)


class specdec_verifier_vtable_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("abi_version", c_uint32),
        ("prefill", specdec_prefill_fn),
        ("score", specdec_score_fn),
        ("commit", specdec_commit_fn),
        ("remaining_capacity", specdec_remaining_capacity_fn),
    ]


# int32_t (*encode)(void *instance, const char *text, size_t len, int32_t add_special,
#                   int32_t *ids, int32_t cap, int32_t *out_len)
specdec_encode_fn = CFUNCTYPE(c_int32, c_void_p, _charp, c_size_t, c_int32, _i32p, c_int32, _i32p)
# int32_t (*decode)(void *instance, const int32_t *ids, int32_t n, int32_t skip_special,
#                   char *buf, size_t cap, size_t *out_len)
specdec_decode_fn = CFUNCTYPE(c_int32, c_void_p, _i32p, c_int32, c_int32, _charp, c_size_t, _sizep)


class specdec_tokenizer_vtable_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("abi_version", c_uint32),
        ("encode", specdec_encode_fn),
        ("decode", specdec_decode_fn),
        ("destroy", specdec_destroy_fn),
    ]


class specdec_host_api_t(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("abi_version", c_uint32),
        ("status_string", CFUNCTYPE(c_char_p, specdec_status)),
        ("version_number", CFUNCTYPE(c_uint32)),
    ]


# const specdec_drafter_vtable_t *(*specdec_plugin_entry_fn)(uint32_t abi_version, const specdec_host_api_t *host)
specdec_plugin_entry_fn = CFUNCTYPE(POINTER(specdec_drafter_vtable_t), c_uint32, POINTER(specdec_host_api_t))

#: Structs of specdec.h.
STRUCTS = {
    "specdec_model_params_t": specdec_model_params_t,
    "specdec_model_info_t": specdec_model_info_t,
    "specdec_session_params_t": specdec_session_params_t,
    "specdec_generate_params_t": specdec_generate_params_t,
    "specdec_batch_params_t": specdec_batch_params_t,
    "specdec_stats_t": specdec_stats_t,
    "specdec_speculative_params_t": specdec_speculative_params_t,
    "specdec_beam_params_t": specdec_beam_params_t,
    "specdec_text_params_t": specdec_text_params_t,
}

#: Structs of specdec_plugin.h.
PLUGIN_STRUCTS = {
    "specdec_draft_request_t": specdec_draft_request_t,
    "specdec_draft_output_t": specdec_draft_output_t,
    "specdec_drafter_vtable_t": specdec_drafter_vtable_t,
    "specdec_verifier_vtable_t": specdec_verifier_vtable_t,
    "specdec_tokenizer_vtable_t": specdec_tokenizer_vtable_t,
    "specdec_host_api_t": specdec_host_api_t,
}

ALL_STRUCTS = {**STRUCTS, **PLUGIN_STRUCTS}

# name -> (restype, argtypes); every function of specdec.h, in header order.
FUNCTIONS = {
    # Versions
    "specdec_version_number": (c_uint32, []),
    "specdec_version_string": (c_char_p, []),
    "specdec_abi_version": (c_uint32, []),
    # Statuses
    "specdec_status_string": (c_char_p, [specdec_status]),
    "specdec_last_error_message": (c_char_p, []),
    # Models
    "specdec_model_default_params": (specdec_model_params_t, []),
    "specdec_model_load": (specdec_status, [c_char_p, POINTER(specdec_model_params_t), POINTER(specdec_model_p)]),
    "specdec_model_destroy": (None, [specdec_model_p]),
    "specdec_model_get_info": (specdec_status, [specdec_model_p, POINTER(specdec_model_info_t)]),
    "specdec_model_vocab_size": (c_int32, [specdec_model_p]),
    "specdec_model_context_length": (c_int32, [specdec_model_p]),
    "specdec_model_bos_token": (c_int32, [specdec_model_p]),
    "specdec_model_eos_token": (c_int32, [specdec_model_p]),
    "specdec_model_eos_tokens": (specdec_status, [specdec_model_p, _i32p, c_int32, _i32p]),
    "specdec_model_type": (c_char_p, [specdec_model_p]),
    "specdec_kernel_path_name": (c_char_p, [c_int32]),
    "specdec_kernel_path_supported": (c_int32, [c_int32]),
    # Sessions
    "specdec_session_default_params": (specdec_session_params_t, []),
    "specdec_session_create": (
        specdec_status,
        [specdec_model_p, POINTER(specdec_session_params_t), POINTER(specdec_session_p)],
    ),
    "specdec_session_destroy": (None, [specdec_session_p]),
    "specdec_session_reset": (specdec_status, [specdec_session_p]),
    "specdec_session_length": (c_int32, [specdec_session_p]),
    "specdec_session_capacity": (c_int32, [specdec_session_p]),
    "specdec_session_arena_backend": (c_char_p, [specdec_session_p]),
    "specdec_session_error_message": (c_char_p, [specdec_session_p]),
    "specdec_session_tokens": (specdec_status, [specdec_session_p, _i32p, c_int32, _i32p]),
    "specdec_session_truncate": (specdec_status, [specdec_session_p, c_int32]),
    "specdec_session_eval": (specdec_status, [specdec_session_p, _i32p, _i32p, c_int32, _f32p, c_size_t]),
    # Generation
    "specdec_generate_default_params": (specdec_generate_params_t, []),
    "specdec_generate": (
        specdec_status,
        [specdec_session_p, _i32p, c_int32, POINTER(specdec_generate_params_t), _i32p, c_int32, _i32p],
    ),
    "specdec_session_get_stats": (specdec_status, [specdec_session_p, POINTER(specdec_stats_t)]),
    # Speculative decoding (ABI 2)
    "specdec_speculative_default_params": (specdec_speculative_params_t, []),
    "specdec_generate_speculative": (
        specdec_status,
        [
            specdec_session_p, _i32p, c_int32, POINTER(specdec_generate_params_t),
            POINTER(specdec_speculative_params_t), _i32p, c_int32, _i32p,
        ],
    ),
    "specdec_session_acceptance_by_depth": (
        specdec_status,
        [specdec_session_p, POINTER(c_double), c_int32, _i32p],
    ),
    "specdec_drafter_create": (
        specdec_status,
        [POINTER(specdec_drafter_vtable_t), c_void_p, POINTER(specdec_drafter_p)],
    ),
    "specdec_drafter_load_plugin": (specdec_status, [c_char_p, c_char_p, POINTER(specdec_drafter_p)]),
    "specdec_drafter_destroy": (None, [specdec_drafter_p]),
    "specdec_generate_with_verifier": (
        specdec_status,
        [
            POINTER(specdec_verifier_vtable_t), c_void_p, c_int32, _i32p, c_int32,
            POINTER(specdec_generate_params_t), POINTER(specdec_speculative_params_t),
            _i32p, c_int32, _i32p, POINTER(specdec_stats_t),
        ],
    ),
    # Encoder-decoder models (ABI 2; see OPTIONAL_FUNCTIONS)
    "specdec_session_set_source": (specdec_status, [specdec_session_p, _i32p, c_int32]),
    "specdec_generate_seq2seq": (
        specdec_status,
        [
            specdec_session_p, _i32p, c_int32, _i32p, c_int32, POINTER(specdec_generate_params_t),
            POINTER(specdec_speculative_params_t), _i32p, c_int32, _i32p,
        ],
    ),
    "specdec_beam_default_params": (specdec_beam_params_t, []),
    "specdec_beam_search": (
        specdec_status,
        [specdec_session_p, _i32p, c_int32, POINTER(specdec_beam_params_t), _i32p, _i32p, _f32p, _i32p, _i32p],
    ),
    # Batched decoding (ABI 4)
    "specdec_batch_default_params": (specdec_batch_params_t, []),
    "specdec_generate_batch": (
        specdec_status,
        [
            specdec_session_p, POINTER(_i32p), _i32p, c_int32, POINTER(specdec_generate_params_t),
            POINTER(specdec_speculative_params_t), POINTER(specdec_batch_params_t), _i32p, c_int32, _i32p, _i32p, _i32p,
        ],
    ),
    "specdec_beam_search_batch": (
        specdec_status,
        [
            specdec_session_p, POINTER(_i32p), _i32p, c_int32, POINTER(specdec_beam_params_t), _i32p, _i32p, _f32p,
            _i32p, _i32p, _i32p,
        ],
    ),
    # Tokenizers and text (ABI 2; see OPTIONAL_FUNCTIONS)
    "specdec_tokenizer_load": (specdec_status, [c_char_p, POINTER(specdec_tokenizer_p)]),
    "specdec_model_get_tokenizer": (specdec_status, [specdec_model_p, POINTER(specdec_tokenizer_p)]),
    "specdec_tokenizer_create": (
        specdec_status,
        [POINTER(specdec_tokenizer_vtable_t), c_void_p, c_int32, POINTER(specdec_tokenizer_p)],
    ),
    "specdec_tokenizer_destroy": (None, [specdec_tokenizer_p]),
    "specdec_tokenizer_vocab_size": (c_int32, [specdec_tokenizer_p]),
    "specdec_tokenizer_special_token": (c_int32, [specdec_tokenizer_p, c_int32]),
    "specdec_tokenize": (specdec_status, [specdec_tokenizer_p, _charp, c_size_t, c_int32, _i32p, c_int32, _i32p]),
    "specdec_detokenize": (specdec_status, [specdec_tokenizer_p, _i32p, c_int32, c_int32, _charp, c_size_t, _sizep]),
    "specdec_token_to_piece": (specdec_status, [specdec_tokenizer_p, c_int32, _charp, c_size_t, _sizep]),
    "specdec_piece_to_token": (specdec_status, [specdec_tokenizer_p, c_char_p, _i32p]),
    "specdec_text_default_params": (specdec_text_params_t, []),
    "specdec_generate_text": (
        specdec_status,
        [
            specdec_session_p, c_char_p, POINTER(specdec_generate_params_t), POINTER(specdec_speculative_params_t),
            POINTER(specdec_text_params_t), _charp, c_size_t, _sizep,
        ],
    ),
    "specdec_session_text": (specdec_status, [specdec_session_p, _charp, c_size_t, _sizep]),
}

#: Functions of the header that a library may lack without being refused: the
#: encoder-decoder, tokenizer and text APIs joined ABI 2 after its speculative part, and
#: a libspecdec built in between exports the rest of ABI 2 but not these. They are
#: declared when present; :func:`has_function` tells (the Pythonic wrappers raise
#: UnsupportedError when the loaded library lacks them).
OPTIONAL_FUNCTIONS = frozenset(
    {
        "specdec_session_set_source",
        "specdec_generate_seq2seq",
        "specdec_beam_default_params",
        "specdec_beam_search",
        "specdec_tokenizer_load",
        "specdec_model_get_tokenizer",
        "specdec_tokenizer_create",
        "specdec_tokenizer_destroy",
        "specdec_tokenizer_vocab_size",
        "specdec_tokenizer_special_token",
        "specdec_tokenize",
        "specdec_detokenize",
        "specdec_token_to_piece",
        "specdec_piece_to_token",
        "specdec_text_default_params",
        "specdec_generate_text",
        "specdec_session_text",
    }
)

# --------------------------------------------------------------------------
# Library loading
# --------------------------------------------------------------------------

LIBRARY_ENV = "SPECDEC_LIBRARY"
_LIBRARY_FILE = "libspecdec.so"


class LibraryNotFoundError(OSError):
    """libspecdec could not be located or loaded."""


def candidate_paths() -> List[str]:
    """Where :func:`lib` looks, in order (find_library's answer last, if any)."""
    candidates: List[str] = []
    env = os.environ.get(LIBRARY_ENV)
    if env:
        candidates.append(env)
    here = Path(__file__).resolve().parent
    candidates.append(str(here / _LIBRARY_FILE))
    # <repo>/Bindings/python/specdec/_ffi.py -> <repo>/dist/lib/libspecdec.so
    parents = here.parents
    if len(parents) >= 3:
        candidates.append(str(parents[2] / "dist" / "lib" / _LIBRARY_FILE))
    found = ctypes.util.find_library("specdec")
    if found:
        candidates.append(found)
    return candidates


def _locate() -> str:
    env = os.environ.get(LIBRARY_ENV)
    if env:
        # An explicit choice is never silently replaced by another copy.
        if not os.path.isfile(env):
            raise LibraryNotFoundError(f"{LIBRARY_ENV}={env!r} does not name an existing file")
        return env
    for path in candidate_paths():
        if os.path.isabs(path):
            if os.path.isfile(path):
                return path
        else:  # a bare soname from find_library: let the dynamic loader resolve it
            return path
    raise LibraryNotFoundError(
        "libspecdec.so not found: set SPECDEC_LIBRARY to its full path, build it with "
        "scripts/build.sh (dist/lib), or install it where the dynamic loader finds it"
    )


def _declare(cdll: ctypes.CDLL) -> ctypes.CDLL:
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError as exc:
            if name in OPTIONAL_FUNCTIONS:
                continue
            raise LibraryNotFoundError(
                f"{cdll._name} does not export {name}: not a libspecdec of ABI {SPECDEC_ABI_VERSION}"
            ) from exc
        fn.restype = restype
        fn.argtypes = argtypes
    return cdll


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None


def lib() -> ctypes.CDLL:
    """The loaded, fully declared library (loaded on first use, then cached)."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path = _locate()
            try:
                cdll = ctypes.CDLL(path)
            except OSError as exc:
                hint = ""
                if "static TLS" in str(exc):
                    hint = (
                        " (a library linked against jemalloc cannot be dlopen'ed late; start Python "
                        "with LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2)"
                    )
                raise LibraryNotFoundError(f"cannot load {path}: {exc}{hint}") from exc
            _declare(cdll)
            abi = cdll.specdec_abi_version()
            if abi < SPECDEC_ABI_VERSION:
                raise LibraryNotFoundError(
                    f"{path} implements ABI {abi}, older than ABI {SPECDEC_ABI_VERSION} that these bindings need"
                )
            _lib_path = path
            _lib = cdll
    return _lib


def has_function(name: str) -> bool:
    """Whether the loaded library exports ``name`` (see OPTIONAL_FUNCTIONS)."""
    return hasattr(lib(), name)


def library_path() -> str:
    """Path (or soname) of the loaded library; loads it if needed."""
    lib()
    assert _lib_path is not None
    return _lib_path


def decode(value: Optional[bytes]) -> str:
    """A library-owned ``const char *`` as text ("" for NULL)."""
    if not value:
        return ""
    return value.decode("utf-8", errors="replace")
