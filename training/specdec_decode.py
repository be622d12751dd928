#!/usr/bin/env python3
"""Reference SpecDec decoding in pure PyTorch (batch 1): Spec-Drafter + Spec-Verification.

    python training/specdec_decode.py [--limit N] [--grid]

Loop (hemingkx/SpecDec inference_paper.py, re-implemented):
  1. the drafter reads the source and the verified prefix + k mask slots and proposes k tokens
     (argmax per slot);
  2. the verifier scores [decoder_start] + prefix + draft in one pass (its KV cache holds the
     verified part; only new positions are computed);
  3. Spec-Verification: draft token i is accepted while it is among the verifier's top-beta
     tokens at position i AND its logit is within tau of the top-1 logit; at the first failure the
     verifier's top-1 is appended; if all k pass, the top-1 at position k (bonus) is appended;
  4. the verifier cache is rolled back to the accepted length; stop at eos or the length limit.
beta = 1 accepts exactly the verifier's greedy tokens, so its output must equal greedy decoding.

Reports, on the held-out test set (models/specdec-en-de-test or training/work/data/test.*):
BLEU (sacrebleu, default 13a tokenisation) and wall-clock seconds for greedy, beam-5 and SpecDec
settings; mean tokens per iteration (tokens appended per verifier call, eos included), verifier
calls per sentence, and how many beta=1 outputs equal greedy. Results: training/work/specdec/*.json.
"""
import argparse
import json
import os
import time

import torch

import common
from distill import load_exported_verifier
from export_drafter import load_drafter_dir


class SpecDecoder:
    def __init__(self, verifier, vcfg, drafter, dcfg):
        self.v, self.vcfg, self.d, self.dcfg = verifier, vcfg, drafter, dcfg
        self.eos = vcfg["eos_token_id"]
        self.start = vcfg["decoder_start_token_id"]
        self.max_pos = min(vcfg["max_position_embeddings"], dcfg["max_position_embeddings"])

    @torch.no_grad()
    def greedy(self, src_ids, max_len):
        src = torch.tensor([src_ids])
        enc, mask = self.v.encode(src)
        cache = self.v.new_cache(enc)
        out, tok = [], self.start
        for step in range(max_len):
            nxt = int(self.v.decode(torch.tensor([[tok]]), enc, mask, cache=cache, start=step)[0, -1].argmax())
            if nxt == self.eos:
                break
            out.append(nxt)
            tok = nxt
        return out, len(out) + 1

    @torch.no_grad()
    def beam(self, src_ids, beam):
        return self.v.beam_search(torch.tensor([src_ids]), beam=beam)[0]

    @torch.no_grad()
    def specdec(self, src_ids, k, beta, tau, max_len):
        src = torch.tensor([src_ids])
        venc, vmask = self.v.encode(src)
        cache = self.v.new_cache(venc)
        denc = self.d.encode(src)
        prefix, cached, iters, accepted_drafts = [], 0, 0, 0
        while True:
            iters += 1
            n = len(prefix)
            kk = max(1, min(k, max_len - n - 1, self.max_pos - 2 - n - 1))
            _, draft = self.d.draft(denc, prefix, kk)
            inputs = ([self.start] + prefix + draft)[cached:]
            logits = self.v.decode(torch.tensor([inputs]), venc, vmask, cache=cache, start=cached)[0]
            rows = logits[n - cached:]                              # predictions for positions n..n+kk
            top_v, top_i = rows.topk(beta, -1)
            d = torch.tensor(draft)
            in_top = (top_i[:kk] == d[:, None]).any(1)
            close = (top_v[:kk, 0] - rows[torch.arange(kk), d]) <= tau
            a = int((in_top & close).long().cumprod(0).sum())          # accepted = leading run of passes
            new = draft[:a]
            new.append(int(top_i[a, 0]))                        # correction, or bonus when a == kk
            # inputs [start]+prefix+new[:-1] are now verified: keep their cache entries
            self.v.truncate_cache(cache, n + a + 1)
            cached = n + a + 1
            done, emitted = False, 0
            for t in new:
                emitted += 1                                    # eos counts as an emitted token
                if t == self.eos:
                    done = True
                    break
                prefix.append(t)
                if len(prefix) >= max_len:
                    done = True
                    break
            accepted_drafts += min(a, emitted)                  # drafts past eos are not output
            if done:
                break
        return prefix, iters, accepted_drafts


def run_setting(dec, srcs, name, fn):
    t = time.perf_counter()
    hyps, iters, tokens, acc = [], 0, 0, 0
    for s in srcs:
        r = fn(s)
        hyps.append(r[0])
        iters += r[1]
        tokens += len(r[0]) + 1
        acc += r[2] if len(r) > 2 else 0
    return hyps, time.perf_counter() - t, iters, tokens, acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verifier", default=os.path.join(common.REPO, "models", "specdec-en-de-verifier"))
    ap.add_argument("--drafter", default=os.path.join(common.REPO, "models", "specdec-en-de-drafter"))
    ap.add_argument("--test-dir", default=os.path.join(common.REPO, "models", "specdec-en-de-test"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--grid", action="store_true", help="beta/tau grid and k ablation (on --grid-limit sentences)")
    ap.add_argument("--grid-limit", type=int, default=500)
    ap.add_argument("--out", default=os.path.join(common.WORK, "specdec"))
    ap.add_argument("--no-beam", action="store_true")
    args = ap.parse_args()
    common.setup_threads()
    common.log_to(os.path.join(common.LOGS, "specdec_decode.log"))
    import sacrebleu
    verifier, vcfg = load_exported_verifier(args.verifier)
    drafter, dcfg = load_drafter_dir(args.drafter)
    dec = SpecDecoder(verifier, vcfg, drafter, dcfg)
    sp = common.load_spm()
    tdir = args.test_dir if os.path.exists(os.path.join(args.test_dir, "test.en")) else common.DATA
    src_lines = common.read_lines(os.path.join(tdir, "test.en"))
    refs = common.read_lines(os.path.join(tdir, "test.de"))
    if args.limit:
        src_lines, refs = src_lines[:args.limit], refs[:args.limit]
    eos = vcfg["eos_token_id"]
    srcs = [sp.encode(s)[: dec.max_pos // 2] + [eos] for s in src_lines]
    max_len = lambda s: min(dec.max_pos - 2, 2 * len(s) + 10)   # noqa: E731
    K = dcfg["block_size"]
    os.makedirs(args.out, exist_ok=True)
    results = {"sentences": len(srcs), "block_size_trained": K, "settings": []}

    def report(name, hyps, secs, iters, tokens, acc, extra=None, subset=None):
        rr = refs if subset is None else refs[:subset]
        text = [sp.decode(h) for h in hyps]
        b = sacrebleu.corpus_bleu(text, [rr]).score
        row = {"name": name, "bleu": round(b, 2), "seconds": round(secs, 2), "sentences": len(hyps),
               "ms_per_sentence": round(1000 * secs / len(hyps), 2),
               "verifier_calls_per_sentence": round(iters / len(hyps), 3),
               "tokens_per_iteration": round(tokens / iters, 3) if iters else None,
               "accepted_drafts_per_iteration": round(acc / iters, 3) if iters else None}
        if extra:
            row.update(extra)
        results["settings"].append(row)
        print(json.dumps(row), flush=True)
        with open(os.path.join(args.out, f"{name}.de"), "w", encoding="utf-8") as f:
            f.write("\n".join(text) + "\n")
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        return row

    greedy_h, secs, iters, tokens, _ = run_setting(dec, srcs, "greedy", lambda s: dec.greedy(s, max_len(s)))
    g = report("greedy", greedy_h, secs, iters, tokens, 0)
    if not args.no_beam:
        h, secs, _, _, _ = run_setting(dec, srcs, "beam5", lambda s: (dec.beam(s, 5), 0))
        report("beam5", h, secs, 0, 0, 0)
    main_settings = [(K, 1, 0.0), (K, 5, 3.0)]
    for (k, beta, tau) in main_settings:
        h, secs, iters, tokens, acc = run_setting(
            dec, srcs, "", lambda s: dec.specdec(s, k, beta, tau, max_len(s)))
        same = sum(a == b for a, b in zip(h, greedy_h))
        report(f"specdec_k{k}_b{beta}_t{tau:g}", h, secs, iters, tokens, acc,
               {"k": k, "beta": beta, "tau": tau, "identical_to_greedy": same,
                "speedup_vs_greedy_pytorch": round(g["seconds"] / secs, 3),
                "verifier_call_reduction": round(g["verifier_calls_per_sentence"] * len(h) / iters, 3)})
    if args.grid:
        n = min(args.grid_limit, len(srcs))
        sub = srcs[:n]
        gh, gsecs, giters, _, _ = run_setting(dec, sub, "", lambda s: dec.greedy(s, max_len(s)))
        report(f"greedy_first{n}", gh, gsecs, giters, sum(len(x) + 1 for x in gh), 0, subset=n)
        grid = [(K, b, t) for b in (1, 3, 5, 8) for t in (1.0, 2.0, 3.0, 5.0) if not (b == 1 and t != 1.0)]
        grid += [(k, 5, 3.0) for k in sorted({2, 4, 8, 12, 25} - {K})]
        for (k, beta, tau) in grid:
            h, secs, iters, tokens, acc = run_setting(
                dec, sub, "", lambda s: dec.specdec(s, k, beta, tau, max_len(s)))
            report(f"grid{n}_k{k}_b{beta}_t{tau:g}", h, secs, iters, tokens, acc,
                   {"k": k, "beta": beta, "tau": tau, "speedup_vs_greedy_pytorch": round(gsecs / secs, 3),
                    "verifier_call_reduction": round(giters / iters, 3)}, subset=n)


if __name__ == "__main__":
    main()
