#!/usr/bin/env python3
"""Translation with an encoder-decoder model (Marian, BART) and the specdec Python bindings.

    python3 examples/python/translate.py MODEL_DIR [SOURCE_IDS] [--max-new-tokens N]
        [--prefix IDS] [--drafter ngram|suffix] [--beams K] [--num-return R]
        [--length-penalty LP] [--early-stopping heuristic|beams|never]

Greedy decoding (``Session.translate``) streams the target ids as they are produced,
then beam search (``Session.beam_search``) prints the n-best list with scores. Ids are
used verbatim: SOURCE_IDS defaults to the ``source_ids`` of the directory's
reference.json (the fixtures under Tests/Fixtures/seq2seq have one), and when that file
is there the results are compared with what Hugging Face transformers produced (exit
status 1 on a difference). ``--drafter`` makes greedy decoding speculative (prompt lookup
over the source, or a suffix tree): the ids stay the same. Uses this checkout's bindings
(Bindings/python) when run from the repository, else the installed ``specdec`` package.
"""

import argparse
import json
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2] / "Bindings" / "python"
if (_CHECKOUT / "specdec" / "__init__.py").is_file():
    sys.path.insert(0, str(_CHECKOUT))  # prefer the bindings that match this checkout

import specdec  # noqa: E402


def parse_ids(text: str):
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated token ids, got {text!r}") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", help="encoder-decoder model directory (Marian or BART)")
    parser.add_argument("source", nargs="?", type=parse_ids, help="source token ids, e.g. 27,251,121,7,0")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: reference.json's, else 64")
    parser.add_argument("--prefix", type=parse_ids, default=[], help="forced target prefix (greedy decoding)")
    parser.add_argument("--drafter", choices=["ngram", "suffix"], help="speculative greedy decoding")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--num-return", type=int, default=None, help="default: --beams")
    parser.add_argument("--length-penalty", type=float, default=1.0)
    parser.add_argument("--early-stopping", choices=["heuristic", "beams", "never"], default="heuristic")
    args = parser.parse_args(argv)

    reference = None
    reference_path = Path(args.model_dir) / "reference.json"
    if reference_path.is_file():
        with open(reference_path, encoding="utf-8") as f:
            reference = json.load(f)
    source = args.source if args.source is not None else (reference or {}).get("source_ids")
    if not source:
        parser.error("no SOURCE_IDS given and no reference.json with source_ids in MODEL_DIR")
    max_new_tokens = args.max_new_tokens or (reference or {}).get("max_new_tokens") or 64
    num_return = args.num_return or args.beams
    same_source = reference is not None and source == reference.get("source_ids")
    failures = 0

    try:
        with specdec.Model(args.model_dir) as model, specdec.Session(model) as session:
            info = model.info
            if not info.is_encoder_decoder:
                print(f"error: {args.model_dir} is a decoder-only model ({info.model_type})", file=sys.stderr)
                return 2
            print(
                f"{info.model_type}: source vocab {info.source_vocab_size}, target vocab {info.vocab_size}, "
                f"decoder start {info.decoder_start_token_id}, sources up to {info.max_source_length} tokens",
                file=sys.stderr,
            )

            # Greedy, streamed (speculative with --drafter).
            def on_token(token: int, index: int) -> bool:
                print(("" if index == 0 else ",") + str(token), end="", flush=True)
                return False

            print("greedy: ", end="")
            ids = session.translate(
                source, prefix=args.prefix, max_new_tokens=max_new_tokens, on_token=on_token, drafter=args.drafter
            )
            print()
            stats = session.stats
            line = f"generated {len(ids)}, stop: {stats.stop_reason_name}"
            if args.drafter:
                line += f"; {args.drafter}: drafted {stats.drafted_tokens}, accepted {stats.accepted_tokens}"
            print(line, file=sys.stderr)
            if same_source and not args.prefix and max_new_tokens == reference["max_new_tokens"]:
                ok = ids == reference["greedy_ids"]
                failures += not ok
                print(f"greedy ids {'equal' if ok else 'DIFFER FROM'} reference.json", file=sys.stderr)

            # Beam search: the n-best list.
            hyps = session.beam_search(
                source,
                beams=args.beams,
                max_new_tokens=max_new_tokens,
                length_penalty=args.length_penalty,
                early_stopping=args.early_stopping,
                num_return=num_return,
            )
            print(f"beam search ({args.beams} beams, length penalty {args.length_penalty}, {args.early_stopping}):")
            for rank, hyp in enumerate(hyps):
                end = "eos" if hyp.ended_with_eos else "max"
                print(f"  {rank}: score {hyp.score:+.6f} [{end}] {','.join(map(str, hyp.tokens))}")
            if same_source:
                es = {"heuristic": False, "beams": True, "never": "never"}[args.early_stopping]
                for run in reference.get("beam", []):
                    if (run["num_beams"], run["length_penalty"], run["early_stopping"], run["max_new_tokens"],
                            run["num_return_sequences"]) == (args.beams, args.length_penalty, es, max_new_tokens, num_return):
                        ok = len(hyps) == len(run["hypotheses"]) and all(
                            h.tokens == r["tokens"] and abs(h.score - r["score"]) < 1e-3
                            and h.ended_with_eos == r["ended_with_eos"]
                            for h, r in zip(hyps, run["hypotheses"])
                        )
                        failures += not ok
                        print(f"beam hypotheses {'equal' if ok else 'DIFFER FROM'} reference.json", file=sys.stderr)
    except specdec.SpecDecError as err:
        print(f"\nerror: {err}", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
