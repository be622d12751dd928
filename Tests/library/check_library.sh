#!/usr/bin/env bash
# The shipped library exports only the C API and needs nothing beyond the C/C++ runtime:
# the Swift runtime is linked in. Prints "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
lib=${SPECDEC_LIB_DIR:-dist/lib}/libspecdec.so
passed=0; failed=0
check() { if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }

exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[A-Z]$/ {print $3}')
check "exports only specdec_* symbols" '[ -z "$(echo "$exported" | grep -v "^specdec_")" ]'
declared=$(grep -oE '\bspecdec_[a-z0-9_]+\(' include/specdec.h | tr -d '(' | sort -u)
check "exports every function of specdec.h" '[ -z "$(comm -23 <(echo "$declared") <(echo "$exported" | sort -u))" ]'
check "exports nothing specdec.h does not declare" '[ -z "$(comm -13 <(echo "$declared") <(echo "$exported" | sort -u))" ]'
needed=$(ldd "$lib" | awk '{print $1}' | sed 's/\.so.*//' | grep -vE '^(linux-vdso|/lib64/ld-linux-x86-64)$' | sort -u | tr '\n' ' ')
check "depends only on libc, libm, libstdc++, libgcc_s (got: $needed)" \
    '[ -z "$(echo "$needed" | tr " " "\n" | grep -vE "^(libc|libm|libstdc\+\+|libgcc_s)?$")" ]'
check "no Swift runtime library is needed" '! ldd "$lib" | grep -q swift'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
