#!/usr/bin/env python3
"""Training speed of verifier shapes on this CPU, fp32 against bf16 autocast: what an epoch
of the current data costs before a stage is planned.

    python training/measure_speed.py [--steps 20] [--pairs 261300]
        [--shape 3x3x256 --shape 6x3x512 ...] [--precisions fp32 bf16] [--threads 2]

Each shape (ENCODERxDECODERxD_MODEL; 4 heads per 256 of width, FFN 4·d, the shipped
vocabulary of 6,000) trains on random batches of the recipe's size (~2,500 target tokens:
sentences as long as the held-out set's mean, measured with the shipped SentencePiece model)
with AdamW and label-smoothed cross-entropy, exactly as train_verifier.py steps. Reports the
median step time over --steps after 3 warm-up steps, target tokens per second, and the
epoch time that gives for --pairs pairs.
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import MarianTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mean_lengths():
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(ROOT, "models", "specdec-en-de-verifier", "source.spm"))
    test = os.path.join(ROOT, "models", "specdec-en-de-test")
    def mean(path):
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f]
        return sum(len(sp.encode(line)) + 1 for line in lines) / len(lines)
    return mean(os.path.join(test, "test.en")), mean(os.path.join(test, "test.de"))


def config(encoder, decoder, d):
    heads = max(4, d // 64)
    return dict(model_type="marian", d_model=d, encoder_layers=encoder, decoder_layers=decoder,
                encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=4 * d, decoder_ffn_dim=4 * d,
                activation_function="relu", max_position_embeddings=256, scale_embedding=True, dropout=0.1,
                attention_dropout=0.0, activation_dropout=0.0, init_std=0.02, vocab_size=6000, pad_token_id=5999,
                eos_token_id=0, decoder_start_token_id=5999, unk_token_id=1)


def step_seconds(cfg, source_len, target_len, max_tokens, steps, bf16):
    torch.manual_seed(0)
    model = MarianTransformer(cfg)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98))
    batch = max(1, max_tokens // target_len)
    src = torch.randint(2, 5998, (batch, source_len))
    tgt = torch.randint(2, 5998, (batch, target_len))
    tgt_in = torch.cat([torch.full((batch, 1), 5999), tgt[:, :-1]], 1)
    times = []
    for i in range(steps + 3):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.float().reshape(-1, cfg["vocab_size"]), tgt.reshape(-1), label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - start)
    params = sum(p.numel() for p in model.parameters())
    return statistics.median(times), batch * target_len, params


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", action="append", help="ENCODERxDECODERxD_MODEL (repeatable)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--pairs", type=int, default=261300, help="training pairs of an epoch")
    ap.add_argument("--max-tokens", type=int, default=2500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precisions", nargs="+", choices=["fp32", "bf16"], default=["fp32", "bf16"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    shapes = args.shape or ["3x3x256", "6x3x512"]
    source_mean, target_mean = mean_lengths()
    source_len, target_len = round(source_mean), round(target_mean)
    print(f"torch {torch.__version__}, {args.threads} threads; batches of {args.max_tokens} target tokens, "
          f"sentences of {source_len} source / {target_len} target tokens (held-out means "
          f"{source_mean:.1f} / {target_mean:.1f}); an epoch = {args.pairs} pairs")
    print("| shape | parameters | precision | step (s) | target tokens/s | epoch (h) |")
    print("|---|---:|---|---:|---:|---:|")
    for shape in shapes:
        encoder, decoder, d = (int(v) for v in shape.split("x"))
        cfg = config(encoder, decoder, d)
        for bf16 in [p == "bf16" for p in args.precisions]:
            seconds, tokens, params = step_seconds(cfg, source_len, target_len, args.max_tokens, args.steps, bf16)
            rate = tokens / seconds
            epoch_hours = args.pairs * target_mean / rate / 3600
            print(f"| {shape} | {params / 1e6:.1f}M | {'bf16 autocast' if bf16 else 'fp32'} | {seconds:.3f} | "
                  f"{rate:.0f} | {epoch_hours:.2f} |", flush=True)


if __name__ == "__main__":
    main()
