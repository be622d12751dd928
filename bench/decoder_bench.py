#!/usr/bin/env python3
"""Decoder-only decoding speed: libspecdec vs llama.cpp vs Hugging Face transformers.

    python bench/decoder_bench.py --model HF_DIR --gguf FILE --specdec dist/bin/specdec \
        [--threads 1 2] [--repeats 5] [--decode-tokens 64] [--prompt-len 32] \
        [--eval-iters 30] [--precision fp32|bf16|int8] [--skip-transformers] [--skip-llama-cpp] [--skip-specdec]

All engines run the same random-initialised Llama weights at batch 1 (HF_DIR for
transformers and libspecdec, its GGUF conversion for llama.cpp) in one precision:
fp32 (GGUF all-F32), bf16 (libspecdec --weights bf16 against a BF16 GGUF) or int8
(libspecdec --weights int8 against llama.cpp's Q8_0); transformers runs at fp32 only.
For every thread count and engine it measures:

  decode tok/s   greedy decoding of --decode-tokens tokens after a --prompt-len prompt;
                 prefill excluded; median over --repeats runs.
  eval1 / eval8  time of one forward pass that scores 1 (or 8) new tokens on top of the
                 cached prompt, logits for every new position included (what a
                 speculative verifier pays); median over --eval-iters measurements, with
                 the cache rolled back to the prompt between measurements.
  eval8/eval1    how much more 8 tokens cost than 1: the lower, the more a verifier gains;
  eval16         the same with 16 new tokens.

Engines run one at a time, each in its own process (llama.cpp and transformers through
this script's --worker mode, libspecdec through `specdec bench ... --json`), so that no two
thread pools ever compete for the cores. The report (markdown) goes to stdout; progress
goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_support import (children_cpu_seconds, cpu_busy_seconds, cpu_flags_summary, cpu_model,  # noqa: E402
                           last_json_line, median, mem_total_gib, memory_read_gbs, pkg_version)
ENGINES = ("llama.cpp", "libspecdec", "transformers")
EVAL_K = (1, 8, 16)
PROMPT_SEED = 1234
BACKGROUND_LIMIT = 0.1   # cores used by other processes during a run before it is redone
FIRST_ORDINARY_ID = 259  # after <unk>, <s>, </s> and the 256 byte tokens


def log(msg: str) -> None:
    print(f"[decoder_bench] {msg}", file=sys.stderr, flush=True)


def make_ids(n: int, vocab: int, seed: int) -> list[int]:
    """Deterministic pseudo-random token ids (same on every engine, no numpy needed)."""
    x = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        out.append(FIRST_ORDINARY_ID + x % (vocab - FIRST_ORDINARY_ID))
    return out


# ---------------------------------------------------------------------------------------
# Measurement, shared by the Python-driven engines
# ---------------------------------------------------------------------------------------

class Runner:
    """What an engine adapter provides. Positions are implicit: the adapter keeps its
    cache length; `rollback(n)` truncates the cache to n tokens."""

    def prefill(self, ids: list[int]) -> int: ...          # reset, run prompt, greedy next id
    def step(self, token: int) -> int: ...                  # one token in, greedy next id out
    def score(self, ids: list[int]) -> None: ...            # logits for every new position
    def rollback(self, n: int) -> None: ...


def measure(runner: Runner, prompt: list[int], decode_tokens: int, repeats: int,
            eval_iters: int, draft: list[int]) -> dict:
    # Warm-up, one untimed run of the full length: pages the weights in, starts the thread
    # pools, lets allocators (PyTorch's in particular) reach their steady state.
    tok = runner.prefill(prompt)
    for _ in range(decode_tokens):
        tok = runner.step(tok)

    decode_rates, first_run_ids = [], None
    for r in range(repeats):
        tok = runner.prefill(prompt)
        ids = [tok]
        t0 = time.perf_counter()
        for _ in range(decode_tokens):
            tok = runner.step(tok)
            ids.append(tok)
        dt = time.perf_counter() - t0
        decode_rates.append(decode_tokens / dt)
        if first_run_ids is None:
            first_run_ids = ids

    runner.prefill(prompt)
    P = len(prompt)
    times = {k: [] for k in EVAL_K}
    for k in EVAL_K:  # warm-up of each shape
        runner.score(draft[:k])
        runner.rollback(P)
    for _ in range(eval_iters):
        for k in EVAL_K:  # interleaved, so that drifts hit both alike
            t0 = time.perf_counter()
            runner.score(draft[:k])
            times[k].append(time.perf_counter() - t0)
            runner.rollback(P)

    e1, e8, e16 = (median(times[k]) * 1e3 for k in EVAL_K)
    return {
        "decode_tokens_per_s": median(decode_rates),
        "decode_tokens_per_s_all": decode_rates,
        "eval1_ms": e1,
        "eval8_ms": e8,
        "eval16_ms": e16,
        "eval8_over_eval1": e8 / e1,
        "eval16_over_eval1": e16 / e1,
        "greedy_ids": first_run_ids,
    }


# ---------------------------------------------------------------------------------------
# llama.cpp (llama-cpp-python, low-level API)
# ---------------------------------------------------------------------------------------

class LlamaCppRunner(Runner):
    def __init__(self, gguf: str, threads: int, n_ctx: int):
        import numpy as np
        import llama_cpp

        self.np, self.lc = np, llama_cpp
        # logits_all is irrelevant here: this runner fills its own batch and asks for the
        # logits of exactly the positions a caller needs (all new ones in score()).
        # The KV cache is fp32 like the weights (llama.cpp's default is fp16).
        self.llm = llama_cpp.Llama(model_path=gguf, n_threads=threads, n_threads_batch=threads,
                                   n_ctx=n_ctx, n_batch=n_ctx, logits_all=False,
                                   type_k=llama_cpp.GGML_TYPE_F32,
                                   type_v=llama_cpp.GGML_TYPE_F32, verbose=False)
        self.ctx = self.llm.ctx
        self.n_vocab = self.llm.n_vocab()
        self.batch = llama_cpp.llama_batch_init(n_ctx, 0, 1)
        self.n_past = 0
        if hasattr(llama_cpp, "llama_memory_seq_rm"):
            mem = llama_cpp.llama_get_memory(self.ctx)
            self._seq_rm = lambda p0: llama_cpp.llama_memory_seq_rm(mem, 0, p0, -1)
        else:  # llama-cpp-python before the memory API
            self._seq_rm = lambda p0: llama_cpp.llama_kv_self_seq_rm(self.ctx, 0, p0, -1)

    def _decode(self, ids: list[int], all_logits: bool):
        b = self.batch
        n = len(ids)
        b.n_tokens = n
        for i, t in enumerate(ids):
            b.token[i] = t
            b.pos[i] = self.n_past + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = all_logits or i == n - 1
        rc = self.lc.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        self.n_past += n

    def _last_argmax(self) -> int:
        ptr = self.lc.llama_get_logits_ith(self.ctx, -1)
        return int(self.np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).argmax())

    def prefill(self, ids):
        self.rollback(0)
        self._decode(ids, all_logits=False)
        return self._last_argmax()

    def step(self, token):
        self._decode([token], all_logits=False)
        return self._last_argmax()

    def score(self, ids):
        self._decode(ids, all_logits=True)
        ptr = self.lc.llama_get_logits(self.ctx)
        logits = self.np.ctypeslib.as_array(ptr, shape=(len(ids), self.n_vocab)).copy()
        assert logits.shape[0] == len(ids)

    def rollback(self, n):
        self._seq_rm(n)
        self.n_past = n

    def close(self):
        self.lc.llama_batch_free(self.batch)
        if hasattr(self.llm, "close"):
            self.llm.close()


# ---------------------------------------------------------------------------------------
# transformers
# ---------------------------------------------------------------------------------------

class TransformersRunner(Runner):
    def __init__(self, hf_dir: str, threads: int):
        import torch
        from transformers import DynamicCache, LlamaForCausalLM

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
        self.config = self.model.config
        self.DynamicCache = DynamicCache
        self.cache = None
        # transformers >= 5.2x names the KV-cache argument `cache` and deprecates
        # `past_key_values`; older versions only know `past_key_values`.
        import inspect
        params = inspect.signature(type(self.model).forward).parameters
        self.cache_kw = "cache" if "cache" in params else "past_key_values"

    def _forward(self, ids: list[int]):
        t = self.torch.tensor([ids], dtype=self.torch.long)
        return self.model(input_ids=t, use_cache=True, **{self.cache_kw: self.cache}).logits

    def prefill(self, ids):
        with self.torch.inference_mode():
            self.cache = self.DynamicCache(config=self.config)
            return int(self._forward(ids)[0, -1].argmax())

    def step(self, token):
        with self.torch.inference_mode():
            return int(self._forward([token])[0, -1].argmax())

    def score(self, ids):
        with self.torch.inference_mode():
            logits = self._forward(ids)
            assert logits.shape[1] == len(ids)

    def rollback(self, n):
        # crop(-k) removes the last k positions, in transformers 4.x and 5.x alike (5.x
        # rejects the old absolute-length form crop(n)).
        extra = self.cache.get_seq_length() - n
        if extra > 0:
            self.cache.crop(-extra)

    def close(self):
        pass


def worker(args) -> int:
    """Run one engine at one thread count; print a JSON object as the last stdout line."""
    info: dict = {"engine": args.worker, "threads": args.threads}
    if args.worker == "llama.cpp":
        import llama_cpp
        info["version"] = getattr(llama_cpp, "__version__", "?")
        info["system_info"] = llama_cpp.llama_print_system_info().decode(errors="replace").strip()
        n_ctx = 512
        if args.prompt_len + args.decode_tokens + max(EVAL_K) + 8 > n_ctx:
            raise SystemExit("prompt-len + decode-tokens exceeds n_ctx 512")
        runner = LlamaCppRunner(args.gguf, args.threads, n_ctx)
        vocab = runner.n_vocab
    elif args.worker == "transformers":
        import torch
        import transformers
        info["version"] = f"transformers {transformers.__version__}, torch {torch.__version__}"
        runner = TransformersRunner(args.model, args.threads)
        info["torch_threads"] = torch.get_num_threads()
        vocab = runner.config.vocab_size
    else:
        raise SystemExit(f"unknown worker {args.worker}")

    prompt = make_ids(args.prompt_len, vocab, PROMPT_SEED)
    draft = make_ids(max(EVAL_K), vocab, PROMPT_SEED + 1)
    info.update(measure(runner, prompt, args.decode_tokens, args.repeats, args.eval_iters, draft))
    runner.close()
    print(json.dumps(info), flush=True)
    return 0


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------

def wait_for_idle(max_wait: float, quiet_for: float = 6.0, threshold: float = 0.08) -> bool:
    """Wait (at most max_wait s) until the machine has been idle for quiet_for seconds:
    on a 2-core box any background job ruins a 2-thread measurement."""
    if max_wait <= 0:
        return True
    ncpu = os.cpu_count() or 1
    deadline, quiet = time.time() + max_wait, 0.0
    prev = cpu_busy_seconds()
    if prev is None:
        return True
    while time.time() < deadline:
        time.sleep(1.0)
        cur = cpu_busy_seconds()
        quiet = quiet + 1.0 if (cur - prev) < threshold * ncpu else 0.0
        prev = cur
        if quiet >= quiet_for:
            return True
    return False


def run_subprocess(cmd: list[str], threads: int, timeout: float) -> tuple[dict | None, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    busy0, own0, t0 = cpu_busy_seconds(), children_cpu_seconds(), time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    except OSError as e:
        return None, str(e)
    if p.returncode != 0:
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-6:]
        return None, f"exit status {p.returncode}: " + " | ".join(tail)
    obj = last_json_line(p.stdout)
    if obj is None:
        return None, "no JSON object on the last stdout line"
    busy1, own1, t1 = cpu_busy_seconds(), children_cpu_seconds(), time.perf_counter()
    if busy0 is not None and busy1 is not None and t1 > t0:
        # CPU time used by everything else on the machine meanwhile, in cores: anything
        # well above 0 means the run competed for the cores and is not trustworthy.
        obj["background_cores"] = max(0.0, ((busy1 - busy0) - (own1 - own0)) / (t1 - t0))
    return obj, ""


_HELP_CACHE: dict[str, str] = {}


def specdec_supports(exe: str, option: str) -> bool:
    if exe not in _HELP_CACHE:
        try:
            p = subprocess.run([exe, "bench", "--help"], capture_output=True, text=True, timeout=30)
            _HELP_CACHE[exe] = p.stdout + p.stderr
        except (OSError, subprocess.TimeoutExpired):
            _HELP_CACHE[exe] = ""
    return option in _HELP_CACHE[exe]


def run_engine(engine: str, threads: int, args) -> tuple[dict | None, str]:
    common = ["--threads", str(threads), "--prompt-len", str(args.prompt_len),
              "--decode-tokens", str(args.decode_tokens), "--repeats", str(args.repeats)]
    if engine == "libspecdec":
        exe = args.specdec
        if not exe or not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            return None, (f"specdec binary not found at {exe!r} "
                          "(build it with `bash scripts/build.sh`, which writes dist/bin/specdec)")
        cmd = [exe, "bench", "--model", args.model, "--weights", args.precision, "--eval-sizes", "16"] + common + ["--json"]
        if specdec_supports(exe, "--score-iterations"):
            cmd[-1:-1] = ["--score-iterations", str(args.eval_iters)]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine,
               "--model", args.model, "--gguf", args.gguf or "",
               "--eval-iters", str(args.eval_iters)] + common
    obj, err = run_subprocess(cmd, threads, args.timeout)
    if obj is not None:
        missing = [k for k in ("decode_tokens_per_s", "eval1_ms", "eval8_ms") if k not in obj]
        if missing:
            return None, f"JSON lacks {', '.join(missing)}"
        if "eval8_over_eval1" not in obj and obj.get("eval1_ms"):
            obj["eval8_over_eval1"] = obj["eval8_ms"] / obj["eval1_ms"]
        if obj.get("eval16_ms") and obj.get("eval1_ms"):
            obj["eval16_over_eval1"] = obj["eval16_ms"] / obj["eval1_ms"]
    return obj, err


def specdec_version(exe: str | None) -> str:
    """Version from include/specdec.h plus the repository commit (the CLI has no --version)."""
    if not exe or not os.path.isfile(exe):
        return "not built"
    root = os.path.dirname(HERE)
    ver = "?"
    try:
        with open(os.path.join(root, "include", "specdec.h")) as f:
            for line in f:
                if line.startswith("#define SPECDEC_VERSION_STRING"):
                    ver = line.split(None, 2)[2].strip().strip('"')
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if rev:
            ver += f" (commit {rev}{', modified tree' if dirty else ''})"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return ver


def model_summary(hf_dir: str) -> str:
    try:
        with open(os.path.join(hf_dir, "config.json")) as f:
            c = json.load(f)
        d, L, ff, V = c["hidden_size"], c["num_hidden_layers"], c["intermediate_size"], c["vocab_size"]
        kv = c.get("num_key_value_heads", c["num_attention_heads"])
        hd = c.get("head_dim") or d // c["num_attention_heads"]
        per_layer = d * d * 2 + 2 * d * kv * hd + 3 * d * ff + 2 * d
        n = L * per_layer + V * d * (1 if c.get("tie_word_embeddings") else 2) + d
        return (f"LlamaForCausalLM, random weights, {n / 1e6:.1f}M parameters: hidden {d}, "
                f"{L} layers, {c['num_attention_heads']} heads ({kv} KV), FFN {ff}, vocab {V}, "
                f"{'tied' if c.get('tie_word_embeddings') else 'untied'} embeddings")
    except (OSError, KeyError, ValueError):
        return "?"


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def report(args, results: dict, errors: dict, extra: dict) -> str:
    out = []
    out.append("## Decoder-only decoding speed\n")
    out.append(f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    out.append(f"- CPU: {cpu_model()}; {os.cpu_count()} logical CPUs"
               f" ({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} usable);"
               f" {cpu_flags_summary()}; RAM {mem_total_gib()}")
    out.append(f"- OS: {platform.system()} {platform.release()}; Python {platform.python_version()}")
    out.append(f"- Versions: libspecdec `{specdec_version(args.specdec)}`; llama-cpp-python "
               f"{pkg_version('llama_cpp_python')}; gguf {pkg_version('gguf')}; transformers "
               f"{pkg_version('transformers')}; torch {pkg_version('torch')}")
    if extra.get("llama_system_info"):
        out.append(f"- llama.cpp system info: `{extra['llama_system_info']}`")
    gguf_kind = {"fp32": "all-F32", "bf16": "BF16", "int8": "Q8_0"}[args.precision]
    ours = {"fp32": "fp32", "bf16": "--weights bf16 (bf16 weights and activations, fp32 sums)",
            "int8": "--weights int8 (int8 weights with per-row scales, activations quantised per row)"}[args.precision]
    out.append(f"- Model: {model_summary(args.model)}; precision {args.precision}: GGUF {gguf_kind} for llama.cpp, "
               f"libspecdec {ours}; KV caches fp32")
    out.append(f"- Method: batch 1; greedy decode of {args.decode_tokens} tokens after a "
               f"{args.prompt_len}-token prompt (prefill excluded), median of {args.repeats} runs; "
               f"eval1/eval8/eval16 = one forward pass scoring 1 / 8 / 16 new tokens (logits for every new "
               f"position) on top of the cached prompt, median of {args.eval_iters}, "
               f"cache rolled back between passes; engines run "
               f"one after another, each in its own process.")
    out.append("")
    out.append("| engine | threads | decode tok/s | eval1 ms | eval8 ms | eval16 ms | eval8/eval1 | eval16/eval1 | decode vs llama.cpp |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.threads:
        ref = results.get(("llama.cpp", n))
        ref_rate = ref["decode_tokens_per_s"] if ref else None
        for e in ENGINES:
            if (e, n) not in results and (e, n) not in errors:
                continue
            r = results.get((e, n))
            if r is None:
                out.append(f"| {e} | {n} | n/a | n/a | n/a | n/a | n/a | n/a | n/a |")
                continue
            rel = (f"{r['decode_tokens_per_s'] / ref_rate:.2f}x" if ref_rate else "n/a")
            out.append(f"| {e} | {n} | {fmt(r['decode_tokens_per_s'], '.1f')} | "
                       f"{fmt(r['eval1_ms'], '.2f')} | {fmt(r['eval8_ms'], '.2f')} | {fmt(r.get('eval16_ms'), '.2f')} | "
                       f"{fmt(r.get('eval8_over_eval1'), '.2f')} | {fmt(r.get('eval16_over_eval1'), '.2f')} | {rel} |")
    out.append("")
    notes = []
    for (e, n), msg in errors.items():
        notes.append(f"- {e} at {n} thread(s) did not run: {msg}")
    # Sanity: llama.cpp and transformers should decode the same greedy ids.
    for n in args.threads:
        a, b = results.get(("llama.cpp", n)), results.get(("transformers", n))
        if a and b and a.get("greedy_ids") and b.get("greedy_ids"):
            ia, ib = a["greedy_ids"], b["greedy_ids"]
            same = next((i for i, (x, y) in enumerate(zip(ia, ib)) if x != y), None)
            agree = (f"identical for all {min(len(ia), len(ib))} tokens" if same is None
                     else f"identical for the first {same} of {min(len(ia), len(ib))} tokens")
            notes.append(f"- Sanity, {n} thread(s): greedy ids of llama.cpp and transformers "
                         f"{agree} ({len(set(ia))} distinct ids).")
    busy = [(e, n, r["background_cores"]) for (e, n), r in results.items()
            if r.get("background_cores", 0) > BACKGROUND_LIMIT]
    if busy:
        notes.append("- WARNING: other processes used the CPU during "
                     + "; ".join(f"{e} at {n} thread(s) ({c:.2f} cores on average)" for e, n, c in busy)
                     + ". Those figures are unreliable; rerun on an idle machine.")
    for (e, n), r in sorted(results.items(), key=lambda kv: (kv[0][1], ENGINES.index(kv[0][0]))):
        runs = r.get("decode_tokens_per_s_all")
        if runs:
            notes.append(f"- {e}, {n} thread(s), decode tok/s per run: "
                         + ", ".join(f"{x:.1f}" for x in runs))
    # Roofline: libspecdec's weight bytes per token against the machine's read bandwidth,
    # and the 16-position pass's arithmetic rate against the kernel path's cached peak.
    for n in args.threads:
        r = results.get(("libspecdec", n))
        if not r or not r.get("projection_bytes"):
            continue
        per_token = r["projection_bytes"] + 4 * r.get("hidden_size", 0)
        streamed = per_token * r["decode_tokens_per_s"] / 1e9
        bw = extra.get("bandwidth", {}).get(n)
        flops16 = 2 * r.get("parameters", 0) * 16 / (r["eval16_ms"] / 1e3) / 1e9 if r.get("eval16_ms") else None
        peak = extra.get("kernel_peak_gflops")
        line = (f"- Roofline, libspecdec at {n} thread(s), path {r.get('kernel_path', '?')}: {per_token / 1e6:.0f} MB of "
                f"weights per token x {r['decode_tokens_per_s']:.1f} tok/s = {streamed:.1f} GB/s"
                + (f" against {bw:.1f} GB/s measured read bandwidth ({streamed / bw:.0%})" if bw else ""))
        if flops16:
            line += (f"; eval16 runs {flops16:.0f} GFLOP/s" + (f" against the path's cached peak of "
                     f"{peak * n:.0f} GFLOP/s ({n} x {peak:.0f}, `specdec kernels`)" if peak else ""))
        notes.append(line + ".")
    out.extend(notes)
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--model", required=True, help="Hugging Face Llama directory")
    ap.add_argument("--gguf", help="GGUF conversion of --model (for llama.cpp)")
    ap.add_argument("--specdec", help="path to the specdec binary (dist/bin/specdec)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--decode-tokens", type=int, default=64)
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--eval-iters", type=int, default=30,
                    help="measurements of eval1 and eval8 per engine (default 30)")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per engine run")
    ap.add_argument("--wait-idle", type=float, default=60,
                    help="before each engine run, wait up to this many seconds for the machine "
                         "to be idle (default 60; 0 disables)")
    ap.add_argument("--retries", type=int, default=1,
                    help="rerun an engine up to this many times when other processes used the "
                         "CPU during its run; the least disturbed run is kept (default 1)")
    ap.add_argument("--precision", choices=["fp32", "bf16", "int8"], default="fp32",
                    help="weights of every engine: fp32, bf16 (BF16 GGUF) or int8 (Q8_0 GGUF)")
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--skip-llama-cpp", action="store_true")
    ap.add_argument("--skip-specdec", action="store_true")
    ap.add_argument("--json-out", help="also write all results as JSON here")
    ap.add_argument("--worker", choices=["llama.cpp", "transformers"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if len(args.threads) == 1 and args.worker:
        args.threads = args.threads[0]

    if args.worker:
        return worker(args)

    if not os.path.isfile(os.path.join(args.model, "config.json")):
        ap.error(f"--model {args.model}: no config.json")
    engines = [e for e in ENGINES
               if not (e == "transformers" and (args.skip_transformers or args.precision != "fp32"))
               and not (e == "llama.cpp" and (args.skip_llama_cpp or not args.gguf))
               and not (e == "libspecdec" and args.skip_specdec)]
    if not args.gguf and not args.skip_llama_cpp:
        log("no --gguf given: skipping llama.cpp")

    results, errors, extra = {}, {}, {}
    for n in args.threads:
        for e in engines:
            t0 = time.time()
            obj, err = None, ""
            for attempt in range(1 + max(0, args.retries)):
                if not wait_for_idle(args.wait_idle):
                    log(f"the machine did not become idle within {args.wait_idle:.0f} s; measuring anyway")
                log(f"{e}, {n} thread(s) ..." + (f" (retry {attempt})" if attempt else ""))
                o, err = run_engine(e, n, args)
                if o is None:
                    break
                if obj is None or o.get("background_cores", 0) < obj.get("background_cores", 0):
                    obj = o
                bg = o.get("background_cores", 0)
                if bg <= BACKGROUND_LIMIT:
                    break
                log(f"{e}, {n} thread(s): other processes used {bg:.2f} cores meanwhile")
            if obj is None:
                errors[(e, n)] = err
                log(f"{e}, {n} thread(s): FAILED: {err}")
            else:
                results[(e, n)] = obj
                if obj.get("system_info"):
                    extra["llama_system_info"] = obj["system_info"]
                log(f"{e}, {n} thread(s): {obj['decode_tokens_per_s']:.1f} tok/s, eval1 "
                    f"{obj['eval1_ms']:.2f} ms, eval8 {obj['eval8_ms']:.2f} ms "
                    f"({time.time() - t0:.0f} s)")
            time.sleep(1.0)  # let the previous engine's threads go idle

    if not args.skip_specdec and args.specdec:
        extra["bandwidth"] = {n: memory_read_gbs(n) for n in args.threads}
        kind = {"fp32": None, "bf16": "bf16", "int8": "int8"}[args.precision]
        try:
            k = json.loads(subprocess.run([args.specdec, "kernels", "--stream-mb", "16", "--json"], capture_output=True,
                                          text=True, timeout=600).stdout.splitlines()[-1])
            best = [x for x in k["results"] if x["weights"] == kind]
            if best:
                extra["kernel_peak_gflops"] = best[-1]["multi_gflops"]
        except (OSError, ValueError, IndexError, KeyError, subprocess.TimeoutExpired):
            pass
    text = report(args, results, errors, extra)
    sys.stdout.write(text)
    sys.stdout.flush()
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump([{"engine": e, "threads": n, **r} for (e, n), r in results.items()]
                      + [{"engine": e, "threads": n, "error": m} for (e, n), m in errors.items()],
                      f, indent=1)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
