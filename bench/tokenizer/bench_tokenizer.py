#!/usr/bin/env python3
"""Tokenizer throughput: SpecDecTokenizers against the reference packages, in one run.

Encodes every line of Tests/Fixtures/tokenizers/corpus.jsonl (without special tokens)
and prints the median MB/s of N runs for each tokenizer, our runs alternating with the
reference's so that both see the same machine load; times are process CPU time (steadier
than wall time on a shared machine), with one working thread on both sides:
  ours            the Swift TokenizerBench executable (one thread)
  tokenizers      `tokenizers` Tokenizer.encode per line, RAYON_NUM_THREADS=1
  tokenizers-b    `tokenizers` encode_batch of the whole corpus on one Rayon thread
  sentencepiece   SentencePieceProcessor.encode per line (one thread)

Usage: bench_tokenizer.py [--bench PATH_TO_TokenizerBench] [--runs 5]
The Swift executable is the package's TokenizerBench product
(swift build -c release --product TokenizerBench); see README.md.
"""
import argparse
import json
import os
import subprocess
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers")
HF = ["bytelevel-bpe", "llama3-bpe", "qwen2-bpe", "metaspace-bpe", "unigram", "wordpiece", "precompiled-unigram"]
SP = ["sp-unigram", "sp-bpe"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default=os.environ.get("TOKENIZER_BENCH", ".build/release/TokenizerBench"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    corpus_path = os.path.join(FIXTURES, "corpus.jsonl")
    with open(corpus_path, encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f]
    megabytes = sum(len(t.encode()) for t in corpus) / 1e6

    paths = {name: os.path.join(FIXTURES, name, "tokenizer.json") for name in HF}
    paths.update({name: os.path.join(FIXTURES, name, "tokenizer.model") for name in SP})

    from tokenizers import Tokenizer
    import sentencepiece as spm

    def ours_once(name):
        # One timed pass per call, so that our runs and the reference's alternate and share
        # whatever load the machine has at the time.
        output = subprocess.run([args.bench, corpus_path, "1", f"{name}={paths[name]}"],
                                check=True, capture_output=True, text=True).stdout.split()
        return float(output[1]), int(output[2])

    def once(function):
        # CPU time of this process (one thread works), as the Swift side measures.
        start = time.process_time()
        function()
        return time.process_time() - start

    print(f"corpus: {len(corpus)} lines, {megabytes:.2f} MB; median of {args.runs} alternating runs; MB/s, one thread")
    print(f"{'tokenizer':<20}{'ours':>8}{'reference':>11}{'ref batch':>11}{'ours/best ref':>15}  ids (ours/ref)")
    for name in HF + SP:
        if name in HF:
            tok = Tokenizer.from_file(paths[name])
            count = sum(len(tok.encode(t, add_special_tokens=False).ids) for t in corpus)
            per_line = lambda: [tok.encode(t, add_special_tokens=False) for t in corpus]
            batch = lambda: tok.encode_batch(corpus, add_special_tokens=False)
        else:
            sp = spm.SentencePieceProcessor(model_file=paths[name], num_threads=1)
            count = sum(len(sp.encode(t)) for t in corpus)
            per_line = lambda: [sp.encode(t) for t in corpus]
            batch = lambda: sp.encode(corpus, num_threads=1)
        mine, reference, reference_batch = [], [], []
        our_count = -1
        for _ in range(args.runs):
            speed, our_count = ours_once(name)
            mine.append(speed)
            reference.append(megabytes / once(per_line))
            reference_batch.append(megabytes / once(batch))
        median = lambda values: sorted(values)[len(values) // 2]
        best = max(median(reference), median(reference_batch))
        print(f"{name:<20}{median(mine):>8.2f}{median(reference):>11.2f}{median(reference_batch):>11.2f}"
              f"{median(mine) / best:>15.2f}  {our_count}/{count}")


if __name__ == "__main__":
    sys.exit(main())
