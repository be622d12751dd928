#!/usr/bin/env bash
# Encoder-decoder decoding speed: libspecdec vs CTranslate2 vs transformers, in one run.
#
#   bash bench/seq2seq/run.sh [--pause-training] [seq2seq_bench.py options, e.g. --threads 1 2 --repeats 5]
#
# 1. installs ctranslate2, sentencepiece, torch 2.13.0 (CPU) and transformers if they do not import,
# 2. builds the engine with scripts/build.sh if dist/bin/specdec is missing or older than the sources,
# 3. creates the random-initialised Marian (Transformer-base size) under bench/work/marian-base
#    and its float32 CTranslate2 conversion under bench/work/marian-base-ct2 (git-ignored,
#    reused when present), checking CTranslate2's greedy output against transformers',
# 4. runs bench/seq2seq/seq2seq_bench.py once per precision (PRECISIONS, default
#    "fp32 bf16 int8": libspecdec --weights P against CTranslate2 compute_type float32 /
#    bfloat16 / int8) and writes bench/results/seq2seq.md, seq2seq-bf16.md, seq2seq-int8.md (+ .json).
#
# --pause-training  sends SIGSTOP to this repository's training jobs (processes whose command
#                   line contains "training/" or whose working directory is training/) while
#                   the benchmark measures, and SIGCONT to exactly those processes afterwards,
#                   also on failure or interruption. Off by default.
#
# Environment: PYTHON (default python3), SPECDEC (default dist/bin/specdec),
# SKIP_BUILD=1 never builds, SKIP_PIP=1 never calls pip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
SPECDEC="${SPECDEC:-$ROOT/dist/bin/specdec}"
WORK="$ROOT/bench/work"
MODEL="$WORK/marian-base"
CT2="$WORK/marian-base-ct2"
RESULTS="$ROOT/bench/results"

say() { printf '[seq2seq/run] %s\n' "$*" >&2; }

PAUSE=0
ARGS=()
for a in "$@"; do
    if [[ "$a" == --pause-training ]]; then PAUSE=1; else ARGS+=("$a"); fi
done

# 1. Python dependencies ------------------------------------------------------------------
if [[ "${SKIP_PIP:-0}" != 1 ]]; then
    if ! "$PYTHON" -c 'import torch, transformers, sentencepiece, ctranslate2' 2>/dev/null; then
        say "installing ctranslate2, sentencepiece, torch 2.13.0 (CPU), transformers"
        missing=()
        "$PYTHON" -c 'import ctranslate2' 2>/dev/null || missing+=(ctranslate2)
        "$PYTHON" -c 'import sentencepiece' 2>/dev/null || missing+=(sentencepiece)
        "$PYTHON" -c 'import torch' 2>/dev/null || missing+=(torch==2.13.0)
        "$PYTHON" -c 'import transformers' 2>/dev/null || missing+=(transformers)
        "$PYTHON" -m pip install -q "${missing[@]}"
    fi
fi

# 2. The engine ---------------------------------------------------------------------------
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    if [[ ! -x "$SPECDEC" ]] || [[ -n "$(find Sources include Package.swift -newer "$SPECDEC" -type f -print -quit 2>/dev/null)" ]]; then
        say "building libspecdec with scripts/build.sh"
        bash scripts/build.sh >&2 || say "WARNING: scripts/build.sh failed"
    fi
fi
[[ -x "$SPECDEC" ]] || say "WARNING: $SPECDEC not found: libspecdec will be reported as not run"

# 3. Model and CTranslate2 conversion -----------------------------------------------------
mkdir -p "$WORK" "$RESULTS"
"$PYTHON" bench/seq2seq/make_marian_base.py "$MODEL"
"$PYTHON" bench/seq2seq/convert_ct2.py "$MODEL" "$CT2"

# 4. Benchmark ----------------------------------------------------------------------------
PAUSED=()
resume_training() {
    if ((${#PAUSED[@]})); then
        say "resuming training processes: ${PAUSED[*]}"
        kill -CONT "${PAUSED[@]}" 2>/dev/null || true
        PAUSED=()
    fi
}
trap resume_training EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if ((PAUSE)); then
    # Our own process and its ancestors are never paused.
    declare -A keep=()
    p=$$
    while [[ -n "$p" && "$p" != 0 ]]; do
        keep[$p]=1
        p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null || true)
    done
    declare -A seen=()
    for pid in $(pgrep -f 'training/' || true); do seen[$pid]=1; done
    for d in /proc/[0-9]*; do
        cwd=$(readlink "$d/cwd" 2>/dev/null || true)
        if [[ "$cwd" == "$ROOT/training" || "$cwd" == "$ROOT/training/"* ]]; then seen[${d#/proc/}]=1; fi
    done
    for pid in "${!seen[@]}"; do
        [[ -n "${keep[$pid]:-}" ]] && continue
        if kill -STOP "$pid" 2>/dev/null; then PAUSED+=("$pid"); fi
    done
    if ((${#PAUSED[@]})); then
        say "paused training processes: ${PAUSED[*]} ($(for p in "${PAUSED[@]}"; do tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | cut -c1-60; echo -n '; '; done))"
    else
        say "no training processes found to pause"
    fi
fi

say "running the benchmark (engines one after another; keep the machine otherwise idle)"
for precision in ${PRECISIONS:-fp32 bf16 int8}; do
    name=seq2seq; [[ "$precision" == fp32 ]] || name="seq2seq-$precision"
    "$PYTHON" bench/seq2seq/seq2seq_bench.py --model "$MODEL" --ct2 "$CT2" --specdec "$SPECDEC" --precision "$precision" \
        --json-out "$RESULTS/$name.json" "${ARGS[@]}" > "$RESULTS/$name.md.tmp"
    mv "$RESULTS/$name.md.tmp" "$RESULTS/$name.md"
    cat "$RESULTS/$name.md"
    say "table written to bench/results/$name.md"
done
resume_training
