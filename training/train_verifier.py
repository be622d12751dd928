#!/usr/bin/env python3
"""Train the autoregressive verifier (a small Marian/fairseq-style Transformer), resumably.

    python training/train_verifier.py [--minutes 50] [--epochs 30]

Recipe (fairseq `transformer`, scaled down): label-smoothed CE (0.1), Adam (0.9, 0.98), inverse-sqrt
LR with warmup, dropout 0.1, clip-norm 1.0, token-bucketed batches, bf16 autocast where the CPU has native
bf16 (AVX512_BF16/AMX; fp32 elsewhere, see common.mixed_precision; fp32 master weights). Checkpoints: training/work/verifier/{last,best}.pt (best = lowest valid loss).
Stops at --minutes of training time or --epochs; rerun the same command to continue.
At the end: greedy and beam-5 BLEU on the valid set (and the test set with --test).
"""
import argparse
import os
import time

import torch
import torch.nn.functional as F

import common
from models import MarianTransformer

DEFAULT_CFG = dict(
    model_type="marian", d_model=256, encoder_layers=3, decoder_layers=3,
    encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=1024, decoder_ffn_dim=1024,
    activation_function="relu", max_position_embeddings=256, scale_embedding=True,
    dropout=0.1, attention_dropout=0.0, activation_dropout=0.0, init_std=0.02,
)


def build_cfg():
    sid = common.special_ids()
    cfg = dict(DEFAULT_CFG)
    cfg.update(vocab_size=sid["vocab_size"], pad_token_id=sid["pad_token_id"], eos_token_id=sid["eos_token_id"],
               decoder_start_token_id=sid["decoder_start_token_id"], unk_token_id=sid["unk_token_id"])
    return cfg


def batch_tensors(pairs, ids, pad, start):
    n = common.batch_len(pairs, ids)
    src = common.pad_to([pairs[i][0] for i in ids], pad, length=n)
    tgt = common.pad_to([pairs[i][1] for i in ids], pad, length=n)
    tgt_in = torch.cat([torch.full((len(ids), 1), start, dtype=torch.long), tgt[:, :-1]], 1)
    return src, tgt_in, tgt


def loss_fn(logits, tgt, pad, ls):
    lp = F.log_softmax(logits.float(), -1)
    mask = tgt.ne(pad)
    nll = -lp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
    smooth = -lp.mean(-1)
    loss = ((1 - ls) * nll + ls * smooth)[mask].sum()
    return loss, nll[mask].sum(), int(mask.sum())


@torch.no_grad()
def valid_loss(model, pairs, cfg, max_tokens=4000):
    model.eval()
    tot, n = 0.0, 0
    for ids in common.make_batches(pairs, max_tokens, seed=0):
        src, tgt_in, tgt = batch_tensors(pairs, ids, cfg["pad_token_id"], cfg["decoder_start_token_id"])
        with common.mixed_precision():
            logits = model(src, tgt_in)
        _, nll, k = loss_fn(logits, tgt, cfg["pad_token_id"], 0.0)
        tot += float(nll)
        n += k
    model.train()
    return tot / n


def translate(model, srcs, cfg, beam=1, batch=64):
    """srcs: list of id lists (eos-terminated). Returns hypotheses (id lists), in order."""
    model.eval()
    order = sorted(range(len(srcs)), key=lambda i: len(srcs[i]))
    out = [None] * len(srcs)
    for b in range(0, len(order), batch):
        ids = order[b:b + batch]
        src = common.pad_to([srcs[i] for i in ids], cfg["pad_token_id"])
        hyps = model.greedy(src) if beam == 1 else model.beam_search(src, beam=beam)
        for i, h in zip(ids, hyps):
            out[i] = h
    return out


def bleu(model, split, cfg, beam=1, limit=None):
    import sacrebleu
    sp = common.load_spm()
    src_lines = common.read_lines(os.path.join(common.DATA, f"{split}.en"))[:limit]
    refs = common.read_lines(os.path.join(common.DATA, f"{split}.de"))[:limit]
    srcs = [sp.encode(s) + [cfg["eos_token_id"]] for s in src_lines]
    t = time.time()
    hyps = [sp.decode(h) for h in translate(model, srcs, cfg, beam=beam, batch=64 if beam == 1 else 16)]
    return sacrebleu.corpus_bleu(hyps, [refs]).score, hyps, time.time() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=50.0, help="training-time budget (this run + earlier)")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=600)
    ap.add_argument("--max-tokens", type=int, default=2500)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--test", action="store_true", help="also report test BLEU at the end")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--dir", default=os.path.join(common.WORK, "verifier"))
    args = ap.parse_args()
    common.setup_threads()
    common.log_to(os.path.join(common.LOGS, "train_verifier.log"))
    torch.manual_seed(args.seed)

    cfg = build_cfg()
    model = MarianTransformer(cfg)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"verifier cfg {cfg}\nparameters {nparams / 1e6:.2f}M (fp16 {2 * nparams / 1e6:.1f} MB)", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-8)
    tr = common.Trainer("verifier", model, opt, args.dir)
    tr.resume()

    train = common.load_pairs("train")
    valid = common.load_pairs("valid")
    print(f"train pairs {len(train)}  valid pairs {len(valid)}  train tgt tokens "
          f"{sum(len(t) for _, t in train)}", flush=True)
    pad, start = cfg["pad_token_id"], cfg["decoder_start_token_id"]
    st = tr.state
    model.train()
    last_save = time.time()
    while not args.eval_only and st["epoch"] < args.epochs and st["train_seconds"] < args.minutes * 60 and not tr.stop:
        batches = common.make_batches(train, args.max_tokens, seed=args.seed * 1000 + st["epoch"])
        t_log, tok_log, loss_log, nll_log = time.time(), 0, 0.0, 0.0
        while st["batch"] < len(batches):
            t0 = time.time()
            ids = batches[st["batch"]]
            src, tgt_in, tgt = batch_tensors(train, ids, pad, start)
            lr = common.inverse_sqrt(st["step"], args.lr, args.warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            with common.mixed_precision():
                logits = model(src, tgt_in)
            loss, nll, ntok = loss_fn(logits, tgt, pad, args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            (loss / ntok).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            st["step"] += 1
            st["batch"] += 1
            st["train_seconds"] += tr.count(time.time() - t0)
            tok_log += ntok
            loss_log += float(loss)
            nll_log += float(nll)
            if st["step"] % 50 == 0:
                dt = time.time() - t_log
                print(f"ep {st['epoch']} step {st['step']} batch {st['batch']}/{len(batches)} lr {lr:.2e} "
                      f"loss {loss_log / tok_log:.3f} nll {nll_log / tok_log:.3f} tok/s {tok_log / dt:.0f} "
                      f"train_min {st['train_seconds'] / 60:.1f}", flush=True)
                t_log, tok_log, loss_log, nll_log = time.time(), 0, 0.0, 0.0
            if time.time() - last_save > tr.save_minutes * 60:
                tr.save()
                last_save = time.time()
            if tr.stop or st["train_seconds"] >= args.minutes * 60:
                break
        if st["batch"] >= len(batches):
            st["epoch"] += 1
            st["batch"] = 0
            vl = valid_loss(model, valid, cfg)
            print(f"== epoch {st['epoch']} valid nll {vl:.3f} (best {st['best_valid']:.3f}) "
                  f"train_min {st['train_seconds'] / 60:.1f}", flush=True)
            if vl < st["best_valid"]:
                st["best_valid"] = vl
                tr.save_best()
        tr.save()
        last_save = time.time()
    if tr.stop:
        return
    # final: evaluate the best checkpoint
    best = os.path.join(args.dir, "best.pt")
    if not os.path.exists(best):
        tr.save_best()
    model.load_state_dict(torch.load(best, map_location="cpu", weights_only=False)["model"])
    model.eval()
    for split in (["valid", "test"] if args.test else ["valid"]):
        for beam in (1, 5):
            score, hyps, secs = bleu(model, split, cfg, beam=beam)
            print(f"{split} BLEU beam={beam}: {score:.2f}  ({secs:.0f}s, batched)", flush=True)
            with open(os.path.join(args.dir, f"{split}.beam{beam}.de"), "w", encoding="utf-8") as f:
                f.write("\n".join(hyps) + "\n")


if __name__ == "__main__":
    main()
