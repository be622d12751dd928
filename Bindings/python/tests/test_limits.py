"""Limits and sharing through the binding: files that lie, memory the machine lacks,
one model used by several threads, and text of 100,000 characters."""

from __future__ import annotations

import json
import os
import struct
import threading

import pytest

import specdec

from conftest import REPO_ROOT


def write_llama(directory, *, layers=2, context=128, hidden=64, heads=4, vocab=32, ffn=64, edit_config=None):
    """A Llama directory with zero weights (safetensors written by hand: no numpy)."""
    config = {
        "model_type": "llama", "vocab_size": vocab, "hidden_size": hidden, "intermediate_size": ffn,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": heads,
        "max_position_embeddings": context, "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2,
    }
    if edit_config:
        edit_config(config)
    tensors = [("model.embed_tokens.weight", [vocab, hidden]), ("model.norm.weight", [hidden])]
    for i in range(layers):
        p = f"model.layers.{i}."
        tensors += [(p + "input_layernorm.weight", [hidden]), (p + "post_attention_layernorm.weight", [hidden])]
        tensors += [(p + f"self_attn.{n}_proj.weight", [hidden, hidden]) for n in "qkvo"]
        tensors += [(p + "mlp.gate_proj.weight", [ffn, hidden]), (p + "mlp.up_proj.weight", [ffn, hidden]),
                    (p + "mlp.down_proj.weight", [hidden, ffn])]
    header, offset = {}, 0
    for name, shape in tensors:
        size = 4
        for d in shape:
            size *= d
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header).encode()
    with open(os.path.join(directory, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + bytes(offset))
    with open(os.path.join(directory, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    return header


def physical_memory() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_session_larger_than_physical_memory(tmp_path):
    context = (1 << 24) - 1
    write_llama(tmp_path, layers=24, context=context)
    with specdec.Model(tmp_path) as model:
        if 24 * 2 * 64 * 4 * context <= physical_memory():
            pytest.skip("this machine holds a 200 GB KV cache")
        with pytest.raises(specdec.SpecDecMemoryError, match="physical memory"):
            specdec.Session(model, kv_capacity=0)
        with specdec.Session(model, kv_capacity=256, n_threads=1) as session:
            assert session.generate([1, 2, 3], max_new_tokens=4, stop_at_eos=False) == [0, 0, 0, 0]


@pytest.mark.parametrize("key", ["hidden_size", "vocab_size", "num_hidden_layers", "max_position_embeddings"])
def test_config_dimension_beyond_the_limit(tmp_path, key):
    write_llama(tmp_path, edit_config=lambda c: c.update({key: 1 << 40}))
    with pytest.raises(specdec.FormatError, match=key):
        specdec.Model(tmp_path)


def test_shape_whose_size_overflows(tmp_path):
    header = write_llama(tmp_path)
    header["model.norm.weight"]["shape"] = [1 << 39, 1 << 23]
    data = open(tmp_path / "model.safetensors", "rb").read()
    length = struct.unpack("<Q", data[:8])[0]
    encoded = json.dumps(header).encode()
    with open(tmp_path / "model.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + data[8 + length:])
    with pytest.raises(specdec.FormatError, match="model.norm.weight"):
        specdec.Model(tmp_path)


def test_one_model_shared_by_threads(llama):
    results = {}

    def work(i):
        outputs = []
        for _ in range(3):
            with specdec.Session(llama.model, n_threads=1) as session:
                outputs.append(session.generate(llama.prompt, max_new_tokens=len(llama.greedy), stop_at_eos=False))
                outputs.append(session.generate(llama.prompt, max_new_tokens=len(llama.greedy), stop_at_eos=False,
                                                drafter="ngram"))
        results[i] = outputs

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 2, 3]
    for outputs in results.values():
        assert all(out == llama.greedy for out in outputs)


def test_text_of_100000_characters():
    tokenizer = specdec.Tokenizer.load(REPO_ROOT / "Tests" / "Fixtures" / "tokenizers" / "bytelevel-bpe" / "tokenizer.json")
    for text in ["a" * 100_000, " " * 100_000, "the quick brown fox " * 5_000, "👨‍👩‍👧‍👦" * 10_000]:
        ids = tokenizer.encode(text)
        assert ids and all(0 <= i < tokenizer.vocab_size for i in ids)
        assert tokenizer.decode(ids, skip_special=False) == text
