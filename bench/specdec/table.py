"""SpecDec's table on this machine: the shipped English->German pair on its held-out test set.

Every setting translates the same sentences one at a time (batch 1) through the library
(Python bindings over libspecdec.so, in-process), timed with perf_counter around each call.
The whole set is translated `--repeats` times per setting, settings interleaved within each
repeat so machine noise hits them alike; the table reports the median pass. BLEU is
sacrebleu's corpus BLEU (default 13a tokenisation) of the detokenised output against the
references.

    python bench/specdec/table.py --repeats 3 --json bench/results/specdec.json
    python bench/specdec/table.py --weights bf16 ...   # both models in bf16 (or int8, fp32)

"round cost" is one SpecDec round (a Spec-Drafter pass plus the verifier's pass over the
k + 1 positions, from the engine's draft and verify timers) in units of one greedy step
(greedy's time per generated token) of the same pass.

Settings are `name:kind[:key=value,...]`, for example `specdec-b5t3:specdec:beta=5,tau=3`;
kinds: greedy, beam (beams=N), specdec (k=, beta=, tau=, drafter=DIR).
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "Bindings", "python"))
os.environ.setdefault("SPECDEC_LIBRARY", os.path.join(REPO, "dist", "lib", "libspecdec.so"))

import sacrebleu  # noqa: E402
import specdec  # noqa: E402

DEFAULT_SETTINGS = [
    "greedy:greedy",
    "beam-5:beam:beams=5",
    "specdec-b1:specdec:beta=1,tau=0",
    "specdec-b5t3:specdec:beta=5,tau=3",
]


def parse_setting(text):
    parts = text.split(":")
    if len(parts) < 2:
        raise SystemExit(f"setting {text!r}: expected name:kind[:key=value,...]")
    options = {}
    if len(parts) > 2 and parts[2]:
        for item in parts[2].split(","):
            key, _, value = item.partition("=")
            options[key] = value
    return {"name": parts[0], "kind": parts[1], "options": options}


class Runner:
    def __init__(self, verifier_dir, drafter_dir, threads, max_new_tokens, weights="auto"):
        self.weights = weights
        self.model = specdec.Model(verifier_dir, weights=weights)
        self.session = self.model.session(n_threads=threads)
        self.tokenizer = self.model.tokenizer
        self.default_drafter = drafter_dir
        self.drafters = {}
        self.max_new_tokens = max_new_tokens

    def drafter(self, path):
        path = path or self.default_drafter
        if path not in self.drafters:
            self.drafters[path] = specdec.Model(path, weights=self.weights)
        return self.drafters[path]

    def block_size(self, path):
        with open(os.path.join(path or self.default_drafter, "config.json")) as f:
            return json.load(f)["block_size"]

    def translate(self, setting, source_ids):
        """(ids without EOS, seconds, target calls or None, accepted drafts or None,
        (draft seconds, verify seconds))."""
        kind, o = setting["kind"], setting["options"]
        eos = self.model.eos_token
        if kind == "beam":
            t0 = time.perf_counter()
            best = self.session.beam_search(source_ids, beams=int(o.get("beams", 5)), max_new_tokens=self.max_new_tokens)[0]
            seconds = time.perf_counter() - t0
            return [t for t in best.tokens if t != eos], seconds, None, None, (0.0, 0.0)
        kwargs = {}
        if kind == "specdec":
            path = o.get("drafter")
            kwargs = dict(drafter="specdec", draft_model=self.drafter(path),
                          draft_length=int(o.get("k", self.block_size(path))), acceptance="topk",
                          beta=int(o.get("beta", 5)), tau=float(o.get("tau", 3.0)))
        elif kind != "greedy":
            raise SystemExit(f"unknown setting kind {kind!r}")
        t0 = time.perf_counter()
        ids = self.session.translate(source_ids, max_new_tokens=self.max_new_tokens, **kwargs)
        seconds = time.perf_counter() - t0
        stats = self.session.stats
        # verifier passes: the first token comes from the pass over the decoder start token
        calls = stats.target_calls + 1 if kind == "specdec" else len(ids)
        accepted = stats.accepted_tokens if kind == "specdec" else 0
        return [t for t in ids if t != eos], seconds, calls, accepted, (stats.draft_seconds, stats.verify_seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verifier", default=os.path.join(REPO, "models", "specdec-en-de-verifier"))
    ap.add_argument("--drafter", default=os.path.join(REPO, "models", "specdec-en-de-drafter"))
    ap.add_argument("--test", default=os.path.join(REPO, "models", "specdec-en-de-test"))
    ap.add_argument("--limit", type=int, default=0, help="first N test sentences (0 = all)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=200)
    ap.add_argument("--setting", action="append", help="name:kind[:key=value,...] (repeatable)")
    ap.add_argument("--weights", default="auto", choices=["auto", "fp32", "bf16", "int8"],
                    help="weight precision of the verifier and the drafters (default: as stored)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    with open(os.path.join(args.test, "test.en"), encoding="utf-8") as f:
        sources = [line.rstrip("\n") for line in f]
    with open(os.path.join(args.test, "test.de"), encoding="utf-8") as f:
        references = [line.rstrip("\n") for line in f]
    if args.limit:
        sources, references = sources[: args.limit], references[: args.limit]
    settings = [parse_setting(s) for s in (args.setting or DEFAULT_SETTINGS)]

    runner = Runner(args.verifier, args.drafter, args.threads, args.max_new_tokens, args.weights)
    source_ids = [runner.tokenizer.encode(s) for s in sources]
    outputs = {s["name"]: None for s in settings}
    passes = {s["name"]: [] for s in settings}
    calls = {s["name"]: 0 for s in settings}
    accepted = {s["name"]: 0 for s in settings}
    split = {s["name"]: (0.0, 0.0) for s in settings}
    for setting in settings:  # warm-up: page the weights in, size the caches
        for ids in source_ids[:20]:
            runner.translate(setting, ids)
    for rep in range(args.repeats):
        for setting in settings:
            name, total, ids_out = setting["name"], 0.0, []
            n_calls = n_acc = 0
            draft = verify = 0.0
            for ids in source_ids:
                out, seconds, c, a, (ds, vs) = runner.translate(setting, ids)
                draft += ds
                verify += vs
                total += seconds
                ids_out.append(out)
                n_calls += c or 0
                n_acc += a or 0
            if outputs[name] is not None and outputs[name] != ids_out:
                raise SystemExit(f"{name}: output changed between repeats")
            outputs[name], calls[name], accepted[name] = ids_out, n_calls, n_acc
            split[name] = (draft, verify) if total <= min(passes[name], default=total) else split[name]
            passes[name].append(total)
            print(f"repeat {rep + 1}/{args.repeats} {name}: {total:.2f} s", file=sys.stderr, flush=True)

    greedy_name = next((s["name"] for s in settings if s["kind"] == "greedy"), None)
    results = []
    for setting in settings:
        name = setting["name"]
        texts = [runner.tokenizer.decode(ids) for ids in outputs[name]]
        tokens = sum(len(ids) + 1 for ids in outputs[name])  # + EOS
        seconds = statistics.median(passes[name])
        row = {"name": name, "kind": setting["kind"], "options": setting["options"],
               "bleu": round(sacrebleu.corpus_bleu(texts, [references]).score, 2),
               "seconds": round(seconds, 3), "passes": [round(p, 3) for p in passes[name]],
               "ms_per_sentence": round(1000 * seconds / len(sources), 3),
               "tokens": tokens}
        if setting["kind"] != "beam":
            row["tokens_per_iteration"] = round(tokens / max(1, calls[name]), 3)
            row["accepted_drafts_per_iteration"] = round(accepted[name] / max(1, calls[name]), 3)
        if setting["kind"] == "specdec":  # of the fastest pass
            row["draft_ms_per_sentence"] = round(1000 * split[name][0] / len(sources), 3)
            row["verify_ms_per_sentence"] = round(1000 * split[name][1] / len(sources), 3)
            rounds = max(1, calls[name] - len(sources))  # calls count the first pass over the start token
            row["round_ms"] = round(1000 * (split[name][0] + split[name][1]) / rounds, 4)
        if greedy_name:
            greedy_seconds = statistics.median(passes[greedy_name])
            row["speedup_vs_greedy"] = round(greedy_seconds / seconds, 3)
            row["identical_to_greedy"] = sum(a == b for a, b in zip(outputs[name], outputs[greedy_name]))
        results.append(row)
    if greedy_name:
        greedy_row = next(r for r in results if r["name"] == greedy_name)
        step_ms = 1000 * greedy_row["seconds"] / greedy_row["tokens"]
        for r in results:
            if "round_ms" in r:
                r["round_cost_in_greedy_steps"] = round(r["round_ms"] / step_ms, 3)

    print(f"{len(sources)} sentences, batch 1, {args.threads} threads, median of {args.repeats} passes, "
          f"weights {args.weights}")
    print("| setting | BLEU | ms/sentence | speedup vs greedy | tokens/iteration | accepted drafts/iteration "
          "| identical to greedy | draft / verify ms per sentence | round cost (greedy steps) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in results:
        print(f"| {r['name']} | {r['bleu']:.2f} | {r['ms_per_sentence']:.2f} | {r.get('speedup_vs_greedy', 1):.2f}x | "
              f"{r.get('tokens_per_iteration', '-')} | {r.get('accepted_drafts_per_iteration', '-')} | "
              f"{r.get('identical_to_greedy', '-')}/{len(sources)} | "
              + (f"{r['draft_ms_per_sentence']:.2f} / {r['verify_ms_per_sentence']:.2f} |" if "draft_ms_per_sentence" in r else "- |")
              + (f" {r['round_cost_in_greedy_steps']:.2f} |" if "round_cost_in_greedy_steps" in r else " - |"))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"sentences": len(sources), "threads": args.threads, "repeats": args.repeats, "weights": args.weights,
                       "library": specdec.version_string(), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
