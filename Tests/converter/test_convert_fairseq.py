"""tools/convert_fairseq.py on fairseq-shaped checkpoints built here (fairseq is not needed).

Each test builds a tiny random checkpoint with fairseq's key names and shapes
(tools/fixtures/fairseq_reference.py), converts it, and compares log-probabilities of a target
given a source:
- reference: a torch forward over the original checkpoint that follows fairseq's code;
- converted: a numpy forward over the converted directory (config.json + model.safetensors)
  with the engine's semantics (Marian layout, "positional_embedding_style": "fairseq");
- engine: `specdec score --source-ids ... --target-ids ... --json` when a specdec binary with
  encoder-decoder support is found (SPECDEC_CLI, the build folders, dist/bin); skipped otherwise.

Run: python3 -m pytest Tests/converter
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tools" / "fixtures"))
import convert_fairseq  # noqa: E402
import fairseq_reference as fr  # noqa: E402

SOURCE = [17, 5, 42, 9, 33, 60, 8, 2]
TARGET = [11, 40, 7, 25, 61, 19, 2]


# --- a numpy forward over the converted directory (what the engine computes) ---------------

def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        buf = raw[base + begin: base + end]
        if info["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4")
        elif info["dtype"] == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif info["dtype"] == "BF16":
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(info["dtype"])
        out[name] = a.reshape(info["shape"]).astype(np.float32)
    return out


def positions_table(cfg: dict, rows: int, d: int) -> np.ndarray:
    half = d // 2
    if cfg.get("positional_embedding_style") == "fairseq":
        offset = cfg["position_offset"]
        freq = np.exp(np.arange(half, dtype=np.float32) * np.float32(-np.log(10000) / (half - 1)))
        ang = (np.arange(rows, dtype=np.float32) + offset)[:, None] * freq[None, :]
    else:
        ang = np.arange(rows)[:, None] / np.power(10000, 2 * np.arange(half) / d)[None, :]
    return np.concatenate([np.sin(ang), np.cos(ang)], axis=1).astype(np.float32)


def layer_norm(x, w, b):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * w + b


def activation(name):
    from math import erf, sqrt
    if name == "relu":
        return lambda x: np.maximum(x, 0)
    if name == "gelu":
        return np.vectorize(lambda v: 0.5 * v * (1 + erf(v / sqrt(2))), otypes=[np.float32])
    if name == "gelu_new":
        return lambda x: 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))
    raise ValueError(name)


def converted_forward(directory: Path, source: list[int], decoder_input: list[int]) -> np.ndarray:
    cfg = json.loads((directory / "config.json").read_text())
    w = read_safetensors(directory / "model.safetensors")
    assert cfg["model_type"] == "marian"
    d = cfg["d_model"]
    act = activation(cfg["activation_function"])
    scale = np.float32(np.sqrt(d)) if cfg["scale_embedding"] else np.float32(1)
    if cfg["share_encoder_decoder_embeddings"]:
        enc_emb = dec_emb = w["model.shared.weight"]
    else:
        enc_emb, dec_emb = w["model.encoder.embed_tokens.weight"], w["model.decoder.embed_tokens.weight"]
    table = positions_table(cfg, 64, d)

    def embed(side, emb, ids):
        x = emb[ids] * scale + table[: len(ids)]
        if cfg.get("layernorm_embedding"):
            x = layer_norm(x, w[f"model.{side}.layernorm_embedding.weight"], w[f"model.{side}.layernorm_embedding.bias"])
        return x

    def attention(prefix, x, kv, heads, causal):
        def lin(t, n):
            return t @ w[f"{prefix}.{n}.weight"].T + w[f"{prefix}.{n}.bias"]
        hd = d // heads
        q = lin(x, "q_proj").reshape(len(x), heads, hd).transpose(1, 0, 2)
        k = lin(kv, "k_proj").reshape(len(kv), heads, hd).transpose(1, 0, 2)
        v = lin(kv, "v_proj").reshape(len(kv), heads, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
        if causal:
            s = s + np.triu(np.full((len(x), len(kv)), -np.inf), 1)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        return lin((s @ v).transpose(1, 0, 2).reshape(len(x), d), "out_proj")

    def ffn(prefix, x):
        h = act(x @ w[f"{prefix}.fc1.weight"].T + w[f"{prefix}.fc1.bias"])
        return h @ w[f"{prefix}.fc2.weight"].T + w[f"{prefix}.fc2.bias"]

    def norm(prefix, x):
        return layer_norm(x, w[f"{prefix}.weight"], w[f"{prefix}.bias"])

    x = embed("encoder", enc_emb, source)
    for i in range(cfg["encoder_layers"]):
        p = f"model.encoder.layers.{i}"
        x = norm(p + ".self_attn_layer_norm", x + attention(p + ".self_attn", x, x, cfg["encoder_attention_heads"], False))
        x = norm(p + ".final_layer_norm", x + ffn(p, x))
    y = embed("decoder", dec_emb, decoder_input)
    for i in range(cfg["decoder_layers"]):
        p = f"model.decoder.layers.{i}"
        h = cfg["decoder_attention_heads"]
        y = norm(p + ".self_attn_layer_norm", y + attention(p + ".self_attn", y, y, h, True))
        y = norm(p + ".encoder_attn_layer_norm", y + attention(p + ".encoder_attn", y, x, h, False))
        y = norm(p + ".final_layer_norm", y + ffn(p, y))
    out = dec_emb if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return y @ out.T + w["final_logits_bias"].reshape(-1)


def logprobs_from_logits(logits, target) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    m = logits.max(-1, keepdims=True)
    lp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
    return np.array([lp[i, t] for i, t in enumerate(target)])


# --- the engine, when a binary with encoder-decoder support exists ---------------------------

def find_cli() -> Path | None:
    candidates = [os.environ.get("SPECDEC_CLI")] + [str(REPO / p) for p in (
        ".build-seq2seq/debug/specdec-cli", ".build-seq2seq/release/specdec-cli", ".build/release/specdec-cli",
        ".build/debug/specdec-cli", "dist/bin/specdec")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    return None


def engine_logprobs(directory: Path, source, target):
    cli = find_cli()
    if cli is None:
        return None
    ids = lambda xs: ",".join(map(str, xs))  # noqa: E731
    run = subprocess.run([str(cli), "score", "--model", str(directory), "--source-ids", ids(source), "--target-ids", ids(target),
                          "--json", "--threads", "1"], capture_output=True, text=True, timeout=120)
    if run.returncode != 0 and "--source-ids" not in run.stdout + run.stderr:
        return None  # a binary from before encoder-decoder support (its usage text lacks --source-ids)
    assert run.returncode == 0, run.stdout + run.stderr
    return np.array(json.loads(run.stdout)["logprobs"])


# --- helpers -----------------------------------------------------------------------------------

def build(tmp_path: Path, **spec_kwargs):
    spec = fr.TinySpec(**spec_kwargs)
    ckpt = fr.build_checkpoint(spec)
    src_dir = tmp_path / "fairseq"
    fr.write_checkpoint_dir(ckpt, spec, src_dir)
    return spec, ckpt, src_dir


def check_equivalence(ckpt, out_dir: Path, source=SOURCE, target=TARGET):
    reference = logprobs_from_logits(fr.forward(ckpt, source, [fr.EOS] + target[:-1]).numpy(), target)
    converted = logprobs_from_logits(converted_forward(out_dir, source, [fr.EOS] + target[:-1]), target)
    assert np.abs(reference - converted).max() < 1e-4, (reference, converted)
    engine = engine_logprobs(out_dir, source, target)
    if engine is not None:
        assert np.abs(reference - engine).max() < 1e-3, (reference, engine)
    return reference


# --- tests -------------------------------------------------------------------------------------

def test_args_namespace_separate_dictionaries_tied_output(tmp_path):
    spec, ckpt, src = build(tmp_path, seed=1)
    out = tmp_path / "converted"
    config = convert_fairseq.convert(src / "checkpoint.pt", out)
    assert config["positional_embedding_style"] == "fairseq" and config["position_offset"] == 2
    assert config["vocab_size"] == spec.src_vocab and config["decoder_vocab_size"] == spec.tgt_vocab
    assert config["tie_word_embeddings"] is True and config["share_encoder_decoder_embeddings"] is False
    assert config["decoder_start_token_id"] == 2 and config["eos_token_id"] == 2 and config["pad_token_id"] == 1
    vocab = json.loads((out / "vocab.json").read_text())
    target_vocab = json.loads((out / "target_vocab.json").read_text())
    assert [vocab[s] for s in ("<s>", "<pad>", "</s>", "<unk>", "s0", "s1")] == [0, 1, 2, 3, 4, 5]
    assert target_vocab["t0"] == 4 and len(target_vocab) == spec.tgt_vocab
    tensors = read_safetensors(out / "model.safetensors")
    assert "lm_head.weight" not in tensors and "model.shared.weight" not in tensors
    assert not np.any(tensors["final_logits_bias"])
    check_equivalence(ckpt, out)


def test_cfg_dict_with_shared_vocabulary(tmp_path):
    spec, ckpt, src = build(tmp_path, seed=2, use_cfg=True, share_all=True)
    assert ckpt["args"] is None and "cfg" in ckpt
    out = tmp_path / "converted"
    config = convert_fairseq.convert(src / "checkpoint.pt", out)
    assert config["share_encoder_decoder_embeddings"] is True and config["vocab_size"] == config["decoder_vocab_size"]
    assert "model.shared.weight" in read_safetensors(out / "model.safetensors")
    assert not (out / "target_vocab.json").exists()
    check_equivalence(ckpt, out)


def test_untied_output_gelu_unscaled_layernorm_embedding(tmp_path):
    spec, ckpt, src = build(tmp_path, seed=3, share_decoder_io=False, no_scale_embedding=True, activation="gelu",
                            layernorm_embedding=True)
    out = tmp_path / "converted"
    config = convert_fairseq.convert(src / "checkpoint.pt", out)
    assert config["tie_word_embeddings"] is False and config["scale_embedding"] is False
    assert config["activation_function"] == "gelu" and config["layernorm_embedding"] is True
    assert "lm_head.weight" in read_safetensors(out / "model.safetensors")
    check_equivalence(ckpt, out)


def test_fp16_checkpoint_keeps_its_dtype(tmp_path):
    spec, ckpt, src = build(tmp_path, seed=4)
    ckpt["model"] = {k: (v.half() if v.is_floating_point() else v) for k, v in ckpt["model"].items()}
    torch.save(ckpt, src / "checkpoint.pt")
    out = tmp_path / "converted"
    config = convert_fairseq.convert(src / "checkpoint.pt", out)
    assert config["dtype"] == "float16"
    raw = (out / "model.safetensors").read_bytes()
    header = json.loads(raw[8: 8 + struct.unpack("<Q", raw[:8])[0]])
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F16"}
    check_equivalence(ckpt, out)


def test_old_in_proj_layout_matches_the_split_one(tmp_path):
    spec, ckpt, src = build(tmp_path, seed=5)
    out_new = tmp_path / "new"
    convert_fairseq.convert(src / "checkpoint.pt", out_new)
    sd = ckpt["model"]
    for key in [k for k in sd if k.endswith("q_proj.weight")]:
        prefix = key[: -len("q_proj.weight")]
        sd[prefix + "in_proj_weight"] = torch.cat([sd.pop(prefix + f"{p}_proj.weight") for p in "qkv"])
        sd[prefix + "in_proj_bias"] = torch.cat([sd.pop(prefix + f"{p}_proj.bias") for p in "qkv"])
    torch.save(ckpt, src / "checkpoint.pt")
    out_old = tmp_path / "old"
    convert_fairseq.convert(src / "checkpoint.pt", out_old)
    a, b = read_safetensors(out_new / "model.safetensors"), read_safetensors(out_old / "model.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_dictionaries_found_by_language_and_padded_rows(tmp_path):
    spec, ckpt, src = build(tmp_path, seed=6)
    ckpt["args"].source_lang, ckpt["args"].target_lang = "de", "en"
    torch.save(ckpt, src / "checkpoint.pt")
    (src / "dict.src.txt").rename(src / "dict.de.txt")
    lines = (src / "dict.tgt.txt").read_text().splitlines()
    (src / "dict.tgt.txt").unlink()
    # fairseq pads tables to a multiple of 8 with madeupwordNNNN symbols a dictionary may lack.
    (src / "dict.en.txt").write_text("\n".join(lines[:-3]) + "\n")
    out = tmp_path / "converted"
    config = convert_fairseq.convert(src / "checkpoint.pt", out)
    assert config["fairseq"]["source_dictionary"] == "dict.de.txt"
    target_vocab = json.loads((out / "target_vocab.json").read_text())
    assert [target_vocab[f"madeupword{i:04d}"] for i in range(3)] == [spec.tgt_vocab - 3, spec.tgt_vocab - 2, spec.tgt_vocab - 1]


def test_refusals(tmp_path, capsys):
    spec, ckpt, src = build(tmp_path, seed=7, normalize_before=True)
    with pytest.raises(convert_fairseq.ConversionError, match="pre-norm"):
        convert_fairseq.convert(src / "checkpoint.pt", tmp_path / "out")
    assert convert_fairseq.main([str(src / "checkpoint.pt"), str(tmp_path / "out")]) == 2
    assert "pre-norm" in capsys.readouterr().err

    # A dictionary with more symbols than the embedding has rows belongs to another model.
    spec, ckpt, src = build(tmp_path / "b", seed=8)
    with open(src / "dict.tgt.txt", "a") as f:
        f.write("".join(f"extra{i} 1\n" for i in range(5)))
    with pytest.raises(convert_fairseq.ConversionError, match="does not belong"):
        convert_fairseq.convert(src / "checkpoint.pt", tmp_path / "out")

    # Output projection and decoder vocabulary disagree.
    spec, ckpt, src = build(tmp_path / "c", seed=9, share_decoder_io=False)
    ckpt["model"]["decoder.output_projection.weight"] = ckpt["model"]["decoder.output_projection.weight"][:-1]
    torch.save(ckpt, src / "checkpoint.pt")
    with pytest.raises(convert_fairseq.ConversionError, match="inconsistent vocabulary sizes"):
        convert_fairseq.convert(src / "checkpoint.pt", tmp_path / "out")

    # Missing cross-attention weights.
    spec, ckpt, src = build(tmp_path / "d", seed=10)
    del ckpt["model"]["decoder.layers.1.encoder_attn.k_proj.weight"]
    torch.save(ckpt, src / "checkpoint.pt")
    with pytest.raises(convert_fairseq.ConversionError, match="encoder_attn.k_proj.weight"):
        convert_fairseq.convert(src / "checkpoint.pt", tmp_path / "out")

    # Not a checkpoint; no dictionaries.
    (tmp_path / "junk.pt").write_bytes(b"not a pickle")
    with pytest.raises(convert_fairseq.ConversionError):
        convert_fairseq.convert(tmp_path / "junk.pt", tmp_path / "out")
    spec, ckpt, src = build(tmp_path / "e", seed=11)
    for p in src.glob("dict.*.txt"):
        p.unlink()
    with pytest.raises(convert_fairseq.ConversionError, match="dictionaries"):
        convert_fairseq.convert(src / "checkpoint.pt", tmp_path / "out")


def test_committed_fixture_is_the_converter_output():
    """Tests/Fixtures/seq2seq/fairseq_f32 was written by this converter (a format check)."""
    directory = REPO / "Tests" / "Fixtures" / "seq2seq" / "fairseq_f32"
    config = json.loads((directory / "config.json").read_text())
    reference = json.loads((directory / "reference.json").read_text())
    assert config["positional_embedding_style"] == "fairseq"
    target = reference["score_target_ids"]
    logits = converted_forward(directory, reference["source_ids"], [2] + target[:-1])
    assert np.abs(logprobs_from_logits(logits, target) - np.array(reference["logprobs"])).max() < 1e-4
