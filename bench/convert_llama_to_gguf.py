#!/usr/bin/env python3
"""Convert the benchmark's Hugging Face Llama directory to a GGUF file for llama.cpp.

    python bench/convert_llama_to_gguf.py HF_DIR OUT.gguf [--force] [--verify]
    python bench/convert_llama_to_gguf.py HF_DIR OUT.gguf --verify-only

All tensors are written as float32, so llama.cpp runs exactly the weights that
transformers and libspecdec run. Two things differ between the formats:

* Rotary layout. Hugging Face stores q_proj / k_proj rows in the "rotate-half" order
  (the two halves of each head are rotated against each other); llama.cpp's LLAMA rope
  pairs adjacent rows (interleaved). The rows of q and k are permuted when written:
  reshape(heads, 2, head_dim/2, in).swapaxes(1, 2).reshape(out, in), with the KV head
  count for k.
* Vocabulary. llama.cpp refuses a file without one; the benchmark model has no tokenizer,
  so a synthetic SentencePiece-style ("llama") vocabulary of vocab_size pieces is written:
  <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then unique placeholder pieces.
  The benchmark feeds token ids directly, so the pieces only have to be valid.

--verify runs both llama.cpp (llama-cpp-python, logits_all=True) and transformers on the
same token ids and compares every position's logits.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

# Token ids of the synthetic vocabulary (the Llama/SentencePiece convention).
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
N_BYTE_TOKENS = 256
FIRST_PIECE_ID = 3 + N_BYTE_TOKENS

# Fixed ids used by --verify (arbitrary, inside any vocabulary >= 32000).
VERIFY_IDS = [1, 415, 2936, 17, 31999, 8080, 259, 12345, 4, 27000, 999, 5000, 42, 31000,
              7, 16384]


# ---------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------

def rotate_half_to_interleaved(w: np.ndarray, n_heads: int) -> np.ndarray:
    """Reorder the rows of a q/k projection [n_heads*head_dim, in] from HF's rotate-half
    layout to llama.cpp's interleaved rotary layout."""
    out_dim, in_dim = w.shape
    head_dim = out_dim // n_heads
    assert head_dim * n_heads == out_dim and head_dim % 2 == 0, (w.shape, n_heads)
    return (w.reshape(n_heads, 2, head_dim // 2, in_dim)
             .swapaxes(1, 2)
             .reshape(out_dim, in_dim))


def load_config(hf_dir: str) -> dict:
    with open(os.path.join(hf_dir, "config.json")) as f:
        cfg = json.load(f)
    arch = (cfg.get("architectures") or ["?"])[0]
    if cfg.get("model_type") != "llama" and arch != "LlamaForCausalLM":
        raise SystemExit(f"{hf_dir}: expected a Llama model, found {cfg.get('model_type')}/{arch}")
    rope = cfg.get("rope_parameters") or {}
    if cfg.get("rope_scaling") or rope.get("rope_type", "default") != "default":
        raise SystemExit("rope scaling is not supported by this converter")
    cfg["_rope_theta"] = float(cfg.get("rope_theta", rope.get("rope_theta", 10000.0)))
    cfg.setdefault("num_key_value_heads", cfg["num_attention_heads"])
    cfg["_head_dim"] = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    return cfg


def open_tensors(hf_dir: str) -> dict[str, np.ndarray]:
    """All tensors of the directory's safetensors files, as float32 numpy arrays."""
    from safetensors import safe_open

    files = sorted(f for f in os.listdir(hf_dir) if f.endswith(".safetensors"))
    if not files:
        raise SystemExit(f"{hf_dir}: no *.safetensors file")
    tensors: dict[str, np.ndarray] = {}
    for name in files:
        with safe_open(os.path.join(hf_dir, name), framework="np") as f:
            for key in f.keys():
                tensors[key] = np.ascontiguousarray(f.get_tensor(key), dtype=np.float32)
    return tensors


def gguf_tensors(cfg: dict, t: dict[str, np.ndarray]):
    """Yield (gguf_name, array) in llama.cpp's naming."""
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    yield "token_embd.weight", t["model.embed_tokens.weight"]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        b = f"blk.{i}."
        yield b + "attn_norm.weight", t[p + "input_layernorm.weight"]
        yield b + "attn_q.weight", rotate_half_to_interleaved(t[p + "self_attn.q_proj.weight"], n_head)
        yield b + "attn_k.weight", rotate_half_to_interleaved(t[p + "self_attn.k_proj.weight"], n_kv)
        yield b + "attn_v.weight", t[p + "self_attn.v_proj.weight"]
        yield b + "attn_output.weight", t[p + "self_attn.o_proj.weight"]
        for hf, gg in (("q", "attn_q"), ("k", "attn_k"), ("v", "attn_v"), ("o", "attn_output")):
            if p + f"self_attn.{hf}_proj.bias" in t:
                raise SystemExit("attention biases are not supported by this converter")
        yield b + "ffn_norm.weight", t[p + "post_attention_layernorm.weight"]
        yield b + "ffn_gate.weight", t[p + "mlp.gate_proj.weight"]
        yield b + "ffn_up.weight", t[p + "mlp.up_proj.weight"]
        yield b + "ffn_down.weight", t[p + "mlp.down_proj.weight"]
    yield "output_norm.weight", t["model.norm.weight"]
    out = t.get("lm_head.weight")
    if out is None or cfg.get("tie_word_embeddings"):
        out = t["model.embed_tokens.weight"]
    yield "output.weight", out


# ---------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------

def synthetic_spm_vocab(vocab_size: int):
    """A valid SentencePiece-style vocabulary of exactly vocab_size pieces."""
    import gguf

    if vocab_size < FIRST_PIECE_ID + 1:
        raise SystemExit(f"vocab_size {vocab_size} is too small for a llama vocabulary")
    tokens: list[str] = ["<unk>", "<s>", "</s>"]
    types: list[int] = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    scores: list[float] = [0.0, 0.0, 0.0]
    for b in range(N_BYTE_TOKENS):
        tokens.append(f"<0x{b:02X}>")
        types.append(gguf.TokenType.BYTE)
        scores.append(0.0)
    # Real-looking pieces first (the word-boundary mark, printable ASCII with and without
    # it), then unique placeholders. Scores decrease so that merges have an order.
    pieces = ["\u2581"] + [chr(c) for c in range(33, 127)] + ["\u2581" + chr(c) for c in range(33, 127)]
    seen = set(tokens)
    i = 0
    while len(tokens) < vocab_size:
        if pieces:
            piece = pieces.pop(0)
        else:
            piece = f"\u2581piece{i}"
            i += 1
        if piece in seen:
            continue
        seen.add(piece)
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
        scores.append(-float(len(tokens)))
    return tokens, scores, types


# ---------------------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------------------

def convert(hf_dir: str, out_path: str) -> None:
    import gguf

    cfg = load_config(hf_dir)
    tensors = open_tensors(hf_dir)
    vocab_size = cfg["vocab_size"]

    tmp_path = out_path + ".tmp"
    w = gguf.GGUFWriter(tmp_path, "llama")
    w.add_name(os.path.basename(os.path.normpath(hf_dir)) or "llama")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_rope_dimension_count(cfg["_head_dim"])
    w.add_rope_freq_base(cfg["_rope_theta"])
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-6)))
    w.add_vocab_size(vocab_size)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens, scores, types = synthetic_spm_vocab(vocab_size)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(UNK_ID)
    w.add_bos_token_id(cfg.get("bos_token_id", BOS_ID) if cfg.get("bos_token_id") is not None else BOS_ID)
    w.add_eos_token_id(cfg.get("eos_token_id", EOS_ID) if isinstance(cfg.get("eos_token_id"), int) else EOS_ID)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    n = 0
    for name, arr in gguf_tensors(cfg, tensors):
        w.add_tensor(name, np.ascontiguousarray(arr, dtype=np.float32))
        n += arr.size
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp_path, out_path)
    print(f"[convert_llama_to_gguf] wrote {out_path}: {n / 1e6:.1f}M parameters, fp32, "
          f"{vocab_size} synthetic vocabulary pieces")


# ---------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------

def verify(hf_dir: str, gguf_path: str, ids: list[int] | None = None, tol: float = 1e-3,
           n_threads: int = 2) -> float:
    """Compare llama.cpp's and transformers' logits at every position of `ids`.

    Returns the max absolute difference; raises SystemExit if it exceeds `tol` or the
    greedy (argmax) ids differ."""
    import torch
    from transformers import LlamaForCausalLM
    from llama_cpp import Llama

    ids = list(ids or VERIFY_IDS)
    torch.set_num_threads(n_threads)
    model = LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    if max(ids) >= vocab:
        ids = [i % vocab for i in ids]
    with torch.inference_mode():
        ref = model(torch.tensor([ids])).logits[0].float().numpy()
    del model

    # llama.cpp stores its KV cache in fp16 by default (a ~1e-3 logit difference on its own);
    # ask for fp32 so that only the arithmetic order differs.
    import llama_cpp
    llm = Llama(model_path=gguf_path, n_ctx=max(64, len(ids)), n_batch=max(64, len(ids)),
                n_threads=n_threads, n_threads_batch=n_threads, logits_all=True, verbose=False,
                type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)
    llm.eval(ids)
    got = np.array(llm.scores[: len(ids)], dtype=np.float32)
    llm.close() if hasattr(llm, "close") else None

    diff = np.abs(got - ref)
    max_diff = float(diff.max())
    scale = float(np.abs(ref).max())
    same_argmax = bool((got.argmax(-1) == ref.argmax(-1)).all())
    print(f"[verify] {len(ids)} positions x {vocab} logits: max |llama.cpp - transformers| = "
          f"{max_diff:.3g} (max |logit| {scale:.3g}), argmax identical: {same_argmax}")
    if not max_diff < tol or not same_argmax:
        raise SystemExit(f"[verify] FAILED: GGUF logits differ from transformers (tol {tol})")
    print("[verify] OK")
    return max_diff


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_dir")
    ap.add_argument("out_gguf")
    ap.add_argument("--force", action="store_true", help="rewrite OUT.gguf if it exists")
    ap.add_argument("--verify", action="store_true",
                    help="after converting, compare llama.cpp's logits with transformers'")
    ap.add_argument("--verify-only", action="store_true", help="only run the comparison")
    ap.add_argument("--tol", type=float, default=1e-3, help="max abs logit difference (default 1e-3)")
    args = ap.parse_args(argv)

    if not args.verify_only:
        if os.path.isfile(args.out_gguf) and not args.force:
            print(f"[convert_llama_to_gguf] {args.out_gguf} exists; skipping (use --force to rewrite)")
        else:
            convert(args.hf_dir, args.out_gguf)
    if args.verify or args.verify_only:
        verify(args.hf_dir, args.out_gguf, tol=args.tol)
    return 0


if __name__ == "__main__":
    sys.exit(main())
