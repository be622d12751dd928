"""Tests for convert_specdec_fairseq.py on fake checkpoints with the authors' keys and shapes.

The checkpoints are built here with the tensor names of fairseq's ``transformer`` (ar-verifier-base,
--share-all-embeddings) and of hemingkx/SpecDec's ``BlockNAT`` (nar-drafter-base:
NATransformerEncoder/Decoder, learned positions, copy_attn), including fairseq's bookkeeping
entries (``*.version``, ``*.embed_positions._float_tensor``). Each converted model is compared with
an independent functional re-implementation of the fairseq forward pass written below (not the
pipeline's models.py): the verifier through transformers' MarianMTModel, the drafter through the
pipeline's loader.

    python -m pytest training/tests -q
"""
import argparse
import json
import math
import os
import sys

import pytest
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import convert_specdec_fairseq as conv  # noqa: E402

D, HEADS, FFN, N_ENC, N_DEC = 16, 2, 24, 2, 2
N_WORDS = 37                    # dictionary entries after the 4 specials
V = 48                          # 4 + 37 = 41, padded to a multiple of 8 with madeupwords
MAX_POS = 30
PAD, EOS, UNK = 1, 2, 3


def _layer(sd, prefix, parts, g):
    for part in parts:
        if part.endswith("layer_norm"):
            sd[f"{prefix}.{part}.weight"] = 1.0 + 0.1 * torch.randn(D, generator=g)
            sd[f"{prefix}.{part}.bias"] = 0.1 * torch.randn(D, generator=g)
        elif part == "fc1":
            sd[f"{prefix}.fc1.weight"] = 0.3 * torch.randn(FFN, D, generator=g)
            sd[f"{prefix}.fc1.bias"] = 0.1 * torch.randn(FFN, generator=g)
        elif part == "fc2":
            sd[f"{prefix}.fc2.weight"] = 0.3 * torch.randn(D, FFN, generator=g)
            sd[f"{prefix}.fc2.bias"] = 0.1 * torch.randn(D, generator=g)
        else:
            sd[f"{prefix}.{part}.weight"] = 0.3 * torch.randn(D, D, generator=g)
            sd[f"{prefix}.{part}.bias"] = 0.1 * torch.randn(D, generator=g)


def _args(**kw):
    base = dict(arch="transformer", encoder_embed_dim=D, decoder_embed_dim=D, encoder_layers=N_ENC,
                decoder_layers=N_DEC, encoder_attention_heads=HEADS, decoder_attention_heads=HEADS,
                encoder_ffn_embed_dim=FFN, decoder_ffn_embed_dim=FFN, encoder_normalize_before=False,
                decoder_normalize_before=False, share_all_embeddings=True, max_source_positions=MAX_POS,
                max_target_positions=MAX_POS, activation_fn="relu", no_scale_embedding=False,
                layernorm_embedding=False, encoder_learned_pos=False, decoder_learned_pos=False)
    base.update(kw)
    return argparse.Namespace(**base)


def make_ar_checkpoint(path, seed=0):
    g = torch.Generator().manual_seed(seed)
    emb = 0.3 * torch.randn(V, D, generator=g)
    emb[PAD] = 0
    sd = {"encoder.version": torch.tensor([3.0]), "encoder.embed_tokens.weight": emb,
          "encoder.embed_positions._float_tensor": torch.tensor([1.0]),
          "decoder.version": torch.tensor([3.0]), "decoder.embed_tokens.weight": emb,
          "decoder.embed_positions._float_tensor": torch.tensor([1.0]),
          "decoder.output_projection.weight": emb}
    for i in range(N_ENC):
        _layer(sd, f"encoder.layers.{i}", conv.LAYER_PARTS_ENC, g)
    for i in range(N_DEC):
        _layer(sd, f"decoder.layers.{i}", conv.LAYER_PARTS_DEC, g)
    torch.save({"args": None, "cfg": {"model": _args()}, "model": sd}, path)
    return sd


def make_nat_checkpoint(path, seed=1, block_size=4):
    g = torch.Generator().manual_seed(seed)
    emb = 1.0 * torch.randn(V, D, generator=g)
    emb[PAD] = 0
    sd = {"encoder.version": torch.tensor([3.0]), "encoder.embed_tokens.weight": emb,
          "encoder.embed_positions.weight": 2.0 * torch.randn(MAX_POS + 2, D, generator=g),
          "decoder.version": torch.tensor([3.0]), "decoder.embed_tokens.weight": emb,
          "decoder.embed_positions.weight": 2.0 * torch.randn(MAX_POS + 2, D, generator=g),
          "decoder.output_projection.weight": emb,
          "decoder.copy_attn.weight": 0.3 * torch.randn(D, D, generator=g)}
    sd["encoder.embed_positions.weight"][PAD] = 0
    sd["decoder.embed_positions.weight"][PAD] = 0
    for i in range(N_ENC):
        _layer(sd, f"encoder.layers.{i}", conv.LAYER_PARTS_ENC, g)
    for i in range(N_DEC):
        _layer(sd, f"decoder.layers.{i}", conv.LAYER_PARTS_DEC, g)
    args = _args(arch="block", encoder_learned_pos=True, decoder_learned_pos=True, activation_fn="gelu",
                 src_embedding_copy=True, block_size=block_size, noise="block_mask", apply_bert_init=True)
    torch.save({"args": args, "model": sd}, path)
    return sd


def write_dict(path):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(N_WORDS):
            f.write(f"w{i}@@ {1000 - i}\n")


# ---------------------------------------------------------------------------------------------
# independent fairseq-semantics references


def _mha(sd, p, x, kv, mask):
    """fairseq MultiheadAttention: q = (x Wq + bq) * head_dim^-0.5."""
    hd = D // HEADS
    q = (F.linear(x, sd[p + ".q_proj.weight"], sd[p + ".q_proj.bias"]) * hd ** -0.5)
    k = F.linear(kv, sd[p + ".k_proj.weight"], sd[p + ".k_proj.bias"])
    v = F.linear(kv, sd[p + ".v_proj.weight"], sd[p + ".v_proj.bias"])
    T, S = x.shape[0], kv.shape[0]
    q = q.view(T, HEADS, hd).transpose(0, 1)
    k = k.view(S, HEADS, hd).transpose(0, 1)
    v = v.view(S, HEADS, hd).transpose(0, 1)
    w = q @ k.transpose(1, 2)
    if mask is not None:
        w = w.masked_fill(~mask, float("-inf"))
    o = (torch.softmax(w, -1) @ v).transpose(0, 1).reshape(T, D)
    return F.linear(o, sd[p + ".out_proj.weight"], sd[p + ".out_proj.bias"])


def _ln(sd, p, x):
    return F.layer_norm(x, (D,), sd[p + ".weight"], sd[p + ".bias"], 1e-5)


def _ffn(sd, p, x, act):
    return F.linear(act(F.linear(x, sd[p + ".fc1.weight"], sd[p + ".fc1.bias"])), sd[p + ".fc2.weight"],
                    sd[p + ".fc2.bias"])


def _enc_layer(sd, p, x, act):
    x = _ln(sd, p + ".self_attn_layer_norm", x + _mha(sd, p + ".self_attn", x, x, None))
    return _ln(sd, p + ".final_layer_norm", x + _ffn(sd, p, x, act))


def _dec_layer(sd, p, x, enc, self_mask, act):
    x = _ln(sd, p + ".self_attn_layer_norm", x + _mha(sd, p + ".self_attn", x, x, self_mask))
    x = _ln(sd, p + ".encoder_attn_layer_norm", x + _mha(sd, p + ".encoder_attn", x, enc, None))
    return _ln(sd, p + ".final_layer_norm", x + _ffn(sd, p, x, act))


def fairseq_ar_logits(sd, src, prev):
    """fairseq TransformerModel (post-norm, sinusoidal positions from padding_idx + 1, scaled
    embeddings, shared output projection). src, prev: 1-D id tensors. Returns [T, V]."""
    pos = conv.fairseq_sinusoids(MAX_POS + 2, D, padding_idx=PAD)
    E = sd["encoder.embed_tokens.weight"]
    x = math.sqrt(D) * E[src] + pos[2: 2 + len(src)]
    for i in range(N_ENC):
        x = _enc_layer(sd, f"encoder.layers.{i}", x, F.relu)
    y = math.sqrt(D) * E[prev] + pos[2: 2 + len(prev)]
    causal = torch.ones(len(prev), len(prev), dtype=torch.bool).tril()
    for i in range(N_DEC):
        y = _dec_layer(sd, f"decoder.layers.{i}", y, x, causal, F.relu)
    return y @ sd["decoder.output_projection.weight"].t()


def blocknat_logits(sd, src, prefix, k):
    """hemingkx/SpecDec BlockNAT forward (NATransformerEncoder + NATransformerDecoder with
    src_embedding_copy), batch 1, no padding. Returns logits of the k slots [k, V]."""
    E = sd["encoder.embed_tokens.weight"]
    Pe, Pd = sd["encoder.embed_positions.weight"], sd["decoder.embed_positions.weight"]
    src_emb = E[src]
    src_pos = Pe[2: 2 + len(src)]
    x = src_emb + src_pos
    for i in range(N_ENC):
        x = _enc_layer(sd, f"encoder.layers.{i}", x, F.gelu)
    prev = torch.tensor(list(prefix) + [UNK] * k)
    positions = Pd[2: 2 + len(prev)]
    score = F.linear(positions, sd["decoder.copy_attn.weight"]) @ (src_emb + src_pos).t()
    copied = torch.softmax(score, -1) @ src_emb
    y = torch.where(prev.eq(UNK)[:, None], copied, E[prev])
    for i in range(N_DEC):
        y = y + positions
        y = _dec_layer(sd, f"decoder.layers.{i}", y, x, None, F.gelu)
    return (y @ sd["decoder.output_projection.weight"].t())[len(prefix):]


# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def tmp(tmp_path):
    write_dict(tmp_path / "dict.de.txt")
    return tmp_path


def test_verifier_converts_to_marian_and_matches_fairseq(tmp):
    transformers = pytest.importorskip("transformers")
    sd = make_ar_checkpoint(tmp / "ar.pt")
    out = tmp / "marian"
    conv.convert_verifier(str(tmp / "ar.pt"), str(out), str(tmp / "dict.de.txt"), dtype=torch.float32)
    conf = json.load(open(out / "config.json"))
    assert conf["model_type"] == "marian" and conf["pad_token_id"] == PAD and conf["eos_token_id"] == EOS
    assert conf["decoder_start_token_id"] == EOS and conf["vocab_size"] == V
    assert conf["position_embedding_type"] == "stored"
    vocab = json.load(open(out / "vocab.json"))
    assert vocab["<pad>"] == PAD and vocab["</s>"] == EOS and vocab["<unk>"] == UNK and vocab["w0@@"] == 4
    assert len(vocab) == V and vocab["madeupword0000"] == 4 + N_WORDS
    hf = transformers.MarianMTModel.from_pretrained(str(out), dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(5)
    for trial in range(3):
        src = torch.cat([torch.randint(4, V, (6 + 3 * trial,), generator=g), torch.tensor([EOS])])
        prev = torch.cat([torch.tensor([EOS]), torch.randint(4, V, (5 + trial,), generator=g)])
        ref = fairseq_ar_logits(sd, src, prev)
        with torch.no_grad():
            got = hf(input_ids=src[None], decoder_input_ids=prev[None]).logits[0]
        assert torch.allclose(got, ref, atol=1e-4), float((got - ref).abs().max())
    # greedy decoding agrees token for token
    src = torch.cat([torch.randint(4, V, (9,), generator=g), torch.tensor([EOS])])
    toks = [EOS]
    for _ in range(8):
        toks.append(int(fairseq_ar_logits(sd, src, torch.tensor(toks))[-1].argmax()))
    with torch.no_grad():
        gen = hf.generate(input_ids=src[None], max_new_tokens=8, min_new_tokens=8, num_beams=1, do_sample=False,
                          forced_bos_token_id=None, forced_eos_token_id=None, no_repeat_ngram_size=0,
                          repetition_penalty=1.0, bad_words_ids=None, eos_token_id=None)[0].tolist()
    assert gen == toks


def test_drafter_converts_and_matches_blocknat(tmp):
    pytest.importorskip("safetensors")
    from export_drafter import load_drafter_dir
    sd = make_nat_checkpoint(tmp / "nat.pt", block_size=4)
    out = tmp / "drafter"
    conv.convert_drafter(str(tmp / "nat.pt"), str(out), str(tmp / "dict.de.txt"), dtype=torch.float32)
    model, conf = load_drafter_dir(str(out))
    assert conf["block_size"] == 4 and conf["mask_token_id"] == UNK and conf["pad_token_id"] == PAD
    assert conf["max_position_embeddings"] == MAX_POS and conf["activation_function"] == "gelu"
    g = torch.Generator().manual_seed(7)
    distinct = set()
    for prefix_len, k in [(0, 4), (3, 4), (6, 2), (2, 7)]:
        src = torch.cat([torch.randint(4, V, (7,), generator=g), torch.tensor([EOS])])
        prefix = torch.randint(4, V, (prefix_len,), generator=g).tolist()
        ref = blocknat_logits(sd, src, prefix, k)
        got, ids = model.draft(src[None], prefix, k)
        assert torch.allclose(got, ref, atol=1e-4), float((got - ref).abs().max())
        assert ids == ref.argmax(-1).tolist()
        distinct.update(ids)
    assert len(distinct) > 3, "degenerate random drafter: the test would be weak"


def test_fp16_export_is_default_and_small(tmp):
    make_nat_checkpoint(tmp / "nat.pt")
    out = tmp / "drafter16"
    conv.convert_drafter(str(tmp / "nat.pt"), str(out), str(tmp / "dict.de.txt"))
    from safetensors import safe_open
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        assert all(f.get_tensor(k).dtype == torch.float16 for k in f.keys())
        assert "decoder.copy_attn.weight" in f.keys() and "embed_tokens.weight" in f.keys()


def test_rejects_unknown_tensors_and_wrong_dictionary(tmp):
    sd = make_ar_checkpoint(tmp / "ar.pt")
    sd["encoder.layer_norm.weight"] = torch.ones(D)          # a pre-norm model's final layer norm
    torch.save({"args": _args(), "model": sd}, tmp / "bad.pt")
    with pytest.raises(KeyError):
        conv.convert_verifier(str(tmp / "bad.pt"), str(tmp / "o1"), str(tmp / "dict.de.txt"))
    with open(tmp / "big.txt", "w") as f:
        for i in range(V + 5):
            f.write(f"x{i} 1\n")
    make_ar_checkpoint(tmp / "ar2.pt")
    with pytest.raises(ValueError):
        conv.convert_verifier(str(tmp / "ar2.pt"), str(tmp / "o2"), str(tmp / "big.txt"))
    sd = make_nat_checkpoint(tmp / "nat.pt")
    del sd["decoder.copy_attn.weight"]
    args = _args(encoder_learned_pos=True, decoder_learned_pos=True, src_embedding_copy=True, activation_fn="gelu")
    torch.save({"args": args, "model": sd}, tmp / "nat_bad.pt")
    with pytest.raises(KeyError):
        conv.convert_drafter(str(tmp / "nat_bad.pt"), str(tmp / "o3"), str(tmp / "dict.de.txt"))
