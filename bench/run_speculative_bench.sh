#!/usr/bin/env bash
# Speculative decoding: each drafter beside plain decoding, on the decoder benchmark's
# 134M-parameter Llama and on the trained stories260K pair when ../shared/models has it.
# Writes bench/results/speculative.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_BUILD:-0}" = 1 ] || bash scripts/build.sh >&2
python3 -c 'import torch, transformers, safetensors' 2>/dev/null || python3 -m pip install -q torch==2.13.0 transformers safetensors
[ -f bench/work/llama134m/model.safetensors ] || python3 bench/make_llama_bench_model.py bench/work/llama134m
[ -f bench/work/llama134m-layer0/model.safetensors ] || python3 bench/make_layer_draft.py bench/work/llama134m bench/work/llama134m-layer0 1
python3 bench/make_small_draft.py bench/work/llama-draft-10pct
mkdir -p bench/results
python3 bench/speculative_bench.py --specdec dist/bin/specdec --target bench/work/llama134m \
    --layer-draft bench/work/llama134m-layer0 --small-draft bench/work/llama-draft-10pct \
    --stories ../shared/models/stories260K --stories-draft ../shared/models/stories260K-draft "$@" | tee bench/results/speculative.md
