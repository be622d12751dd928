#!/usr/bin/env python3
"""Speculative decoding with the specdec Python bindings and a drafter written in Python.

    python3 examples/python/speculative.py MODEL_DIR 1,2,3 [--max-new-tokens N]
        [--drafter python|ngram|suffix|model|plugin] [--draft-model DIR]
        [--plugin PATH --config TEXT] [--draft-length K]
        [--acceptance greedy|sample|topk] [--beta B --tau T] [--adaptive]
        [--temperature T --seed S]

The default drafter, ``python``, is :class:`PromptLookup` below: a ``specdec.Drafter``
subclass whose ``propose`` the library calls back (through ctypes) each round. The
script generates plainly, then speculatively, streams the speculative ids to stdout,
says whether they equal the plain ones (greedy acceptance reproduces greedy decoding
exactly), and prints the statistics on stderr: target calls, drafted and accepted
tokens, the acceptance rate per draft depth, time spent drafting and verifying.

Ids are used verbatim (no tokenizer, no BOS added). A repetitive prompt gives prompt
lookup something to find, e.g. the reference prompt of Tests/Fixtures/decoder/llama_f32
twice. Uses this checkout's bindings (Bindings/python) when run from the repository,
else the installed ``specdec`` package.
"""

import argparse
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2] / "Bindings" / "python"
if (_CHECKOUT / "specdec" / "__init__.py").is_file():
    sys.path.insert(0, str(_CHECKOUT))  # prefer the bindings that match this checkout

import specdec  # noqa: E402


class PromptLookup(specdec.Drafter):
    """Prompt lookup: propose what followed the most recent earlier occurrence of the
    sequence's last n tokens, n from ``max_ngram`` down to 1."""

    def __init__(self, max_ngram: int = 3):
        self.max_ngram = max_ngram
        self.rounds = 0
        self.hits = 0
        self.accepted_tokens = 0

    def propose(self, tokens, n_prompt, max_tokens):
        # tokens: prompt + output so far (the last one is not verified yet).
        self.rounds += 1
        for n in range(min(self.max_ngram, len(tokens) - 1), 0, -1):
            tail = tokens[-n:]
            for start in range(len(tokens) - n - 1, -1, -1):
                if tokens[start : start + n] == tail:
                    self.hits += 1
                    return tokens[start + n : start + n + max_tokens]  # a chain
        return []  # nothing to propose: the target takes a plain step

    def accepted(self, path, next_token):
        # Optional: the target kept the nodes `path` of the last proposal.
        self.accepted_tokens += len(path)


def parse_ids(text: str):
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated token ids, got {text!r}") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", help="Hugging Face model directory (config.json + *.safetensors)")
    parser.add_argument("prompt", type=parse_ids, help="prompt token ids, e.g. 1,403,407")
    parser.add_argument("--max-new-tokens", type=int, default=40)
    parser.add_argument("--drafter", default="python", choices=["python", "ngram", "suffix", "model", "plugin"])
    parser.add_argument("--draft-model", help="draft model directory for --drafter model")
    parser.add_argument("--plugin", help="drafter plugin .so for --drafter plugin")
    parser.add_argument("--config", help="the plugin's configuration string, e.g. max_ngram=3")
    parser.add_argument("--draft-length", type=int, default=5)
    parser.add_argument("--acceptance", default="greedy", choices=["greedy", "sample", "topk"])
    parser.add_argument("--beta", type=int, default=5)
    parser.add_argument("--tau", type=float, default=3.0)
    parser.add_argument("--adaptive", action="store_true")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.drafter == "model" and not args.draft_model:
        parser.error("--drafter model needs --draft-model DIR")
    if args.drafter == "plugin" and not args.plugin:
        parser.error("--drafter plugin needs --plugin PATH")

    draft_model = None
    drafter = args.drafter
    try:
        with specdec.Model(args.model_dir) as model, specdec.Session(model) as session:
            sampling = dict(temperature=args.temperature, seed=args.seed, stop_at_eos=False)
            plain = session.generate(args.prompt, args.max_new_tokens, **sampling)
            plain_stats = session.stats

            if args.drafter == "python":
                drafter = PromptLookup()
            elif args.drafter == "plugin":
                drafter = specdec.load_drafter_plugin(args.plugin, args.config)
            elif args.drafter == "model":
                draft_model = specdec.Model(args.draft_model)

            def on_token(token: int, index: int) -> bool:
                print(("" if index == 0 else ",") + str(token), end="", flush=True)
                return False

            ids = session.generate(
                args.prompt,
                args.max_new_tokens,
                on_token=on_token,
                drafter=drafter,
                draft_model=draft_model,
                draft_length=args.draft_length,
                acceptance=args.acceptance,
                beta=args.beta,
                tau=args.tau,
                adaptive=args.adaptive,
                **sampling,
            )
            print()
            stats = session.stats
            same = "yes" if ids == plain else "no" + (" (sampling: expected)" if args.temperature > 0 else "")
            print(f"drafter {args.drafter}: {len(ids)} tokens, identical to plain decoding: {same}", file=sys.stderr)
            print(
                f"target calls {stats.target_calls} (plain: {plain_stats.target_calls}), "
                f"drafted {stats.drafted_tokens}, accepted {stats.accepted_tokens} "
                f"({100 * stats.acceptance_rate:.0f}%), {stats.tokens_per_target_call:.2f} tokens per target call",
                file=sys.stderr,
            )
            depth = ", ".join(f"{r:.2f}" for r in stats.acceptance_by_depth)
            print(f"acceptance by depth: [{depth}]", file=sys.stderr)
            print(
                f"draft {stats.draft_seconds:.6f} s, verify {stats.verify_seconds:.6f} s, "
                f"sample {stats.sample_seconds:.6f} s; decode {stats.decode_tokens_per_second:.1f} tok/s",
                file=sys.stderr,
            )
            if isinstance(drafter, PromptLookup):
                print(
                    f"python drafter: {drafter.rounds} rounds, {drafter.hits} with a match, "
                    f"{drafter.accepted_tokens} tokens accepted",
                    file=sys.stderr,
                )
            exact = args.temperature == 0 and (
                args.acceptance == "greedy" or (args.acceptance == "topk" and args.beta == 1)
            )
            if exact and ids != plain:
                return 1  # greedy acceptance must reproduce greedy decoding
    except specdec.SpecDecError as err:
        print(f"\nerror: {err}", file=sys.stderr)
        if err.__cause__ is not None:
            print(f"caused by: {err.__cause__!r}", file=sys.stderr)
        return 1
    finally:
        if isinstance(drafter, specdec.BaseDrafter):
            drafter.close()
        if draft_model is not None:
            draft_model.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
