#!/usr/bin/env python3
"""Streaming generation with the specdec Python bindings.

    python3 examples/python/generate.py MODEL_DIR 1,2,3 [--max-new-tokens N]
        [--temperature T --top-k K --top-p P --seed S] [--stop-at-eos]
    python3 examples/python/generate.py MODEL_DIR --prompt TEXT [--tokenizer PATH]
        [--drafter ngram|suffix] [...]

With token ids, prints each generated id as soon as the library produces it (through
the on_token callback); ids are used verbatim (no tokenizer, no BOS added). With
``--prompt TEXT`` the model's tokenizer (its directory's tokenizer.json or
tokenizer.model, or ``--tokenizer PATH``) encodes the prompt, BOS included, and the
generated text is printed piece by piece as it is produced (``Session.generate_text``
with ``on_text``). ``--drafter`` decodes speculatively (same output with greedy
decoding). Then the statistics and the arena backend go to stderr. Uses this checkout's
bindings (Bindings/python) when run from the repository, else the installed `specdec`
package.
"""

import argparse
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2] / "Bindings" / "python"
if (_CHECKOUT / "specdec" / "__init__.py").is_file():
    # Prefer the bindings that match this checkout over an installed (maybe older) copy.
    sys.path.insert(0, str(_CHECKOUT))

import specdec  # noqa: E402


def parse_ids(text: str):
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated token ids, got {text!r}") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", help="Hugging Face model directory (config.json + *.safetensors)")
    parser.add_argument("prompt", nargs="?", type=parse_ids, help="prompt token ids, e.g. 1,403,407")
    parser.add_argument("--prompt", dest="text", metavar="TEXT", help="a text prompt (needs a tokenizer)")
    parser.add_argument("--tokenizer", metavar="PATH", help="tokenizer.json, .model or directory for --prompt")
    parser.add_argument("--drafter", choices=["ngram", "suffix"], help="speculative decoding")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stop-at-eos", action="store_true", help="stop at the model's EOS ids")
    args = parser.parse_args(argv)
    if (args.prompt is None) == (args.text is None):
        parser.error("give either prompt token ids or --prompt TEXT")
    if args.tokenizer and args.text is None:
        parser.error("--tokenizer goes with --prompt TEXT")

    try:
        with specdec.Model(args.model_dir) as model, specdec.Session(model) as session:
            sampling = dict(
                max_new_tokens=args.max_new_tokens,
                temperature=args.temperature,
                top_k=args.top_k,
                top_p=args.top_p,
                seed=args.seed,
                stop_at_eos=args.stop_at_eos,
                drafter=args.drafter,
            )
            if args.text is not None:
                # Text in, text out: the tokenizer of the model's directory unless one is given.
                tokenizer = specdec.Tokenizer.load(args.tokenizer) if args.tokenizer else None

                def on_text(piece: str) -> bool:
                    print(piece, end="", flush=True)
                    return False  # keep going; True would stop here

                try:
                    text = session.generate_text(args.text, on_text=on_text, tokenizer=tokenizer, **sampling)
                finally:
                    if tokenizer is not None:
                        tokenizer.close()
                print()
                print(f"{len(text)} characters", file=sys.stderr)
            else:

                def on_token(token: int, index: int) -> bool:
                    print(("" if index == 0 else ",") + str(token), end="", flush=True)
                    return False  # keep going; True would stop here

                session.generate(args.prompt, on_token=on_token, **sampling)
                print()
            stats = session.stats
            info = model.info
            print(
                f"libspecdec {specdec.version_string()}: {info.model_type}, vocab {info.vocab_size}, "
                f"{info.num_parameters} parameters",
                file=sys.stderr,
            )
            print(
                f"prompt {stats.prompt_tokens} ({stats.reused_tokens} reused), generated {stats.generated_tokens}, "
                f"stop: {stats.stop_reason_name}; decode {stats.decode_tokens_per_second:.1f} tok/s",
                file=sys.stderr,
            )
            if args.drafter:
                print(
                    f"{args.drafter}: target calls {stats.target_calls}, drafted {stats.drafted_tokens}, "
                    f"accepted {stats.accepted_tokens}",
                    file=sys.stderr,
                )
            print(f"arena backend: {session.arena_backend}", file=sys.stderr)
    except specdec.SpecDecError as err:
        print(f"\nerror: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
