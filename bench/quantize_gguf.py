#!/usr/bin/env python3
"""Writes llama.cpp's own BF16 or Q8_0 version of an F32 GGUF (llama_model_quantize, the
function behind llama.cpp's `llama-quantize` tool), so llama.cpp runs the precision it
ships for the same tensors libspecdec loads.

    python bench/quantize_gguf.py IN-f32.gguf OUT.gguf --type bf16|q8_0
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source")
    ap.add_argument("destination")
    ap.add_argument("--type", choices=["bf16", "q8_0"], required=True)
    args = ap.parse_args(argv)
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = {"bf16": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16, "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}[args.type]
    status = llama_cpp.llama_model_quantize(args.source.encode(), args.destination.encode(), params)
    if status != 0:
        print(f"llama_model_quantize failed with status {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
