#!/usr/bin/env python3
"""Train the Spec-Drafter (SpecDec's BlockNAT) on the verifier's distilled targets, resumably.

    python training/train_drafter.py [--k 16] [--minutes 60]

The authors' recipe (hemingkx/SpecDec train.sh, translation_lev_modified.py, BlockNAT.py,
glat_loss.py), re-implemented here:
  * block-mask noise: for a target t of length L (eos included) draw cut = int(L * U(0,1)) + 1,
    keep the first r = L - cut tokens as the verified prefix and append k mask (<unk>) slots; the
    slots are trained to predict t[r : r + k] (slots past the end of t carry no loss);
  * glancing sampling (GLAT): a no-grad pass predicts the slots; for each sentence
    n = int((#slots - #correct) * p) randomly chosen slots are revealed (their input becomes the
    reference token) and carry no loss; p decays linearly from 0.5 to 0.3 over training
    (start_p 0.5, minus_p 0.2, total_up = the planned number of updates); both passes share the
    dropout seed, as in the original;
  * loss: label-smoothed cross-entropy (eps 0.1) averaged over the remaining mask slots, i.e.
    (1 - eps) * nll - eps * mean_v log p_v;
  * Adam (0.9, 0.999), eps 1e-6, decoupled weight decay 0.01, inverse-sqrt LR with warmup, clip 5,
    dropout 0.1, bert init (N(0, 0.02)); the encoder and the shared embedding are initialised from
    the verifier's encoder (encoder_initial.py). The verifier's positions are Marian sinusoids
    scaled by sqrt(d) relative to its embeddings; the drafter's learned encoder positions start as
    those sinusoids divided by sqrt(d) (the drafter does not scale embeddings), so the encoder
    starts from the verifier's input geometry.
Checkpoints: training/work/drafter/{last,best}.pt; best = lowest valid loss on the mask slots.
"""
import argparse
import math
import os
import random
import time

import torch
import torch.nn.functional as F

import common
from distill import load_exported_verifier
from models import SpecDrafter, marian_sinusoids

DEFAULT = dict(
    model_type="specdec_drafter", d_model=256, encoder_layers=3, decoder_layers=2,
    encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=1024, decoder_ffn_dim=1024,
    activation_function="gelu", max_position_embeddings=256, dropout=0.1, attention_dropout=0.0,
    activation_dropout=0.0,
)


def build_cfg(verifier_cfg, k, decoder_layers):
    sid = common.special_ids()
    cfg = dict(DEFAULT)
    cfg.update(d_model=verifier_cfg["d_model"], encoder_layers=verifier_cfg["encoder_layers"],
               encoder_attention_heads=verifier_cfg["encoder_attention_heads"],
               decoder_attention_heads=verifier_cfg["encoder_attention_heads"],
               encoder_ffn_dim=verifier_cfg["encoder_ffn_dim"], decoder_ffn_dim=verifier_cfg["encoder_ffn_dim"],
               decoder_layers=decoder_layers, block_size=k,
               vocab_size=sid["vocab_size"], pad_token_id=sid["pad_token_id"], eos_token_id=sid["eos_token_id"],
               unk_token_id=sid["unk_token_id"], mask_token_id=sid["mask_token_id"], bos_token_id=None)
    return cfg


def init_from_verifier(drafter, verifier):
    """encoder_initial.py: the drafter starts with the verifier's encoder (and shared embedding)."""
    vs = verifier.state_dict()
    ds = drafter.state_dict()
    n = 0
    with torch.no_grad():
        ds["embed_tokens.weight"].copy_(vs["model.shared.weight"])
        n += 1
        for k in ds:
            if k.startswith("encoder.layers."):
                ds[k].copy_(vs["model." + k])
                n += 1
        d = drafter.cfg["d_model"]
        P = marian_sinusoids(drafter.encoder.embed_positions.weight.size(0) - 2, d)
        drafter.encoder.embed_positions.weight[2:].copy_(P / math.sqrt(d))
    print(f"initialised {n} drafter tensors + encoder positions from the verifier")


def block_mask_batch(pairs, ids, k, pad, mask_id, rng):
    """The authors' _block_mask noise. Returns src [B,S], prev [B,T], tgt [B,T] (pad = no loss)."""
    srcs, prevs, tgts = [], [], []
    for i in ids:
        s, t = pairs[i]
        L = len(t)
        cut = int(L * rng.random()) + 1
        r = L - cut
        prevs.append(t[:r] + [mask_id] * k)
        tgts.append(t[: r + k])
        srcs.append(s)
    n = common.batch_len(pairs, ids, extra_tgt=k)
    src = common.pad_to(srcs, pad, length=n)
    prev = common.pad_to(prevs, pad, length=n)
    tgt = common.pad_to(tgts, pad, length=n)
    return src, prev, tgt


def glat(model, src, prev, tgt, ctx_p, pad, mask_id, seed, gen):
    """Glancing: reveal int((slots - correct) * ctx_p) random slots. Returns (prev, tgt, accuracy)."""
    mask_pos = prev.eq(mask_id) & tgt.ne(pad)
    with torch.no_grad():
        torch.manual_seed(seed)
        with common.mixed_precision():
            pred = model(src, prev).argmax(-1)
    same = ((pred == tgt) & mask_pos).sum(1)
    nslots = mask_pos.sum(1)
    l2r = (prev.ne(mask_id) & prev.ne(pad)).sum(1)
    reveal = torch.zeros_like(mask_pos)
    for b in range(prev.size(0)):
        n = int((int(nslots[b]) - int(same[b])) * ctx_p)
        if n > 0:
            idx = torch.randperm(int(nslots[b]), generator=gen)[:n] + int(l2r[b])
            reveal[b, idx] = True
    new_prev = torch.where(reveal, tgt, prev)
    new_tgt = tgt.masked_fill(~(mask_pos & ~reveal), pad)
    acc = float(same.sum()) / max(1, int(nslots.sum()))
    return new_prev, new_tgt, acc


def slot_loss(logits, tgt, pad, ls):
    m = tgt.ne(pad)
    if not bool(m.any()):
        return logits.sum() * 0, 0.0, 0
    lp = F.log_softmax(logits[m].float(), -1)
    t = tgt[m]
    nll = -lp.gather(-1, t[:, None]).squeeze(-1)
    loss = (1 - ls) * nll.mean() - ls * lp.mean()
    return loss, float(nll.sum()), int(m.sum())


@torch.no_grad()
def validate(model, pairs, k, cfg, seed=0):
    """Mean NLL and accuracy of the mask slots under the block-mask noise (fixed seed), plus the
    mean number of leading slots that are all correct (a proxy for beta=1 acceptance)."""
    model.eval()
    rng = random.Random(seed)
    tot, n, correct, lead, sents = 0.0, 0, 0, 0, 0
    for ids in common.make_batches(pairs, 3000, seed=0, extra_tgt=k):
        src, prev, tgt = block_mask_batch(pairs, ids, k, cfg["pad_token_id"], cfg["mask_token_id"], rng)
        with common.mixed_precision():
            logits = model(src, prev)
        m = prev.eq(cfg["mask_token_id"]) & tgt.ne(cfg["pad_token_id"])
        lp = F.log_softmax(logits.float(), -1)
        nll = -lp.gather(-1, tgt.clamp(max=cfg["vocab_size"] - 1)[..., None]).squeeze(-1)
        tot += float(nll[m].sum())
        n += int(m.sum())
        ok = (logits.argmax(-1) == tgt) & m
        correct += int(ok.sum())
        # leading run of correct slots per sentence
        for b in range(prev.size(0)):
            row_m, row_ok = m[b].tolist(), ok[b].tolist()
            run = 0
            for mm, oo in zip(row_m, row_ok):
                if not mm:
                    continue
                if not oo:
                    break
                run += 1
            lead += run
            sents += 1
    model.train()
    return tot / n, correct / n, lead / sents


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verifier", default=os.path.join(common.REPO, "models", "specdec-en-de-verifier"))
    ap.add_argument("--k", type=int, default=12, help="block size (number of mask slots); paper: 25")
    ap.add_argument("--decoder-layers", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--total-up", type=int, default=6000, help="updates over which glancing p decays")
    ap.add_argument("--lr", type=float, default=7e-4)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--max-tokens", type=int, default=3000)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--start-p", type=float, default=0.5)
    ap.add_argument("--minus-p", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=os.path.join(common.WORK, "drafter"))
    ap.add_argument("--distill", default=os.path.join(common.WORK, "distill"), help="distilled targets dir")
    ap.add_argument("--init-from", help="start from this drafter checkpoint (best.pt of a drafter trained for "
                    "another k: every weight is independent of k) instead of the verifier's encoder")
    args = ap.parse_args()
    common.setup_threads()
    common.log_to(os.path.join(common.LOGS, "train_drafter.log"))
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    verifier, vcfg = load_exported_verifier(args.verifier)
    cfg = build_cfg(vcfg, args.k, args.decoder_layers)
    model = SpecDrafter(cfg)
    if args.init_from:
        model.load_state_dict(torch.load(args.init_from, map_location="cpu", weights_only=False)["model"])
    else:
        init_from_verifier(model, verifier)
    del verifier
    nparams = sum(p.numel() for p in model.parameters())
    print(f"drafter cfg {cfg}\nparameters {nparams / 1e6:.2f}M (fp16 {2 * nparams / 1e6:.1f} MB)", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999), eps=1e-6)
    tr = common.Trainer("drafter", model, opt, args.dir)
    tr.resume()

    dist = args.distill
    train = common.load_pairs("train", tgt_path=os.path.join(dist, "train.de"))
    valid = common.load_pairs("valid", tgt_path=os.path.join(dist, "valid.de"))
    print(f"train pairs {len(train)} valid pairs {len(valid)}", flush=True)
    pad, mask_id = cfg["pad_token_id"], cfg["mask_token_id"]
    st = tr.state
    rng = random.Random(args.seed * 7919 + st["step"])
    gen = torch.Generator().manual_seed(args.seed * 31 + st["step"])
    model.train()
    last_save = time.time()
    while st["epoch"] < args.epochs and st["train_seconds"] < args.minutes * 60 and not tr.stop:
        batches = common.make_batches(train, args.max_tokens, seed=args.seed * 1000 + st["epoch"], extra_tgt=args.k)
        t_log, n_log, nll_log, acc_log, cnt = time.time(), 0, 0.0, 0.0, 0
        while st["batch"] < len(batches):
            t0 = time.time()
            src, prev, tgt = block_mask_batch(train, batches[st["batch"]], args.k, pad, mask_id, rng)
            ctx_p = args.start_p - args.minus_p * max(0.0, min(1.0, st["step"] / args.total_up))
            seed = rng.randint(0, 19260817)
            prev, tgt, acc = glat(model, src, prev, tgt, ctx_p, pad, mask_id, seed, gen)
            lr = common.inverse_sqrt(st["step"], args.lr, args.warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            torch.manual_seed(seed)
            with common.mixed_precision():
                logits = model(src, prev)
            loss, nll, ntok = slot_loss(logits, tgt, pad, args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            st["step"] += 1
            st["batch"] += 1
            st["train_seconds"] += tr.count(time.time() - t0)
            n_log += ntok
            nll_log += nll
            acc_log += acc
            cnt += 1
            if st["step"] % 50 == 0:
                print(f"ep {st['epoch']} step {st['step']} batch {st['batch']}/{len(batches)} lr {lr:.2e} "
                      f"nll {nll_log / max(1, n_log):.3f} glat_acc {acc_log / cnt:.3f} p {ctx_p:.3f} "
                      f"s/step {(time.time() - t_log) / cnt:.2f} train_min {st['train_seconds'] / 60:.1f}",
                      flush=True)
                t_log, n_log, nll_log, acc_log, cnt = time.time(), 0, 0.0, 0.0, 0
            if time.time() - last_save > tr.save_minutes * 60:
                tr.save()
                last_save = time.time()
            if tr.stop or st["train_seconds"] >= args.minutes * 60:
                break
        if st["batch"] >= len(batches):
            st["epoch"] += 1
            st["batch"] = 0
            vl, vacc, vlead = validate(model, valid, args.k, cfg)
            print(f"== epoch {st['epoch']} valid slot nll {vl:.3f} acc {vacc:.3f} leading-correct {vlead:.2f} "
                  f"(best {st.get('best_lead', 0.0):.2f}) train_min {st['train_seconds'] / 60:.1f}", flush=True)
            if vlead > st.get("best_lead", 0.0):
                st["best_valid"], st["best_lead"] = vl, vlead
                tr.save_best()
        tr.save()
        last_save = time.time()
    if not tr.stop and not os.path.exists(os.path.join(args.dir, "best.pt")):
        tr.save_best()
    if not tr.stop and st["batch"] != 0:
        # stopped mid-epoch by the time budget: validate the current weights too, keep the better
        vl, vacc, vlead = validate(model, valid, args.k, cfg)
        print(f"== final (mid-epoch) valid slot nll {vl:.3f} acc {vacc:.3f} leading-correct {vlead:.2f}", flush=True)
        if vlead > st.get("best_lead", 0.0):
            st["best_valid"], st["best_lead"] = vl, vlead
            tr.save_best()
            tr.save()


if __name__ == "__main__":
    main()
