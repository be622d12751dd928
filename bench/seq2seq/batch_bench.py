#!/usr/bin/env python3
"""Batched translation speed: libspecdec's translate_batch against CTranslate2's
translate_batch on the shipped English-German pair, in one run.

    python bench/seq2seq/batch_bench.py --model DIR --ct2 CT2_DIR --drafter DIR --shipped DIR \
        [--sentences 500] [--batch-sizes 1 8 32 64] [--threads 1 2] [--precisions fp32 int8] \
        [--repeats 3] [--json-out FILE]

Both engines translate the same --sentences lines of models/specdec-en-de-test/test.en
(tokenized once with the pair's SentencePiece model), greedy, at most 128 new tokens, with
max_batch_size = batch size (CTranslate2, batch_type "examples": it sorts the batch by
length) and batch_size = batch size (libspecdec: a sequence that finishes leaves the batch
and the next source takes its slot). --model is the verifier with its <pad> embedding row
set to zero (run_batch.sh makes it): CTranslate2's Marian converter starts the decoder
from a zero vector instead of <pad>'s row, so only then do both engines compute the same
model. libspecdec runs in-process through the Python bindings (libspecdec.so), CTranslate2
through its Python package; each (engine, precision, threads) runs in a worker process of
its own, one after another, so no two thread pools compete.
SPECDEC_KERNEL_PATH=avx2 CT2_FORCE_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 in the environment pins
both engines to one instruction set (CTranslate2's own kernels, and the oneDNN GEMMs it uses on
non-Intel CPUs); the report names what each ran.

  sentences/s  sentences / wall time of the whole translate_batch call (encoder included),
               median of --repeats after one warm-up call;
  tokens/s     target tokens (EOS not counted) / the same time.

SpecDec rows: the shipped verifier (--shipped) with the shipped Spec-Drafter (--drafter),
beta = 1 (output identical to greedy), against libspecdec's batched greedy on the same
verifier, at batch 8 and 32. The markdown report goes to stdout, progress to stderr.
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
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from bench_support import cpu_busy_seconds, cpu_flags_summary, cpu_model, median, mem_total_gib, pkg_version  # noqa: E402

EOS_ID = 0
MAX_NEW_TOKENS = 128
CT2_COMPUTE_TYPE = {"fp32": "float32", "int8": "int8", "bf16": "bfloat16"}


def log(msg: str) -> None:
    print(f"[batch_bench] {msg}", file=sys.stderr, flush=True)


def load_sources(model_dir: str, count: int) -> list[list[int]]:
    sys.path.insert(0, os.path.join(ROOT, "Bindings", "python"))
    import specdec
    with open(os.path.join(ROOT, "models", "specdec-en-de-test", "test.en"), encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f][:count]
    tokenizer = specdec.Tokenizer.load(model_dir)
    return [tokenizer.encode(line) for line in lines]


def strip_eos(ids: list[int]) -> list[int]:
    return ids[:-1] if ids and ids[-1] == EOS_ID else ids


# -- workers ------------------------------------------------------------------------------

def run_libspecdec(args, sources, batch_sizes):
    sys.path.insert(0, os.path.join(ROOT, "Bindings", "python"))
    import specdec
    model = specdec.Model(args.model_dir, weights=args.precision)
    biggest = max(batch_sizes)
    session = specdec.Session(model, kv_capacity=MAX_NEW_TOKENS + 2, n_threads=args.threads,
                              max_sequences=biggest, max_batch=max(64, biggest))
    options = {}
    if args.speculative:
        draft = specdec.Model(args.drafter, weights=args.precision)
        options = dict(drafter="specdec", draft_model=draft, draft_length=draft_length(args.drafter),
                       acceptance="topk", beta=1)
    results = {}
    for batch in batch_sizes:
        session.translate_batch(sources[:batch], max_new_tokens=MAX_NEW_TOKENS, batch_size=batch, **options)
        times, outputs = [], None
        for _ in range(args.repeats):
            start = time.perf_counter()
            outputs = session.translate_batch(sources, max_new_tokens=MAX_NEW_TOKENS, batch_size=batch, **options)
            times.append(time.perf_counter() - start)
        stats = session.stats
        results[batch] = dict(times=times, outputs=[strip_eos(o) for o in outputs],
                              target_calls=stats.target_calls, drafted=stats.drafted_tokens, accepted=stats.accepted_tokens)
    return results


def run_ctranslate2(args, sources, batch_sizes):
    import ctranslate2
    with open(os.path.join(args.model_dir, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    id_to_token = {i: t for t, i in vocab.items()}
    translator = ctranslate2.Translator(args.ct2, device="cpu", compute_type=CT2_COMPUTE_TYPE[args.precision],
                                        inter_threads=1, intra_threads=args.threads)
    # CTranslate2 adds no EOS to Marian sources: they go in as the tokens of the same ids.
    tokens = [[id_to_token[i] for i in s] for s in sources]
    results = {}
    for batch in batch_sizes:
        translator.translate_batch(tokens[:batch], max_batch_size=batch, beam_size=1, max_decoding_length=MAX_NEW_TOKENS)
        times, outputs = [], None
        for _ in range(args.repeats):
            start = time.perf_counter()
            out = translator.translate_batch(tokens, max_batch_size=batch, beam_size=1, max_decoding_length=MAX_NEW_TOKENS)
            times.append(time.perf_counter() - start)
            outputs = [[vocab[t] for t in r.hypotheses[0]] for r in out]
        results[batch] = dict(times=times, outputs=outputs)
    return results


def draft_length(drafter_dir: str) -> int:
    with open(os.path.join(drafter_dir, "config.json"), encoding="utf-8") as f:
        return int(json.load(f)["block_size"])


def worker(args) -> None:
    with open(args.sources_file, encoding="utf-8") as f:
        sources = json.load(f)
    batch_sizes = [int(b) for b in args.batch_sizes]
    args.threads = args.threads[0]  # a worker runs one thread count
    run = run_ctranslate2 if args.worker == "CTranslate2" else run_libspecdec
    print(json.dumps({str(k): v for k, v in run(args, sources, batch_sizes).items()}))


# -- driver -------------------------------------------------------------------------------

def spawn(args, engine: str, model_dir: str, precision: str, threads: int, batch_sizes, sources_file: str,
          speculative: bool = False) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", engine, "--model-dir", model_dir, "--ct2", args.ct2,
           "--drafter", args.drafter, "--precision", precision, "--threads", str(threads), "--repeats", str(args.repeats),
           "--sources-file", sources_file, "--batch-sizes", *[str(b) for b in batch_sizes]]
    if speculative:
        cmd.append("--speculative")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    busy_before, wall_before = cpu_busy_seconds(), time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        log(f"{engine} {precision} {threads} threads failed:\n{proc.stderr[-2000:]}")
        return None
    result = {int(k): v for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}
    busy_after = cpu_busy_seconds()
    if busy_before is not None and busy_after is not None:
        wall = time.time() - wall_before
        log(f"{engine} {precision} {threads}t: machine busy {(busy_after - busy_before) / wall:.2f} cores on average")
    return result


def rates(result: dict, batch: int, count: int) -> tuple[float, float]:
    t = median(result[batch]["times"])
    tokens = sum(len(o) for o in result[batch]["outputs"])
    return count / t, tokens / t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="the verifier with a zero <pad> row (both engines)")
    p.add_argument("--ct2", required=True, help="its CTranslate2 conversion")
    p.add_argument("--shipped", help="the shipped verifier (SpecDec rows)")
    p.add_argument("--drafter", required=True, help="the shipped Spec-Drafter")
    p.add_argument("--sentences", type=int, default=500)
    p.add_argument("--batch-sizes", nargs="+", default=["1", "8", "32", "64"])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--precisions", nargs="+", default=["fp32", "int8"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json-out")
    # worker mode
    p.add_argument("--worker")
    p.add_argument("--model-dir")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--sources-file")
    p.add_argument("--speculative", action="store_true")
    args = p.parse_args()
    if args.worker:
        worker(args)
        return

    sources = load_sources(args.model, args.sentences)
    sources_file = os.path.join(ROOT, "bench", "work", "batch-sources.json")
    os.makedirs(os.path.dirname(sources_file), exist_ok=True)
    with open(sources_file, "w", encoding="utf-8") as f:
        json.dump(sources, f)
    batch_sizes = [int(b) for b in args.batch_sizes]
    report = {"sentences": len(sources), "source_tokens": sum(len(s) for s in sources), "rows": [], "specdec": []}
    for precision in args.precisions:
        for threads in args.threads:
            log(f"{precision}, {threads} thread(s)")
            ours = spawn(args, "libspecdec", args.model, precision, threads, batch_sizes, sources_file)
            theirs = spawn(args, "CTranslate2", args.model, precision, threads, batch_sizes, sources_file)
            for batch in batch_sizes:
                row = dict(precision=precision, threads=threads, batch=batch)
                if ours:
                    row["libspecdec"] = rates(ours, batch, len(sources))
                    row["libspecdec_times"] = ours[batch]["times"]
                if theirs:
                    row["CTranslate2"] = rates(theirs, batch, len(sources))
                    row["CTranslate2_times"] = theirs[batch]["times"]
                if ours and theirs:
                    a, b = ours[batch]["outputs"], theirs[batch]["outputs"]
                    row["identical"] = sum(1 for x, y in zip(a, b) if x == y)
                report["rows"].append(row)
    if args.shipped:
        spec_batches = [b for b in (8, 32) if b in batch_sizes] or [8]
        for precision in args.precisions:
            threads = max(args.threads)
            log(f"SpecDec, {precision}, {threads} thread(s)")
            greedy = spawn(args, "libspecdec", args.shipped, precision, threads, spec_batches, sources_file)
            spec = spawn(args, "libspecdec", args.shipped, precision, threads, spec_batches, sources_file, speculative=True)
            for batch in spec_batches:
                if not (greedy and spec):
                    continue
                g, s = rates(greedy, batch, len(sources)), rates(spec, batch, len(sources))
                identical = sum(1 for x, y in zip(greedy[batch]["outputs"], spec[batch]["outputs"]) if x == y)
                # A sequence's round (one verifier pass for it) emits its accepted drafts and
                # one token of the verifier's own; a batched pass runs every sequence's round.
                generated = sum(len(o) + 1 for o in spec[batch]["outputs"])  # EOS included
                rounds = generated - spec[batch]["accepted"]
                report["specdec"].append(dict(precision=precision, threads=threads, batch=batch, greedy=g, specdec=s,
                                              identical=identical, target_calls=spec[batch]["target_calls"],
                                              tokens_per_round=(generated / rounds) if rounds else 0.0))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    print(markdown(report, args))


def libspecdec_version() -> str:
    sys.path.insert(0, os.path.join(ROOT, "Bindings", "python"))
    import specdec
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return f"{specdec.version_string()} (commit {commit or 'unknown'})"


def kernel_selection() -> str:
    """Which instruction set each engine ran: SPECDEC_KERNEL_PATH and CT2_FORCE_CPU_ISA pin them."""
    sys.path.insert(0, os.path.join(ROOT, "Bindings", "python"))
    import specdec
    ours = os.environ.get("SPECDEC_KERNEL_PATH") or f"{specdec.supported_kernel_paths()[-1]} (the fastest this CPU runs)"
    theirs = os.environ.get("CT2_FORCE_CPU_ISA") or "its own dispatch"
    gemm = os.environ.get("ONEDNN_MAX_CPU_ISA") or "its own dispatch"
    return f"libspecdec path {ours}; CTranslate2 {theirs}, oneDNN {gemm}"


def describe(model_dir: str) -> str:
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    return (f"Marian, {c['encoder_layers']}+{c['decoder_layers']} layers, d_model {c['d_model']}, "
            f"{c['encoder_attention_heads']} heads, FFN {c['encoder_ffn_dim']}, vocabulary {c['vocab_size']}")


def markdown(report: dict, args) -> str:
    n = report["sentences"]
    lines = [
        "## Batched translation: libspecdec vs CTranslate2 translate_batch",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Machine: {cpu_model()}; {os.cpu_count()} logical CPUs; {cpu_flags_summary()}; RAM {mem_total_gib()}; "
        f"Linux {platform.release()}; Python {platform.python_version()}",
        f"- Versions: libspecdec {libspecdec_version()}; ctranslate2 {pkg_version('ctranslate2')}",
        f"- Kernels: {kernel_selection()}",
        f"- Model: the shipped verifier ({describe(args.model)}) with its <pad> embedding row zeroed for both engines "
        f"(see the script's docstring); CTranslate2 converted at float32 and run with compute_type float32 / int8, "
        f"libspecdec with weights fp32 / int8.",
        f"- Workload: the first {n} sentences of models/specdec-en-de-test/test.en ({report['source_tokens']} source "
        f"tokens), greedy, at most {MAX_NEW_TOKENS} new tokens; one translate_batch call over all of them per repeat; "
        f"median of {args.repeats} repeats after a warm-up; each engine in its own process.",
        "",
        "| precision | threads | batch | libspecdec sent/s | CTranslate2 sent/s | libspecdec tok/s | CTranslate2 tok/s | libspecdec / CTranslate2 | identical outputs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["rows"]:
        ours, theirs = row.get("libspecdec"), row.get("CTranslate2")
        ratio = f"{ours[0] / theirs[0]:.2f}x" if ours and theirs else "n/a"
        fmt = lambda r, i: f"{r[i]:.1f}" if r else "n/a"  # noqa: E731
        lines.append(f"| {row['precision']} | {row['threads']} | {row['batch']} | {fmt(ours, 0)} | {fmt(theirs, 0)} | "
                     f"{fmt(ours, 1)} | {fmt(theirs, 1)} | {ratio} | {row.get('identical', 'n/a')}/{n} |")
    if report["specdec"]:
        lines += [
            "",
            "SpecDec (the shipped pair, beta = 1, output identical to greedy) against libspecdec's batched greedy. "
            "Each round drafts for every sequence in one Spec-Drafter pass and verifies every draft in one decoder "
            "pass; tokens per round counts one sequence's tokens (EOS included) per round it took.",
            "",
            "| precision | threads | batch | greedy sent/s | SpecDec sent/s | SpecDec / greedy | tokens per round | batched verifier passes | identical to greedy |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in report["specdec"]:
            lines.append(f"| {row['precision']} | {row['threads']} | {row['batch']} | {row['greedy'][0]:.1f} | "
                         f"{row['specdec'][0]:.1f} | {row['specdec'][0] / row['greedy'][0]:.2f}x | "
                         f"{row['tokens_per_round']:.2f} | {row['target_calls']} | {row['identical']}/{n} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
