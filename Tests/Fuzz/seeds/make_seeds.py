#!/usr/bin/env python3
"""Writes the small fuzz seeds and companion files of Tests/Fuzz/seeds/ from the test fixtures.

Every mutation of a large seed is as slow as loading the large file, so the fuzz targets start
from small files of the same formats instead:

  tokenizer-json/*.json   each fixture tokenizer.json with its vocabulary cut to its first
                          entries (ids renumbered, merges and special tokens kept consistent);
                          the Precompiled normalizer gets the small charsmap below
  sentencepiece/*.model   sp-unigram and sp-bpe with a few hundred pieces, with and without a
                          small precompiled charsmap
  marian/                 a Marian directory: those two models as source.spm and target.spm,
                          a vocab.json numbering their pieces, tokenizer_config.json
  tiny-llama/             a one-layer Llama (hidden size 32, vocabulary 64) in F32, F16 and BF16

Run from anywhere: python3 Tests/Fuzz/seeds/make_seeds.py (numpy for the tiny model).
"""
import base64
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TOKENIZERS = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- protobuf, as much as SentencePiece's ModelProto needs ---------------------------------

def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data, i):
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def fields(data):
    """(field, wire type, value, raw bytes of the whole field) for each field of a message."""
    i = 0
    while i < len(data):
        start = i
        tag, i = read_varint(data, i)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        elif wire == 2:
            n, i = read_varint(data, i)
            value, i = data[i:i + n], i + n
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, value, data[start:i]


def length_delimited(field, payload):
    return varint(field << 3 | 2) + varint(len(payload)) + payload


# --- a small precompiled charsmap (Darts-clone double array + NUL-terminated strings) -------

CHARSMAP_RULES = {
    "\uff21": "A", "\uff41": "a", "\uff11": "1",      # fullwidth A, a, 1
    "\ufb01": "fi", "\u00a0": " ", "\u3000": " ",     # ligature, no-break and ideographic space
    "\u2460": "1", "e\u0301": "\u00e9", "\u00bd": "1\u20442",
}


def build_charsmap(rules):
    keys = sorted((k.encode(), v.encode()) for k, v in rules.items())
    normalized = bytearray()
    values = {}
    for key, value in keys:
        values[key] = len(normalized)
        normalized += value + b"\0"
    # The trie of the keys' bytes; each node is a dict of children, "leaf" marks a key's end.
    root = {}
    for key, _ in keys:
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node["leaf"] = values[key]
    units = {}
    used = {0}

    def place(node, position):
        labels = [b for b in node if b != "leaf"]
        slots = labels + ([0] if "leaf" in node else [])
        base = 1
        while any((base ^ s) in used for s in slots) or base == position:
            base += 1
        for s in slots:
            used.add(base ^ s)
        offset = position ^ base
        assert offset < (1 << 21)
        has_leaf = 1 if "leaf" in node else 0
        label = units.get(position, 0) & 0xFF
        units[position] = label | has_leaf << 8 | offset << 10
        if has_leaf:
            units[base] = (1 << 31) | node["leaf"]
        for b in labels:
            units[base ^ b] = b
            place(node[b], base ^ b)

    place(root, 0)
    size = max(units) + 1
    trie = b"".join(struct.pack("<I", units.get(i, 0)) for i in range(size))
    blob = struct.pack("<I", len(trie)) + trie + bytes(normalized)
    check_charsmap(blob, rules)
    return blob


def check_charsmap(blob, rules):
    """Walks the trie the way DoubleArrayTrie.forEachPrefix does."""
    size = struct.unpack("<I", blob[:4])[0]
    units = struct.unpack(f"<{size // 4}I", blob[4:4 + size])
    normalized = blob[4 + size:]
    offset = lambda u: (u >> 10) << ((u & (1 << 9)) >> 6)
    for key, value in rules.items():
        node = offset(units[0])
        found = None
        for n, byte in enumerate(key.encode()):
            node ^= byte
            unit = units[node]
            assert unit & ((1 << 31) | 0xFF) == byte, key
            node ^= offset(unit)
            if (unit >> 8) & 1:
                found = (n + 1, units[node] & ((1 << 31) - 1))
        assert found and found[0] == len(key.encode()), key
        end = normalized.index(b"\0", found[1])
        assert normalized[found[1]:end] == value.encode(), key


# --- small SentencePiece models --------------------------------------------------------------

def piece_fields(raw_piece):
    d = {f: v for f, _, v, _ in fields(raw_piece)}
    return d[1].decode(), d.get(3, 1)


def small_sentencepiece(path, normal_pieces, charsmap, byte_pieces=True):
    """The model with its special and byte pieces, its Latin single-character pieces and the first
    `normal_pieces` other pieces, in their order; the normalizer's charsmap replaced. Without
    `byte_pieces`, only lowercase letters, digits and some punctuation, and no byte fallback."""
    data = open(path, "rb").read()
    out = bytearray()
    kept = []
    others = 0
    for field, _, value, raw in fields(data):
        if field == 1:
            piece, kind = piece_fields(value)
            rest = piece.replace("\u2581", "")
            if byte_pieces:
                single = len(rest) <= 1 and (rest == "" or ord(rest) < 0x180 or rest in "\u00e9\u00fc\u6771\u4eac\u2044")
            else:
                single = len(rest) <= 1 and rest in "abcdefghijklmnopqrstuvwxyz0123456789.,'"
                if kind == 6:
                    continue
            if kind != 1 or single or others < normal_pieces:
                if kind == 1 and not single:
                    others += 1
                out += raw
                kept.append(piece)
        elif field == 3:
            spec = bytearray()
            for f, _, v, r in fields(value):
                if f == 2:
                    if charsmap is not None:
                        spec += length_delimited(2, charsmap)
                elif f == 1 and charsmap is None:
                    spec += length_delimited(1, b"identity")
                else:
                    spec += r
            out += length_delimited(3, bytes(spec))
        else:
            out += raw
    # trainer_spec's vocab_size (field 4) follows the pieces kept
    fixed = bytearray()
    for field, _, value, raw in fields(bytes(out)):
        if field == 2:
            spec = bytearray()
            for f, _, v, r in fields(value):
                if f == 35 and not byte_pieces:
                    continue  # byte_fallback
                spec += (varint(4 << 3) + varint(len(kept))) if f == 4 else r
            fixed += length_delimited(2, bytes(spec))
        else:
            fixed += raw
    return bytes(fixed), kept


# --- small tokenizer.json files --------------------------------------------------------------

def remap_ids(value, idmap, tokens):
    """Post-processor special tokens: ids follow the renumbering, tokens not kept are dropped."""
    if isinstance(value, dict):
        if value.get("type") in ("BertProcessing", "RobertaProcessing"):
            for key in ("sep", "cls"):
                if key in value:
                    token = value[key][0]
                    value[key] = [token, tokens.get(token, 0)]
        if "special_tokens" in value and isinstance(value["special_tokens"], dict):
            for special in value["special_tokens"].values():
                special["ids"] = [tokens.get(t, idmap.get(i, 0)) for t, i in zip(special["tokens"], special["ids"])]
        for v in value.values():
            remap_ids(v, idmap, tokens)
    elif isinstance(value, list):
        for v in value:
            remap_ids(v, idmap, tokens)


def small_tokenizer_json(path, keep, charsmap):
    j = json.load(open(path))
    model = j["model"]
    added = j.get("added_tokens") or []
    added_contents = {a["content"] for a in added}
    idmap = {}
    if isinstance(model["vocab"], dict):
        special = added_contents | {model.get("unk_token")}
        entries = sorted(model["vocab"].items(), key=lambda kv: kv[1])
        short = lambda t: len(t.removeprefix("##")) == 1 and ord(t.removeprefix("##")) < 0x180
        chosen = [(t, i) for t, i in entries if i < keep or t in special or short(t)]
        vocab = {}
        for new, (token, old) in enumerate(chosen):
            vocab[token] = new
            idmap[old] = new
        model["vocab"] = vocab
        if model.get("merges"):
            merges = []
            for merge in model["merges"]:
                a, b = merge if isinstance(merge, list) else merge.split(" ", 1)
                if a in vocab and b in vocab and a + b in vocab:
                    merges.append(merge)
            model["merges"] = merges
    else:  # Unigram: [[piece, score], ...] numbered by position
        special = added_contents
        chosen = [(k, e) for k, e in enumerate(model["vocab"]) if k < keep or e[0] in special or k == model.get("unk_id")]
        model["vocab"] = [e for _, e in chosen]
        for new, (old, _) in enumerate(chosen):
            idmap[old] = new
        if model.get("unk_id") is not None:
            model["unk_id"] = idmap[model["unk_id"]]
    size = len(model["vocab"])
    tokens = {}
    extra = size
    for a in added:
        if a["id"] in idmap:
            a["id"] = idmap[a["id"]]
        else:
            a["id"] = extra
            extra += 1
        tokens[a["content"]] = a["id"]
    if isinstance(model["vocab"], dict):
        for t, i in model["vocab"].items():
            tokens.setdefault(t, i)
    else:
        for i, e in enumerate(model["vocab"]):
            tokens.setdefault(e[0], i)
    remap_ids(j.get("post_processor"), idmap, tokens)

    def swap_charsmap(value):
        if isinstance(value, dict):
            if value.get("type") == "Precompiled":
                value["precompiled_charsmap"] = base64.b64encode(charsmap).decode()
            for v in value.values():
                swap_charsmap(v)
        elif isinstance(value, list):
            for v in value:
                swap_charsmap(v)
    swap_charsmap(j.get("normalizer"))
    return json.dumps(j, ensure_ascii=False, separators=(",", ":"))


# --- a tiny Llama ----------------------------------------------------------------------------

def safetensors(tensors, dtype):
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        array = tensors[name].astype(np.float32)
        if dtype == "F16":
            raw = array.astype(np.float16).tobytes()
        elif dtype == "BF16":
            raw = (array.view(np.uint32) >> 16).astype(np.uint16).tobytes()
        else:
            raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def tiny_llama():
    config = json.load(open(os.path.join(ROOT, "Tests", "Fixtures", "decoder", "llama_f32", "config.json")))
    hidden, heads, kv_heads, head_dim, inter, vocab = 32, 2, 1, 16, 64, 64
    config.update({"hidden_size": hidden, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
                   "head_dim": head_dim, "intermediate_size": inter, "num_hidden_layers": 1,
                   "vocab_size": vocab, "max_position_embeddings": 64, "tie_word_embeddings": False})
    rng = np.random.default_rng(7)
    w = lambda *shape: rng.normal(0, 0.2, shape)
    tensors = {
        "lm_head.weight": w(vocab, hidden),
        "model.embed_tokens.weight": w(vocab, hidden),
        "model.norm.weight": 1 + w(hidden),
        "model.layers.0.input_layernorm.weight": 1 + w(hidden),
        "model.layers.0.post_attention_layernorm.weight": 1 + w(hidden),
        "model.layers.0.self_attn.q_proj.weight": w(heads * head_dim, hidden),
        "model.layers.0.self_attn.k_proj.weight": w(kv_heads * head_dim, hidden),
        "model.layers.0.self_attn.v_proj.weight": w(kv_heads * head_dim, hidden),
        "model.layers.0.self_attn.o_proj.weight": w(hidden, heads * head_dim),
        "model.layers.0.mlp.gate_proj.weight": w(inter, hidden),
        "model.layers.0.mlp.up_proj.weight": w(inter, hidden),
        "model.layers.0.mlp.down_proj.weight": w(hidden, inter),
    }
    directory = os.path.join(HERE, "tiny-llama")
    write(os.path.join(directory, "config.json"), json.dumps(config, separators=(",", ":")) + "\n")
    generation = open(os.path.join(ROOT, "Tests", "Fixtures", "decoder", "llama_f32", "generation_config.json")).read()
    write(os.path.join(directory, "generation_config.json"), generation)
    write(os.path.join(directory, "model.safetensors"), safetensors(tensors, "F32"))
    write(os.path.join(HERE, "safetensors", "tiny-llama-f16.safetensors"), safetensors(tensors, "F16"))
    write(os.path.join(HERE, "safetensors", "tiny-llama-bf16.safetensors"), safetensors(tensors, "BF16"))


def main():
    charsmap = build_charsmap(CHARSMAP_RULES)
    unigram_path = os.path.join(TOKENIZERS, "sp-unigram", "tokenizer.model")
    bpe_path = os.path.join(TOKENIZERS, "sp-bpe", "tokenizer.model")
    unigram, unigram_pieces = small_sentencepiece(unigram_path, 120, charsmap)
    bpe, bpe_pieces = small_sentencepiece(bpe_path, 200, charsmap)
    write(os.path.join(HERE, "sentencepiece", "unigram.model"), unigram)
    write(os.path.join(HERE, "sentencepiece", "bpe.model"), bpe)
    write(os.path.join(HERE, "sentencepiece", "unigram-identity.model"), small_sentencepiece(unigram_path, 120, None)[0])
    write(os.path.join(HERE, "sentencepiece", "bpe-identity.model"), small_sentencepiece(bpe_path, 200, None)[0])

    # The Marian companions are smaller still: every vocab.json input loads both.
    unigram, unigram_pieces = small_sentencepiece(unigram_path, 30, charsmap, byte_pieces=False)
    bpe, bpe_pieces = small_sentencepiece(bpe_path, 30, charsmap, byte_pieces=False)
    marian = os.path.join(HERE, "marian")
    write(os.path.join(marian, "source.spm"), unigram)
    write(os.path.join(marian, "target.spm"), bpe)
    vocab = {}
    for piece in ["</s>", "<unk>"] + unigram_pieces + bpe_pieces + ["<pad>"]:
        vocab.setdefault(piece, len(vocab))
    write(os.path.join(marian, "vocab.json"), json.dumps(vocab, ensure_ascii=False, indent=0) + "\n")
    config = json.load(open(os.path.join(ROOT, "models", "specdec-en-de-verifier", "tokenizer_config.json")))
    write(os.path.join(marian, "tokenizer_config.json"), json.dumps(config, indent=1) + "\n")
    write(os.path.join(marian, "special_tokens_map.json"),
          open(os.path.join(ROOT, "models", "specdec-en-de-verifier", "special_tokens_map.json")).read())

    for name in sorted(os.listdir(TOKENIZERS)):
        path = os.path.join(TOKENIZERS, name, "tokenizer.json")
        if os.path.isfile(path):
            keep = 420 if name == "precompiled-unigram" else 300 if "bpe" in name else 150
            write(os.path.join(HERE, "tokenizer-json", name + ".json"), small_tokenizer_json(path, keep, charsmap))
    tiny_llama()


if __name__ == "__main__":
    main()
