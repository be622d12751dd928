#!/usr/bin/env python3
"""Create the random-initialised Llama model used by the decoder benchmark.

    python bench/make_llama_bench_model.py OUTDIR [--force]

Writes a Hugging Face directory (config.json + model.safetensors, float32) holding a
LlamaForCausalLM of about 134M parameters: hidden 768, 12 layers, 12 attention heads,
12 KV heads, SwiGLU intermediate 2048, vocabulary 32000, untied input/output embeddings.
The weights are random (fixed seed): the benchmark measures speed, not quality, and no
model hub is reachable from our machines.

If OUTDIR already holds a model with the same configuration, nothing is done.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

SEED = 20240531

CONFIG = dict(
    vocab_size=32000,
    hidden_size=768,
    intermediate_size=2048,
    num_hidden_layers=12,
    num_attention_heads=12,
    num_key_value_heads=12,
    hidden_act="silu",
    max_position_embeddings=2048,
    initializer_range=0.02,
    rms_norm_eps=1e-6,
    rope_theta=10000.0,
    tie_word_embeddings=False,
    attention_bias=False,
    mlp_bias=False,
    bos_token_id=1,
    eos_token_id=2,
)


def already_there(outdir: str) -> bool:
    cfg_path = os.path.join(outdir, "config.json")
    st_path = os.path.join(outdir, "model.safetensors")
    if not (os.path.isfile(cfg_path) and os.path.isfile(st_path)):
        return False
    try:
        with open(cfg_path) as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        return False
    keys = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "tie_word_embeddings")
    return all(cfg.get(k) == CONFIG[k] for k in keys)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--force", action="store_true", help="recreate even if present")
    args = ap.parse_args(argv)

    if not args.force and already_there(args.outdir):
        print(f"[make_llama_bench_model] {args.outdir} already holds the model; skipping")
        return 0

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(SEED)
    config = LlamaConfig(**CONFIG)
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    n_params = sum(p.numel() for p in model.parameters())
    os.makedirs(args.outdir, exist_ok=True)
    model.save_pretrained(args.outdir, safe_serialization=True)
    # transformers >= 5 writes RoPE settings only under "rope_parameters"; keep the legacy
    # top-level keys too so that loaders reading the classic Llama config find them
    # (transformers itself reads both).
    cfg_path = os.path.join(args.outdir, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg.setdefault("rope_theta", CONFIG["rope_theta"])
    cfg.setdefault("torch_dtype", "float32")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"[make_llama_bench_model] wrote {args.outdir}: {n_params / 1e6:.1f}M parameters, fp32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
