#!/usr/bin/env bash
# Batched translation: libspecdec translate_batch vs CTranslate2 translate_batch on the
# shipped pair, and SpecDec against batched greedy, in one run.
#
#   bash bench/seq2seq/run_batch.sh [batch_bench.py options, e.g. --threads 1 2 --repeats 3]
#
# 1. installs ctranslate2, torch 2.13.0 (CPU), transformers, sentencepiece and safetensors if
#    they do not import (the CTranslate2 converter needs them),
# 2. builds libspecdec with scripts/build.sh when dist/lib is missing or older than the sources,
# 3. writes bench/work/verifier-zero-pad (the shipped verifier, <pad> row zeroed: see
#    make_zero_pad.py) and its CTranslate2 conversion bench/work/verifier-zero-pad-ct2,
# 4. runs batch_bench.py and writes bench/results/seq2seq-batch.md (+ .json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
WORK="$ROOT/bench/work"
MODEL="$WORK/verifier-zero-pad"
CT2="$WORK/verifier-zero-pad-ct2"
say() { printf '[seq2seq/run_batch] %s\n' "$*" >&2; }

if ! "$PYTHON" -c 'import ctranslate2, torch, transformers, sentencepiece, safetensors' 2>/dev/null; then
    say "installing ctranslate2, torch 2.13.0 (CPU), transformers, sentencepiece, safetensors"
    missing=()
    "$PYTHON" -c 'import ctranslate2' 2>/dev/null || missing+=(ctranslate2)
    "$PYTHON" -c 'import torch' 2>/dev/null || missing+=(torch==2.13.0)
    "$PYTHON" -c 'import transformers' 2>/dev/null || missing+=(transformers)
    "$PYTHON" -c 'import sentencepiece' 2>/dev/null || missing+=(sentencepiece)
    "$PYTHON" -c 'import safetensors' 2>/dev/null || missing+=(safetensors)
    "$PYTHON" -m pip install -q "${missing[@]}"
fi
lib="$ROOT/dist/lib/libspecdec.so"
if [[ ! -e "$lib" ]] || [[ -n "$(find Sources include Package.swift -newer "$lib" -type f -print -quit)" ]]; then
    say "building libspecdec with scripts/build.sh"
    bash scripts/build.sh >&2
fi
mkdir -p "$WORK" bench/results
if [[ ! -f "$MODEL/model.safetensors" || models/specdec-en-de-verifier/model.safetensors -nt "$MODEL/model.safetensors" ]]; then
    "$PYTHON" bench/seq2seq/make_zero_pad.py models/specdec-en-de-verifier "$MODEL"
fi
if [[ ! -f "$CT2/model.bin" || "$MODEL/model.safetensors" -nt "$CT2/model.bin" ]]; then
    say "converting $MODEL to CTranslate2 (float32)"
    ct2-transformers-converter --model "$MODEL" --output_dir "$CT2" --quantization float32 --force >&2
fi
say "running the benchmark (engines one after another; keep the machine otherwise idle)"
"$PYTHON" bench/seq2seq/batch_bench.py --model "$MODEL" --ct2 "$CT2" --shipped models/specdec-en-de-verifier \
    --drafter models/specdec-en-de-drafter --json-out bench/results/seq2seq-batch.json "$@" > bench/results/seq2seq-batch.md.tmp
mv bench/results/seq2seq-batch.md.tmp bench/results/seq2seq-batch.md
cat bench/results/seq2seq-batch.md
