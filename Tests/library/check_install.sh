#!/usr/bin/env bash
# An installed copy works the way C users expect: scripts/install.sh PREFIX puts the
# library (SONAME libspecdec.so.N for ABI N), its link, the headers and specdec.pc under
# PREFIX; examples/c builds with `pkg-config --cflags --libs specdec` alone and runs
# against the installed library, reproducing the reference ids. Prints "N passed, M failed".
#
#   bash Tests/library/check_install.sh [PREFIX]   (default: a temporary directory)
set -u
cd "$(dirname "$0")/../.."
root=$PWD
prefix=${1:-$(mktemp -d)}
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
passed=0; failed=0
check() { if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }

abi=$(sed -n 's/^#define SPECDEC_ABI_VERSION \([0-9]*\).*/\1/p' include/specdec.h)
version=$(printf '%s.%s.%s' $(sed -n 's/^#define SPECDEC_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/specdec.h))
soname() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }

check "dist/lib/libspecdec.so has SONAME libspecdec.so.$abi" '[ "$(soname dist/lib/libspecdec.so)" = "libspecdec.so.$abi" ]'
check "scripts/install.sh $prefix succeeds" 'bash scripts/install.sh "$prefix" >"$build/install.log" 2>&1'
check "installed libspecdec.so.$abi, the libspecdec.so link, headers and specdec.pc" \
    '[ -f "$prefix/lib/libspecdec.so.$abi" ] && [ "$(readlink "$prefix/lib/libspecdec.so")" = "libspecdec.so.$abi" ] &&
     [ -f "$prefix/include/specdec.h" ] && [ -f "$prefix/include/specdec_plugin.h" ] && [ -f "$prefix/lib/pkgconfig/specdec.pc" ]'
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config --modversion specdec is $version" '[ "$(pkg-config --modversion specdec)" = "$version" ]'
check "pkg-config --cflags --libs specdec point into $prefix" \
    'pkg-config --cflags specdec | grep -q -- "-I$(cd "$prefix" && pwd)/include" && pkg-config --libs specdec | grep -q -- "-lspecdec"'
check "examples/c build with pkg-config alone" \
    'make -s -C examples/c USE_PKG_CONFIG=1 ROOT=/nonexistent BUILD="$build" >"$build/make.log" 2>&1'
check "the example needs libspecdec.so.$abi and finds the installed one" \
    'ldd "$build/generate" | grep -q "libspecdec.so.$abi => $(cd "$prefix" && pwd)/lib/libspecdec.so.$abi"'
dir=Tests/Fixtures/decoder/llama_f32
ids() { python3 -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))[sys.argv[2]])))' "$dir/reference.json" "$1"; }
check "installed generate reproduces the reference greedy ids" \
    '[ "$("$build/generate" "$dir" "$(ids prompt_ids)" 24 2>/dev/null)" = "$(ids greedy_ids)" ]'
[ "$failed" -eq 0 ] || cat "$build/install.log" "$build/make.log" 2>/dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
