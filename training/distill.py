#!/usr/bin/env python3
"""Sequence-level knowledge distillation: translate the training (and valid) sources with the verifier.

    python training/distill.py [--verifier models/specdec-en-de-verifier] [--splits train valid]

Uses the EXPORTED verifier (fp16 weights, read back into the PyTorch model in fp32), so the drafter
learns the greedy outputs of exactly the model that ships: Spec-Verification with beta = 1 accepts a
draft token iff it equals the verifier's greedy token, so greedy distillation maximises acceptance.
Batched greedy decoding with a KV cache, sentences sorted by length. Resumable: finished chunks are
kept in training/work/distill/<split>.chunks/ and skipped on rerun.
Writes training/work/distill/<split>.de, aligned with training/work/data/<split>.en.
"""
import argparse
import json
import os
import time

import torch

import common
from models import MarianTransformer


def load_exported_verifier(path):
    """Load a Marian directory written by export_marian.py into models.MarianTransformer (fp32)."""
    from safetensors.torch import load_file
    with open(os.path.join(path, "config.json")) as f:
        conf = json.load(f)
    cfg = {k: conf[k] for k in ("vocab_size", "d_model", "encoder_layers", "decoder_layers",
                                "encoder_attention_heads", "decoder_attention_heads", "encoder_ffn_dim",
                                "decoder_ffn_dim", "activation_function", "max_position_embeddings",
                                "scale_embedding", "pad_token_id", "eos_token_id", "decoder_start_token_id")}
    model = MarianTransformer(cfg)
    sd = {k: v.float() for k, v in load_file(os.path.join(path, "model.safetensors")).items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and set(missing) <= {"pos_table"}, (missing, unexpected)
    return model.eval(), cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verifier", default=os.path.join(common.REPO, "models", "specdec-en-de-verifier"))
    ap.add_argument("--splits", nargs="+", default=["train", "valid"])
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--chunk", type=int, default=4000)
    ap.add_argument("--out", default=os.path.join(common.WORK, "distill"))
    args = ap.parse_args()
    common.setup_threads()
    common.log_to(os.path.join(common.LOGS, "distill.log"))
    model, cfg = load_exported_verifier(args.verifier)
    sp = common.load_spm()
    eos, pad = cfg["eos_token_id"], cfg["pad_token_id"]
    os.makedirs(args.out, exist_ok=True)
    for split in args.splits:
        lines = common.read_lines(os.path.join(common.DATA, f"{split}.en"))
        chunk_dir = os.path.join(args.out, f"{split}.chunks")
        os.makedirs(chunk_dir, exist_ok=True)
        t0 = time.time()
        for c0 in range(0, len(lines), args.chunk):
            path = os.path.join(chunk_dir, f"{c0:08d}.json")
            if os.path.exists(path):
                continue
            srcs = [sp.encode(s)[: cfg["max_position_embeddings"] // 2 - 1] + [eos]
                    for s in lines[c0:c0 + args.chunk]]
            order = sorted(range(len(srcs)), key=lambda i: len(srcs[i]))
            hyps = [None] * len(srcs)
            for b in range(0, len(order), args.batch):
                ids = order[b:b + args.batch]
                src = common.pad_to([srcs[i] for i in ids], pad)
                for i, h in zip(ids, model.greedy(src)):
                    hyps[i] = h
            with open(path + ".tmp", "w") as f:
                json.dump(hyps, f)
            os.replace(path + ".tmp", path)
            done = min(c0 + args.chunk, len(lines))
            print(f"{split}: {done}/{len(lines)} sentences, {time.time() - t0:.0f}s", flush=True)
        hyps = []
        for fn in sorted(os.listdir(chunk_dir)):
            if fn.endswith(".json"):
                with open(os.path.join(chunk_dir, fn)) as f:
                    hyps.extend(json.load(f))
        assert len(hyps) == len(lines)
        with open(os.path.join(args.out, f"{split}.de"), "w", encoding="utf-8") as f:
            for h in hyps:
                f.write(sp.decode(h).replace("\n", " ") + "\n")
        with open(os.path.join(args.out, f"{split}.ids.json"), "w") as f:
            json.dump(hyps, f)
        print(f"{split}: wrote {len(hyps)} distilled targets ({time.time() - t0:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
