#!/usr/bin/env python3
"""Encoder-decoder decoding speed: libspecdec vs CTranslate2 vs Hugging Face transformers.

    python bench/seq2seq/seq2seq_bench.py --model HF_DIR --ct2 CT2_DIR --specdec dist/bin/specdec \
        [--threads 1 2] [--beams 1 5] [--repeats 5] [--max-new-tokens 64] [--sources 3] \
        [--source-len 24] [--precision fp32|bf16|int8] [--skip-transformers] [--skip-ct2] \
        [--skip-specdec] [--json-out FILE]

All engines run the same random-initialised Marian weights (HF_DIR for transformers and
libspecdec, its float32 CTranslate2 conversion CT2_DIR) at batch 1 in one precision:
fp32, bf16 (libspecdec --weights bf16 against CTranslate2 compute_type="bfloat16", where
CTranslate2 supports it on this CPU) or int8 (--weights int8 against compute_type="int8");
transformers runs at fp32 only. The same
--sources fixed pseudo-random source sentences of --source-len ids plus EOS. The model
cannot emit EOS (see make_marian_base.py), so every request generates exactly
--max-new-tokens tokens, greedy (--beams 1) and beam search (--beams 5) alike.

For every thread count, engine, beam size and source, each repeat times two requests: one
that generates M = --max-new-tokens tokens and one that generates 1. Then

  decode tok/s   (M - 1) / (T(M) - T(1)), medians over repeats, summed over sources: the
                 steady decoding speed, with the encoder, the first decoder step, and any
                 one-off cost (page faults on first touch, process start) cancelled out;
  request tok/s  M / T(M): the whole request, encoder and first step included.

T is measured around `translate_batch` (CTranslate2) and `generate` (transformers) in a
worker process that has warmed up first, and by libspecdec's own timers (prefill_seconds +
decode_seconds from `specdec generate --json`, i.e. the request without process start-up
and model loading) for libspecdec, whose CLI serves one request per process. The
libspecdec processes are also timed wall-clock from outside; the report gives the decode
tok/s that wall-clock subtraction yields, and the start-up cost (process start + model
load + the 1-token request), as a cross-check.

Engines run one after another, each in its own process(es), so no two thread pools compete
for the cores; the report records how much CPU other processes used meanwhile. The
markdown report goes to stdout, progress to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from bench_support import (children_cpu_seconds, cpu_busy_seconds, cpu_flags_summary, cpu_model,  # noqa: E402
                           last_json_line, median, mem_total_gib, pkg_version)
ROOT = os.path.dirname(os.path.dirname(HERE))
ENGINES = ("libspecdec", "CTranslate2", "CTranslate2 no-MKL", "transformers")
CT2_ENGINES = ("CTranslate2", "CTranslate2 no-MKL")
# Extra environment of each engine's worker. CTranslate2's pip wheel uses Intel MKL for fp32
# GEMM on Intel CPUs; with CT2_USE_MKL=0 it uses oneDNN instead. Both are measured, and the
# ratios are taken against the faster of the two in each row.
ENGINE_ENV = {"CTranslate2": {}, "CTranslate2 no-MKL": {"CT2_USE_MKL": "0"}, "transformers": {}}
EOS_ID = 0
SOURCE_SEED = 4242
BACKGROUND_LIMIT = 0.1   # cores used by other processes during a run before it is flagged
CT2_COMPUTE_TYPE = {"fp32": "float32", "bf16": "bfloat16", "int8": "int8"}


def ct2_supports(compute_type: str) -> bool:
    try:
        import ctranslate2
        return compute_type in ctranslate2.get_supported_compute_types("cpu")
    except Exception:
        return False


def log(msg: str) -> None:
    print(f"[seq2seq_bench] {msg}", file=sys.stderr, flush=True)


def make_sources(n: int, length: int, vocab: int, seed: int = SOURCE_SEED) -> list[list[int]]:
    """Fixed pseudo-random sources: ids in [2, vocab - 1) (no EOS, <unk> or <pad>), then EOS."""
    rng = random.Random(seed)
    return [[rng.randrange(2, vocab - 1) for _ in range(length)] + [EOS_ID] for _ in range(n)]


# ---------------------------------------------------------------------------------------
# Workers: one engine, one thread count, every beam size, source and repeat
# ---------------------------------------------------------------------------------------

class CT2Engine:
    def __init__(self, ct2_dir: str, hf_dir: str, threads: int, compute_type: str = "float32"):
        import ctranslate2
        self.version = f"ctranslate2 {ctranslate2.__version__}, CT2_USE_MKL={os.environ.get('CT2_USE_MKL', 'default')}"
        with open(os.path.join(hf_dir, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.translator = ctranslate2.Translator(ct2_dir, device="cpu", compute_type=compute_type,
                                                 inter_threads=1, intra_threads=threads)

    def request(self, source: list[int], beams: int, max_new: int) -> tuple[float, list[int]]:
        tokens = [self.id_to_token[i] for i in source]
        t0 = time.perf_counter()
        res = self.translator.translate_batch([tokens], beam_size=beams, max_decoding_length=max_new,
                                              length_penalty=1.0, return_scores=False)
        t = time.perf_counter() - t0
        return t, [self.vocab[s] for s in res[0].hypotheses[0]]


class HFEngine:
    def __init__(self, hf_dir: str, threads: int):
        import torch
        import transformers
        from transformers import MarianMTModel
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        self.torch = torch
        self.version = f"transformers {transformers.__version__}, torch {torch.__version__}"
        self.model = MarianMTModel.from_pretrained(hf_dir, dtype=torch.float32).eval()

    def request(self, source: list[int], beams: int, max_new: int) -> tuple[float, list[int]]:
        torch = self.torch
        x = torch.tensor([source])
        mask = torch.ones_like(x)
        with torch.inference_mode():
            t0 = time.perf_counter()
            out = self.model.generate(
                x, attention_mask=mask, do_sample=False, num_beams=beams, max_new_tokens=max_new,
                length_penalty=1.0, early_stopping=False, num_return_sequences=1, use_cache=True,
                forced_bos_token_id=None, forced_eos_token_id=None, no_repeat_ngram_size=0,
                repetition_penalty=1.0)
            t = time.perf_counter() - t0
        ids = out[0, 1:].tolist()  # drop the decoder start token
        while ids and ids[-1] == self.model.config.pad_token_id:
            ids.pop()
        return t, ids


def measure(request, sources: list[list[int]], beams_list: list[int], max_new: int, repeats: int) -> dict:
    """Times request(source, beams, n) for n = max_new and n = 1, interleaved."""
    out = {}
    for beams in beams_list:
        request(sources[0], beams, min(8, max_new))   # warm-up: pages, thread pools, allocators
        per_source = []
        for src in sources:
            full, one, ids = [], [], None
            for _ in range(repeats):
                t1, _ = request(src, beams, 1)
                tm, got = request(src, beams, max_new)
                one.append(t1)
                full.append(tm)
                ids = got
            per_source.append({"t_full": full, "t_one": one, "tokens": ids})
        out[str(beams)] = per_source
    return out


def worker(args) -> int:
    threads = args.threads[0]
    if args.worker in CT2_ENGINES:
        eng = CT2Engine(args.ct2, args.model, threads, CT2_COMPUTE_TYPE[args.precision])
    elif args.worker == "transformers":
        eng = HFEngine(args.model, threads)
    else:
        raise SystemExit(f"unknown worker {args.worker}")
    sources = make_sources(args.sources, args.source_len, vocab_size(args.model))
    info = {"engine": args.worker, "threads": threads, "version": eng.version,
            "runs": measure(eng.request, sources, args.beams, args.max_new_tokens, args.repeats)}
    print(json.dumps(info), flush=True)
    return 0


# ---------------------------------------------------------------------------------------
# libspecdec: one `specdec generate` process per request
# ---------------------------------------------------------------------------------------

def specdec_request(args, threads: int, source: list[int], beams: int, max_new: int):
    cmd = [args.specdec, "generate", "--model", args.model,
           "--source-ids", ",".join(map(str, source)), "--max-new-tokens", str(max_new),
           "--threads", str(threads), "--weights", args.precision, "--json"]
    if beams > 1:
        cmd[-1:-1] = ["--beams", str(beams), "--length-penalty", "1"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-4:]
        raise RuntimeError(f"exit status {p.returncode}: " + " | ".join(tail))
    obj = last_json_line(p.stdout)
    if obj is None or "stats" not in obj:
        raise RuntimeError("no JSON object with stats on the last stdout line")
    s = obj["stats"]
    return s["prefill_seconds"] + s["decode_seconds"], wall, obj.get("tokens", [])


def run_specdec(args, threads: int, sources: list[list[int]]) -> dict:
    info = {"engine": "libspecdec", "threads": threads, "version": specdec_version(args.specdec), "runs": {}}
    for beams in args.beams:
        specdec_request(args, threads, sources[0], beams, min(8, args.max_new_tokens))  # page cache
        per_source = []
        for src in sources:
            full, one, wfull, wone, ids = [], [], [], [], None
            for _ in range(args.repeats):
                t1, w1, _ = specdec_request(args, threads, src, beams, 1)
                tm, wm, got = specdec_request(args, threads, src, beams, args.max_new_tokens)
                one.append(t1), full.append(tm), wone.append(w1), wfull.append(wm)
                ids = got
            per_source.append({"t_full": full, "t_one": one, "wall_full": wfull, "wall_one": wone,
                               "tokens": ids})
        info["runs"][str(beams)] = per_source
    return info


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------

def vocab_size(hf_dir: str) -> int:
    with open(os.path.join(hf_dir, "config.json")) as f:
        return json.load(f)["vocab_size"]


def wait_for_idle(max_wait: float, quiet_for: float = 4.0, threshold: float = 0.08) -> bool:
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


def run_engine(engine: str, threads: int, args, sources) -> tuple[dict | None, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    env.update(ENGINE_ENV.get(engine, {}))
    if engine in CT2_ENGINES:
        env["CT2_VERBOSE"] = "1"   # logs the GEMM backend it selected (stderr)
    busy0, own0, t0 = cpu_busy_seconds(), children_cpu_seconds(), time.perf_counter()
    try:
        if engine == "libspecdec":
            if not args.specdec or not os.access(args.specdec, os.X_OK):
                return None, f"specdec binary not found at {args.specdec!r} (bash scripts/build.sh builds dist/bin/specdec)"
            obj = run_specdec(args, threads, sources)
        else:
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine, "--model", args.model,
                   "--ct2", args.ct2 or "", "--threads", str(threads), "--beams", *map(str, args.beams),
                   "--repeats", str(args.repeats), "--max-new-tokens", str(args.max_new_tokens),
                   "--sources", str(args.sources), "--source-len", str(args.source_len), "--precision", args.precision]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
            if p.returncode != 0:
                tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-6:]
                return None, f"exit status {p.returncode}: " + " | ".join(tail)
            obj = last_json_line(p.stdout)
            if obj is None:
                return None, "no JSON object on the last stdout line"
            m = re.search(r"SGEMM backend: (\S+)", p.stderr)
            if m:
                obj["sgemm_backend"] = m.group(1)
                obj["version"] += f", SGEMM backend {m.group(1)}"
    except subprocess.TimeoutExpired:
        return None, f"timed out after {args.timeout:.0f} s"
    except (OSError, RuntimeError) as e:
        return None, str(e)
    busy1, own1, t1 = cpu_busy_seconds(), children_cpu_seconds(), time.perf_counter()
    if busy0 is not None and busy1 is not None and t1 > t0:
        obj["background_cores"] = max(0.0, ((busy1 - busy0) - (own1 - own0)) / (t1 - t0))
    obj["elapsed_s"] = t1 - t0
    summarise(obj, args.max_new_tokens)
    return obj, ""


def summarise(obj: dict, max_new: int) -> None:
    """Adds per-beam rates: decode tok/s (subtraction), request tok/s, and for libspecdec
    the wall-clock figures."""
    obj["summary"] = {}
    for beams, per_source in obj["runs"].items():
        gen = [len(s["tokens"]) for s in per_source]
        d_full = sum(median(s["t_full"]) for s in per_source)
        d_one = sum(median(s["t_one"]) for s in per_source)
        steps = sum(g - 1 for g in gen)
        r = {"generated": gen,
             "decode_tok_s": steps / (d_full - d_one) if d_full > d_one else None,
             "request_tok_s": sum(gen) / d_full if d_full > 0 else None,
             "request_ms": 1e3 * d_full / len(per_source),
             "one_token_ms": 1e3 * d_one / len(per_source),
             "decode_tok_s_per_repeat": []}
        # Spread: the same rate from each repeat index (sources summed), to show the noise.
        n_rep = min(len(s["t_full"]) for s in per_source)
        for k in range(n_rep):
            f = sum(s["t_full"][k] for s in per_source)
            o = sum(s["t_one"][k] for s in per_source)
            r["decode_tok_s_per_repeat"].append(steps / (f - o) if f > o else None)
        if "wall_full" in per_source[0]:
            w_full = sum(median(s["wall_full"]) for s in per_source)
            w_one = sum(median(s["wall_one"]) for s in per_source)
            r["wall_decode_tok_s"] = steps / (w_full - w_one) if w_full > w_one else None
            r["startup_ms"] = 1e3 * w_one / len(per_source)
        obj["summary"][beams] = r


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

def specdec_version(exe: str | None) -> str:
    if not exe or not os.path.isfile(exe):
        return "not built"
    ver = "?"
    try:
        with open(os.path.join(ROOT, "include", "specdec.h")) as f:
            for line in f:
                if line.startswith("#define SPECDEC_VERSION_STRING"):
                    ver = line.split(None, 2)[2].strip().strip('"')
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if rev:
            ver += f" (commit {rev}{', modified tree' if dirty else ''})"
    except (OSError, subprocess.TimeoutExpired):
        pass
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(exe)))
    return f"{ver}, binary built {built}"


def model_summary(hf_dir: str) -> str:
    try:
        with open(os.path.join(hf_dir, "config.json")) as f:
            c = json.load(f)
        return (f"MarianMTModel, random weights: {c['encoder_layers']}+{c['decoder_layers']} layers, "
                f"d_model {c['d_model']}, {c['encoder_attention_heads']} heads, FFN {c['encoder_ffn_dim']} "
                f"({c['activation_function']}), shared vocabulary {c['vocab_size']}, "
                f"{'tied' if c.get('tie_word_embeddings') else 'untied'} output projection")
    except (OSError, KeyError, ValueError):
        return "?"


def fmt(x, spec=".1f"):
    return "n/a" if x is None else format(x, spec)


def search_name(beams: str) -> str:
    return "greedy" if beams == "1" else f"beam {beams}"


def first_difference(a: list[int], b: list[int]) -> int | None:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def report(args, results: dict, errors: dict) -> str:
    engines = [e for e in ENGINES if any(k[0] == e for k in list(results) + list(errors))]
    out = ["## Encoder-decoder decoding speed", ""]
    out.append(f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    out.append(f"- Machine: {cpu_model()}; {os.cpu_count()} logical CPUs; {cpu_flags_summary()}; "
               f"RAM {mem_total_gib()}; {platform.system()} {platform.release()}; Python {platform.python_version()}")
    out.append(f"- Versions: libspecdec {specdec_version(args.specdec)}; ctranslate2 {pkg_version('ctranslate2')}; "
               f"transformers {pkg_version('transformers')}; torch {pkg_version('torch')}")
    out.append(f"- Model: {model_summary(args.model)}; precision {args.precision}: libspecdec `--weights {args.precision}`, "
               f"CTranslate2 converted with `--quantization float32` and run with "
               f"`compute_type=\"{CT2_COMPUTE_TYPE[args.precision]}\"`; transformers fp32")
    out.append(f"- Workload: batch 1; {args.sources} sources of {args.source_len} ids + EOS; "
               f"{args.max_new_tokens} new tokens per request (EOS cannot be generated); "
               f"median of {args.repeats} repeats; length penalty 1.")
    out.append("- decode tok/s = (M-1) / (T(M tokens) - T(1 token)); request tok/s = M / T(M) "
               "(encoder included; libspecdec without process start-up and model loading).")
    out.append("")
    ct2s = [e for e in engines if e in CT2_ENGINES]
    ref_name = ct2s[0] if len(ct2s) == 1 else "best CTranslate2"
    others = [e for e in engines if e not in CT2_ENGINES]
    out.append("Decode tokens/s (higher is better):")
    out.append("")
    out.append("| threads | search | " + " | ".join(engines)
               + "".join(f" | {e} / {ref_name}" for e in others) + " |")
    out.append("|---:|---|" + "---:|" * (len(engines) + len(others)))
    for n in args.threads:
        for b in map(str, args.beams):
            row = [str(n), search_name(b)]
            rates = {}
            for e in engines:
                r = results.get((e, n))
                rates[e] = r["summary"][b]["decode_tok_s"] if r and b in r["summary"] else None
            ref = max((rates[e] for e in ct2s if rates.get(e)), default=None)
            for e in engines:
                cell = fmt(rates[e])
                if len(ct2s) > 1 and e in ct2s and rates[e] and rates[e] == ref:
                    cell = f"**{cell}**"
                row.append(cell)
            for e in others:
                row.append(f"{rates[e] / ref:.2f}x" if rates.get(e) and ref else "n/a")
            out.append("| " + " | ".join(row) + " |")
    if len(ct2s) > 1:
        out.append("")
        out.append(f"Ratios are against the faster CTranslate2 configuration of each row (in bold): "
                   f"`CTranslate2` is the wheel's default (Intel MKL SGEMM on Intel CPUs), "
                   f"`CTranslate2 no-MKL` the same with `CT2_USE_MKL=0` (oneDNN SGEMM).")
    out.append("")
    out.append("Whole requests (encoder, first step and all decoding steps; ms per request, tokens/s):")
    out.append("")
    out.append("| threads | search | " + " | ".join(f"{e} ms (tok/s)" for e in engines) + " |")
    out.append("|---:|---|" + "---:|" * len(engines))
    for n in args.threads:
        for b in map(str, args.beams):
            row = [str(n), search_name(b)]
            for e in engines:
                r = results.get((e, n))
                s = r["summary"].get(b) if r else None
                row.append(f"{s['request_ms']:.0f} ({fmt(s['request_tok_s'])})" if s else "n/a")
            out.append("| " + " | ".join(row) + " |")
    out.append("")

    notes = []
    backends = sorted({(e, r["sgemm_backend"]) for (e, n), r in results.items() if r.get("sgemm_backend")})
    if backends:
        notes.append("- CTranslate2 SGEMM backend (from CT2_VERBOSE): "
                     + "; ".join(f"{e}: {bk}" for e, bk in backends) + ".")
    for (e, n), msg in errors.items():
        notes.append(f"- {e} at {n} thread(s) did not run: {msg}")
    # Agreement of outputs across engines.
    for n in args.threads:
        for b in map(str, args.beams):
            runs = {e: results[(e, n)]["runs"][b] for e in engines if (e, n) in results and b in results[(e, n)]["runs"]}
            if len(runs) < 2:
                continue
            names = list(runs)
            base = names[0]
            parts = []
            for e in names[1:]:
                diffs = [first_difference(a["tokens"], c["tokens"]) for a, c in zip(runs[base], runs[e])]
                same = sum(d is None for d in diffs)
                desc = f"{base} = {e}: {same}/{len(diffs)} sources identical"
                bad = [f"source {i} differs from token {d}" for i, d in enumerate(diffs) if d is not None]
                if bad:
                    desc += " (" + ", ".join(bad) + ")"
                parts.append(desc)
            gen = sorted({g for e in names for g in results[(e, n)]["summary"][b]["generated"]})
            notes.append(f"- Outputs, {search_name(b)}, {n} thread(s): " + "; ".join(parts)
                         + f"; tokens generated per request: {', '.join(map(str, gen))}.")
    for n in args.threads:
        r = results.get(("libspecdec", n))
        if not r:
            continue
        for b in map(str, args.beams):
            s = r["summary"].get(b)
            if s and s.get("wall_decode_tok_s"):
                notes.append(f"- libspecdec, {search_name(b)}, {n} thread(s): wall-clock cross-check "
                             f"{s['wall_decode_tok_s']:.1f} decode tok/s (vs {fmt(s['decode_tok_s'])} from its "
                             f"timers); a 1-token request takes {s['startup_ms']:.0f} ms wall-clock "
                             f"(process start, model load, encoder, one step) against "
                             f"{s['one_token_ms']:.1f} ms in-process.")
    busy = [(e, n, r["background_cores"]) for (e, n), r in results.items()
            if r.get("background_cores", 0) > BACKGROUND_LIMIT]
    if busy:
        notes.append("- WARNING: other processes used the CPU during "
                     + "; ".join(f"{e} at {n} thread(s) ({c:.2f} cores on average)" for e, n, c in busy)
                     + ". Those figures are unreliable; rerun on an idle machine.")
    else:
        notes.append("- Other processes used at most "
                     + f"{max((r.get('background_cores', 0) for r in results.values()), default=0):.2f}"
                     + " cores during any engine's run.")
    for (e, n), r in sorted(results.items(), key=lambda kv: (kv[0][1], ENGINES.index(kv[0][0]))):
        for b, s in r["summary"].items():
            per = s.get("decode_tok_s_per_repeat") or []
            if per:
                notes.append(f"- {e}, {search_name(b)}, {n} thread(s), decode tok/s per repeat: "
                             + ", ".join(fmt(x) for x in per))
    out.extend(notes)
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--model", required=True, help="Hugging Face Marian directory")
    ap.add_argument("--ct2", help="its CTranslate2 conversion (for CTranslate2)")
    ap.add_argument("--specdec", default=os.path.join(ROOT, "dist", "bin", "specdec"),
                    help="the specdec binary (default dist/bin/specdec)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--sources", type=int, default=3)
    ap.add_argument("--source-len", type=int, default=24)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per engine run")
    ap.add_argument("--wait-idle", type=float, default=20,
                    help="before each engine run, wait up to this many seconds for the machine to be idle (0: never)")
    ap.add_argument("--precision", choices=["fp32", "bf16", "int8"], default="fp32")
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--skip-ct2", action="store_true")
    ap.add_argument("--skip-specdec", action="store_true")
    ap.add_argument("--json-out", help="also write all measurements as JSON here")
    ap.add_argument("--worker", choices=[*CT2_ENGINES, "transformers"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.max_new_tokens < 2:
        ap.error("--max-new-tokens must be at least 2")

    if args.worker:
        return worker(args)

    if not os.path.isfile(os.path.join(args.model, "config.json")):
        ap.error(f"--model {args.model}: no config.json")
    engines = [e for e in ENGINES
               if not (e == "transformers" and (args.skip_transformers or args.precision != "fp32"))
               and not (e in CT2_ENGINES and (args.skip_ct2 or not args.ct2))
               and not (e == "libspecdec" and args.skip_specdec)]
    sources = make_sources(args.sources, args.source_len, vocab_size(args.model))
    results, errors = {}, {}
    if not ct2_supports(CT2_COMPUTE_TYPE[args.precision]):
        for n in args.threads:
            errors[("CTranslate2", n)] = (f"CTranslate2 {pkg_version('ctranslate2')} has no compute_type "
                                          f"{CT2_COMPUTE_TYPE[args.precision]} on this CPU")
        engines = [e for e in engines if e not in CT2_ENGINES]
    for n in args.threads:
        for e in engines:
            if not wait_for_idle(args.wait_idle):
                log(f"the machine did not become idle within {args.wait_idle:.0f} s; measuring anyway")
            log(f"{e}, {n} thread(s) ...")
            obj, err = run_engine(e, n, args, sources)
            if obj is None:
                errors[(e, n)] = err
                log(f"{e}, {n} thread(s): FAILED: {err}")
                continue
            results[(e, n)] = obj
            log(f"{e}, {n} thread(s): " + ", ".join(
                f"{search_name(b)} {fmt(s['decode_tok_s'])} decode tok/s" for b, s in obj["summary"].items())
                + f" ({obj['elapsed_s']:.0f} s, background {obj.get('background_cores', 0):.2f} cores)")
            time.sleep(1.0)

    sys.stdout.write(report(args, results, errors))
    sys.stdout.flush()
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump([{"engine": e, "threads": n, **r} for (e, n), r in results.items()]
                      + [{"engine": e, "threads": n, "error": m} for (e, n), m in errors.items()], f, indent=1)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
