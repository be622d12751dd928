#!/usr/bin/env bash
# Runs the libFuzzer targets of Tests/Fuzz (every parser that reads outside data) with
# AddressSanitizer, seeded from the test fixtures and the small files of Tests/Fuzz/seeds/,
# each with the dictionary of its format's keys. Crashes land in .build-fuzz/crashes/TARGET/;
# replay one with
#   .build/debug/specdec-fuzz TARGET FILE     (the same target without the fuzzer)
# and add it under Tests/Fuzz/regressions/TARGET/ once fixed: the tests replay those.
#
#   bash scripts/fuzz.sh                  # every target for 30 s
#   bash scripts/fuzz.sh TARGET [SECONDS] # one target; SECONDS 0 = until stopped
#   RUNS=1000000 bash scripts/fuzz.sh TARGET   # a fixed number of executions instead
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
targets=(json safetensors model-config generation-config seq2seq-config specdrafter-config
         tokenizer-json sentencepiece marian-vocab tokenizer-text)
if [ $# -ge 1 ] && [ "$1" != "all" ]; then targets=("$1"); fi
seconds=${2:-30}

bash scripts/install-deps.sh
# The whole engine instrumented for coverage and ASan; -DFUZZING swaps the replay main for
# libFuzzer's driver. gold cannot link the instrumented objects, so the toolchain's lld does.
mkdir -p .build-fuzz
printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' "$(dirname "$(command -v swiftc)")/ld.lld" > .build-fuzz/toolset.json
if ! swift build -c release --build-path .build-fuzz --toolset .build-fuzz/toolset.json --product specdec-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING > .build-fuzz/build.log 2>&1; then
    grep -E 'error' .build-fuzz/build.log | head -n 20 >&2
    echo "fuzz build failed (.build-fuzz/build.log)" >&2
    exit 1
fi
fuzzer=$(swift build -c release --build-path .build-fuzz --show-bin-path)/specdec-fuzz
[ -x "$fuzzer" ] || { echo "fuzz build failed" >&2; exit 1; }
swift build --product specdec-fuzz >/dev/null
replay=$(swift build --show-bin-path)/specdec-fuzz

for target in "${targets[@]}"; do
    corpus=.build-fuzz/corpus/$target
    crashes=.build-fuzz/crashes/$target
    mkdir -p "$corpus" "$crashes"
    # Seeds: the fixture files the target's format comes in (listed in FuzzTarget.swift).
    for seed in $("$replay" --seeds "$target"); do
        [ -f "$seed" ] && cp -n "$seed" "$corpus/seed-$(basename "$(dirname "$seed")")-$(basename "$seed")" 2>/dev/null || true
    done
    # Inputs a few times the size of the seeds (Tests/Fuzz/seeds/ holds small ones): each
    # execution costs about as much as loading an input that long.
    case $target in
        json) max_len=65536 ;;
        safetensors) max_len=65536 ;;
        tokenizer-json|sentencepiece|marian-vocab) max_len=16384 ;;
        generation-config) max_len=8192 ;;
        # Text: one corpus line per seed; inputs stay short so every tokenizer sees many of them.
        tokenizer-text)
            max_len=1024
            head -n 1500 Tests/Fixtures/tokenizers/corpus.jsonl | split -l 1 -a 4 - "$corpus/seed-line-" ;;
        *) max_len=1048576 ;;
    esac
    limit=(-max_total_time="$seconds")
    [ "$seconds" = 0 ] && limit=()
    [ -n "${RUNS:-}" ] && limit=(-runs="$RUNS")
    echo "== $target (${RUNS:-${seconds}s})"
    SPECDEC_FUZZ_TARGET=$target SPECDEC_REPO_ROOT=$root ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
        "$fuzzer" "$corpus" -dict="Tests/Fuzz/dictionaries/$target.dict" -artifact_prefix="$crashes/" \
        -max_len="$max_len" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 "${limit[@]}" 2>&1 \
        | grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb|cov:|==[0-9]+==ERROR|SUMMARY|Test unit written|artifact_prefix)' \
        | tail -n 12
    found=$(find "$crashes" -type f | wc -l)
    echo "$target: $found crash/timeout files in $crashes"
    [ "$found" -eq 0 ] || exit 1
done
