"""Shared helpers: paths, tokenizer, datasets, token-bucketed batches, resumable training loop."""
import contextlib
import json
import math
import os
import random
import signal
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
DATA = os.path.join(WORK, "data")
SPM_DIR = os.path.join(WORK, "spm")
LOGS = os.path.join(WORK, "logs")
REPO = os.path.dirname(HERE)
MAX_TOKENS_PER_SENT = 64            # SentencePiece pieces, eos excluded


def setup_threads(n=None):
    n = n or int(os.environ.get("SPECDEC_THREADS", "2"))
    torch.set_num_threads(n)
    torch.set_num_interop_threads(1) if torch.get_num_interop_threads() != 1 else None


def cpu_has_native_bf16():
    """Whether the CPU multiplies bf16 natively (AVX512_BF16 or AMX): only then does bf16
    autocast speed training up. Elsewhere oneDNN emulates it, and a step of the shipped
    verifier's shape took 36 s instead of 2.1 s in fp32 on a 2-vCPU AVX2 EPYC
    (training/measure_speed.py)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def mixed_precision():
    """bf16 autocast where the CPU has native bf16, else fp32; SPECDEC_TRAIN_BF16=1 or 0 forces it."""
    forced = os.environ.get("SPECDEC_TRAIN_BF16")
    enabled = cpu_has_native_bf16() if forced is None else forced == "1"
    return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def log_to(path):
    """Tee stdout to a log file (appending, so resumed runs keep their history)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    f = open(path, "a", buffering=1, encoding="utf-8")

    class Tee:
        def write(self, s):
            sys.__stdout__.write(s)
            f.write(s)

        def flush(self):
            sys.__stdout__.flush()
            f.flush()
    sys.stdout = Tee()


def special_ids():
    with open(os.path.join(SPM_DIR, "special_ids.json")) as f:
        return json.load(f)


def load_spm():
    import sentencepiece as spm
    return spm.SentencePieceProcessor(model_file=os.path.join(SPM_DIR, "spm.model"))


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]


def encode_file(sp, path, eos):
    return [sp.encode(l) + [eos] for l in read_lines(path)]


def load_pairs(split, tgt_path=None, max_len=MAX_TOKENS_PER_SENT, keep_all=False):
    """Encoded (src, tgt) id lists, eos appended to both; pairs longer than max_len pieces dropped
    unless keep_all. tgt_path overrides the target side (distilled targets)."""
    sp = load_spm()
    eos = special_ids()["eos_token_id"]
    src = encode_file(sp, os.path.join(DATA, f"{split}.en"), eos)
    tgt = encode_file(sp, tgt_path or os.path.join(DATA, f"{split}.de"), eos)
    assert len(src) == len(tgt), (len(src), len(tgt))
    pairs = [(s, t) for s, t in zip(src, tgt)
             if keep_all or (len(s) <= max_len + 1 and len(t) <= max_len + 1)]
    return pairs


def ceil_to(n, m=8):
    return (n + m - 1) // m * m


def make_batches(pairs, max_tokens, seed, extra_tgt=0):
    """Token-bucketed batches (list of index lists), shuffled deterministically by seed.
    A pair's bucket is L = max(len(src), len(tgt) + extra_tgt) rounded up to a multiple of 8; a batch
    holds pairs of one bucket only, max_tokens // L of them, and batch_len() pads source and target
    to L. The CPU kernels (oneDNN bf16) therefore see about one tensor shape per bucket: each new
    shape costs a primitive compilation, which made ragged batches 2-3x slower."""
    rng = random.Random(seed)
    idx = list(range(len(pairs)))
    rng.shuffle(idx)
    key = lambda i: ceil_to(max(len(pairs[i][0]), len(pairs[i][1]) + extra_tgt))  # noqa: E731
    idx.sort(key=key)
    batches, cur, cur_len = [], [], 0
    for i in idx:
        m = key(i)
        if cur and (m != cur_len or len(cur) + 1 > max(1, max_tokens // m)):
            batches.append(cur)
            cur = []
        cur.append(i)
        cur_len = m
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def batch_len(pairs, ids, extra_tgt=0):
    return ceil_to(max(max(len(pairs[i][0]), len(pairs[i][1]) + extra_tgt) for i in ids))


def pad_to(seqs, pad, left=False, multiple=8, length=None):
    n = length or ceil_to(max(len(s) for s in seqs), multiple)
    out = torch.full((len(seqs), n), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        if left:
            out[i, n - len(s):] = torch.tensor(s, dtype=torch.long)
        else:
            out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out


def inverse_sqrt(step, lr, warmup, init_lr=1e-7):
    if step < warmup:
        return init_lr + (lr - init_lr) * step / warmup
    return lr * math.sqrt(warmup / max(step, 1))


class Trainer:
    """Resumable loop. Checkpoint = model, optimizer, epoch, position inside the epoch, step, RNG.
    Saved every `save_minutes`, at each epoch end, on SIGTERM/SIGINT, and at the time budget.
    The process can be paused (SIGSTOP) and resumed (SIGCONT) at any time; after a kill, rerun
    the same command and it continues from the last checkpoint."""

    def __init__(self, name, model, opt, ckpt_dir, save_minutes=10.0):
        self.name, self.model, self.opt = name, model, opt
        self.ckpt_dir = ckpt_dir
        os.makedirs(ckpt_dir, exist_ok=True)
        self.path = os.path.join(ckpt_dir, "last.pt")
        self.save_minutes = save_minutes
        self.state = {"epoch": 0, "batch": 0, "step": 0, "best_valid": float("inf"), "train_seconds": 0.0}
        self.stop = False
        signal.signal(signal.SIGTERM, self._sig)
        signal.signal(signal.SIGINT, self._sig)

    def count(self, dt):
        """Seconds to charge to the training budget for one step that took dt of wall time. A step
        during which the process was paused (SIGSTOP) would otherwise charge the whole pause:
        charge at most 4x the running mean step time instead."""
        ema = getattr(self, "_ema", None)
        charged = dt if ema is None else min(dt, 4.0 * ema)
        self._ema = charged if ema is None else 0.95 * ema + 0.05 * charged
        return charged

    def _sig(self, *_):
        print(f"[{self.name}] signal: checkpoint and stop", flush=True)
        self.stop = True

    def resume(self):
        if os.path.exists(self.path):
            ck = torch.load(self.path, map_location="cpu", weights_only=False)
            self.model.load_state_dict(ck["model"])
            self.opt.load_state_dict(ck["opt"])
            self.state = ck["state"]
            random.setstate(ck["py_rng"])
            torch.set_rng_state(ck["torch_rng"])
            print(f"[{self.name}] resumed from {self.path}: {self.state}", flush=True)
            return True
        return False

    def save(self, path=None):
        tmp = (path or self.path) + ".tmp"
        torch.save({"model": self.model.state_dict(), "opt": self.opt.state_dict(), "state": self.state,
                    "py_rng": random.getstate(), "torch_rng": torch.get_rng_state(),
                    "cfg": getattr(self.model, "cfg", None)}, tmp)
        os.replace(tmp, path or self.path)

    def save_best(self):
        torch.save({"model": self.model.state_dict(), "cfg": self.model.cfg, "state": dict(self.state)},
                   os.path.join(self.ckpt_dir, "best.pt"))
