#!/usr/bin/env bash
# Tokenizer encoding speed, ours beside `tokenizers` and `sentencepiece`, one thread each.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c 'import tokenizers, sentencepiece' 2>/dev/null || python3 -m pip install -q tokenizers sentencepiece
swift build -c release --product TokenizerBench >&2
python3 bench/tokenizer/bench_tokenizer.py --bench .build/release/TokenizerBench "$@" | tee bench/results/tokenizer.md
