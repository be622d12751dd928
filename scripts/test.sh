#!/usr/bin/env bash
# Runs every test: Swift (XCTest/Swift Testing), the shipped library's exports, the CLI,
# the C host, the Python bindings and the Rust crate. Installs what they need first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/build.sh
python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q pytest
# The converters' tests build fairseq-shaped checkpoints with torch (CPU build) and check
# exports with transformers.
python3 -c 'import torch, safetensors, transformers' 2>/dev/null || python3 -m pip install -q torch==2.13.0 safetensors transformers

echo "== Swift tests"
swift test

echo "== libspecdec.so exports and dependencies"
bash Tests/library/check_library.sh

echo "== an installed copy: scripts/install.sh, pkg-config, examples/c against it"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
bash Tests/library/check_install.sh "$prefix"

echo "== specdec command and the fairseq converters"
SPECDEC_CLI_REQUIRED=1 python3 -m pytest -q Tests/cli Tests/converter training/tests

echo "== C host"
bash examples/c/test.sh

echo "== Python bindings (installed with pip)"
python3 -m pip install -q --force-reinstall ./Bindings/python
SPECDEC_LIBRARY="$root/dist/lib/libspecdec.so" SPECDEC_TEST_INSTALLED=1 python3 -m pytest -q Bindings/python/tests

echo "== Python wheel and pip install in fresh virtual environments, no variables set"
bash Bindings/python/test_wheel.sh

echo "== Rust crate"
# dist/lib explicitly: a specdec.pc installed on this machine must not be picked up instead.
(cd Bindings/rust && SPECDEC_LIB_DIR="$root/dist/lib" cargo test --offline)
echo "== Rust crate against the installed copy (pkg-config)"
bash Bindings/rust/test_installed.sh "$prefix"
(cd examples/rust && export SPECDEC_LIB_DIR="$root/dist/lib" && cargo build --offline -q && cargo run --offline -q -- ../../Tests/Fixtures/decoder/llama_f32 239,179,14 4 >/dev/null)
echo "== fuzz targets: every regression input, then a short run of each target"
swift build --product specdec-fuzz >/dev/null
replay=$(swift build --show-bin-path)/specdec-fuzz
for dir in Tests/Fuzz/regressions/*/; do
    [ -d "$dir" ] || continue
    files=("$dir"*)
    [ -e "${files[0]}" ] || continue
    SPECDEC_REPO_ROOT=$root "$replay" "$(basename "$dir")" "${files[@]}" >/dev/null
done
bash scripts/fuzz.sh all "${FUZZ_SECONDS:-10}"

echo "== the C host under valgrind"
bash scripts/sanitize.sh valgrind
echo "all test suites passed"
