#!/usr/bin/env bash
# Decoder-only decoding speed: libspecdec vs llama.cpp vs transformers, in one run per precision.
#
#   bash bench/run_decoder_bench.sh [extra decoder_bench.py options, e.g. --threads 1 2 --repeats 5]
#   PRECISIONS="bf16 int8" bash bench/run_decoder_bench.sh   # default: fp32 bf16 int8
#
# 1. installs the Python packages it needs (skipped when they import),
# 2. builds the engine with scripts/build.sh (-> dist/bin/specdec),
# 3. creates the random-initialised 134M-parameter Llama and its GGUF under bench/work/
#    (git-ignored; reused when present) and checks the GGUF against transformers,
#    plus llama.cpp's own BF16 and Q8_0 versions of that GGUF (bench/quantize_gguf.py),
# 4. runs bench/decoder_bench.py once per precision and writes bench/results/decoder.md
#    (fp32), decoder-bf16.md and decoder-int8.md (libspecdec --weights bf16 / int8 against
#    the BF16 / Q8_0 GGUF).
#
# Environment: PYTHON (default python3), SPECDEC (default dist/bin/specdec),
# SKIP_BUILD=1 to use an existing binary, SKIP_PIP=1 to never call pip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
SPECDEC="${SPECDEC:-$ROOT/dist/bin/specdec}"
WORK="$ROOT/bench/work"
MODEL="$WORK/llama134m"
GGUF="$WORK/llama134m-f32.gguf"
RESULTS="$ROOT/bench/results"

say() { printf '[run_decoder_bench] %s\n' "$*" >&2; }

# 1. Python dependencies ------------------------------------------------------------------
if [[ "${SKIP_PIP:-0}" != 1 ]]; then
    if ! "$PYTHON" -c 'import torch, transformers, safetensors' 2>/dev/null; then
        say "installing torch 2.13.0 (CPU), transformers, safetensors"
        "$PYTHON" -m pip install -q torch==2.13.0 transformers safetensors
    fi
    if ! "$PYTHON" -c 'import llama_cpp, gguf' 2>/dev/null; then
        say "installing llama-cpp-python and gguf (llama-cpp-python compiles llama.cpp: several minutes)"
        "$PYTHON" -m pip install -q llama-cpp-python gguf
    fi
fi

# 2. The engine ---------------------------------------------------------------------------
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    if [[ -f scripts/build.sh ]]; then
        say "building libspecdec with scripts/build.sh"
        if ! bash scripts/build.sh >&2; then
            say "WARNING: scripts/build.sh failed; the table will lack libspecdec unless $SPECDEC exists"
        fi
    else
        say "WARNING: scripts/build.sh not found; using $SPECDEC if it exists"
    fi
fi
[[ -x "$SPECDEC" ]] || say "WARNING: $SPECDEC not found: libspecdec will be reported as not run"

# 3. Model and GGUF -----------------------------------------------------------------------
mkdir -p "$WORK" "$RESULTS"
"$PYTHON" bench/make_llama_bench_model.py "$MODEL"
if [[ ! -f "$GGUF" || "$MODEL/model.safetensors" -nt "$GGUF" ]]; then
    "$PYTHON" bench/convert_llama_to_gguf.py "$MODEL" "$GGUF" --force --verify
fi

for kind in bf16 q8_0; do
    if [[ ! -f "$WORK/llama134m-$kind.gguf" || "$GGUF" -nt "$WORK/llama134m-$kind.gguf" ]]; then
        say "writing llama.cpp's $kind GGUF"
        "$PYTHON" bench/quantize_gguf.py "$GGUF" "$WORK/llama134m-$kind.gguf" --type "$kind"
    fi
done

# 4. Benchmark ----------------------------------------------------------------------------
say "running the benchmark (engines one after another; keep the machine otherwise idle)"
for precision in ${PRECISIONS:-fp32 bf16 int8}; do
    case "$precision" in
        fp32) gguf="$GGUF"; name=decoder ;;
        bf16) gguf="$WORK/llama134m-bf16.gguf"; name=decoder-bf16 ;;
        int8) gguf="$WORK/llama134m-q8_0.gguf"; name=decoder-int8 ;;
        *) say "unknown precision $precision"; exit 2 ;;
    esac
    "$PYTHON" bench/decoder_bench.py --model "$MODEL" --gguf "$gguf" --specdec "$SPECDEC" --precision "$precision" \
        --json-out "$RESULTS/$name.json" "$@" | tee "$RESULTS/$name.md"
    say "table written to bench/results/$name.md"
done
