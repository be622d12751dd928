#!/usr/bin/env python3
"""Speculative decoding speed: every drafter beside plain decoding, in one run.

    python3 bench/speculative_bench.py --specdec dist/bin/specdec --target DIR [--layer-draft DIR]
        [--stories DIR --stories-draft DIR] [--threads 2] [--repeats 3] [--tokens 96]

For each model pair and drafter it runs `specdec generate ... --json` --repeats times
(greedy, so every run must produce the same tokens as plain decoding: the script checks)
and reports the median decode tokens/s, mean tokens per target call (accepted draft
tokens + 1 per verification pass), acceptance rate, and speed relative to plain decoding
on the same model in the same run.

Prompts are input-grounded: the random-weight target continues a text that contains a
passage twice (prompt lookup can copy from it); the stories model continues the golden
prompts of ../shared/models/stories260K/golden.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys


def run(specdec: str, model: str, prompt: list[int], tokens: int, threads: int, drafter: str,
        draft: str | None, draft_len: int, extra: list[str]) -> dict:
    cmd = [specdec, "generate", "--model", model, "--prompt-ids", ",".join(map(str, prompt)),
           "--max-new-tokens", str(tokens), "--threads", str(threads), "--ignore-eos", "--json",
           "--drafter", drafter, "--draft-len", str(draft_len), *extra]
    if draft:
        cmd += ["--draft", draft]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(args, label: str, model: str, prompts: list[list[int]], drafters: list[tuple[str, str | None, int, list[str]]]):
    rows = []
    plain_tokens: dict[int, list[int]] = {}
    plain_speed = None
    for name, draft, k, extra in drafters:
        speeds, per_call, accepted, drafted = [], [], 0, 0
        for r in range(args.repeats):
            rates = []
            for i, prompt in enumerate(prompts):
                result = run(args.specdec, model, prompt, args.tokens, args.threads, name, draft, k, extra)
                s = result["stats"]
                if name == "none":
                    plain_tokens.setdefault(i, result["tokens"])
                elif result["tokens"] != plain_tokens[i]:
                    sys.exit(f"{label}/{name}: output differs from plain greedy decoding for prompt {i}")
                rates.append(s["decode_tokens_per_second"])
                per_call.append(s["tokens_per_target_call"])
                accepted += s.get("accepted_tokens", 0)
                drafted += s.get("drafted_tokens", 0)
            speeds.append(statistics.mean(rates))
        speed = statistics.median(speeds)
        if name == "none":
            plain_speed = speed
        what = name if not draft else f"{name}: {os.path.basename(draft.rstrip('/'))}"
        rows.append((label, what + (f" (k={k}{', adaptive' if '--adaptive' in extra else ''})" if name != "none" else ""), speed, statistics.mean(per_call),
                     accepted / drafted if drafted else 0.0, speed / plain_speed if plain_speed else 1.0))
        print(f"[speculative_bench] {label} {name}: {speed:.1f} tok/s", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--specdec", required=True)
    ap.add_argument("--target", required=True, help="the random-weight Llama of the decoder benchmark")
    ap.add_argument("--layer-draft", help="a draft made of the target's first layer (same architecture)")
    ap.add_argument("--small-draft", help="a random Llama of about a tenth of the target's size, same vocabulary")
    ap.add_argument("--stories")
    ap.add_argument("--stories-draft")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=96)
    args = ap.parse_args()

    # An input-grounded prompt: a 40-token passage, a separator, then the passage again.
    passage = [300 + (i * 7919) % 31000 for i in range(40)]
    target_prompts = [passage + [13] + passage[:8]]
    rows = []
    drafters = [("none", None, 0, []), ("ngram", None, 8, []), ("suffix", None, 8, [])]
    if args.small_draft:
        drafters += [("model", args.small_draft, 4, []), ("model", args.small_draft, 4, ["--adaptive"])]
    if args.layer_draft:
        drafters += [("model", args.layer_draft, 4, []), ("model", args.layer_draft, 4, ["--adaptive"])]
    rows += measure(args, "llama 134M (random weights)", args.target, target_prompts, drafters)

    if args.stories and os.path.isdir(args.stories):
        golden = json.load(open(os.path.join(args.stories, "golden.json")))
        prompts = [c["prompt_ids"] for c in golden["cases"]]
        drafters = [("none", None, 0, []), ("ngram", None, 8, []), ("suffix", None, 8, [])]
        if args.stories_draft and os.path.isdir(args.stories_draft):
            drafters += [("model", args.stories_draft, 4, [])]
        rows += measure(args, "stories260K (trained)", args.stories, prompts, drafters)

    print(f"threads {args.threads}, {args.tokens} new tokens, median of {args.repeats} runs\n")
    print("| target | drafter | decode tok/s | tokens per target call | acceptance | speed vs plain |")
    print("|---|---|---:|---:|---:|---:|")
    for label, name, speed, per_call, acc, ratio in rows:
        print(f"| {label} | {name} | {speed:.1f} | {per_call:.2f} | {acc:.2f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
