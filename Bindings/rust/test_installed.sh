#!/usr/bin/env bash
# Runs this crate's tests against an installed libspecdec (scripts/install.sh PREFIX).
# The crate is copied outside the repository, so build.rs cannot fall back to the
# repository's dist/lib and finds the library through pkg-config alone
# (PREFIX/lib/pkgconfig/specdec.pc); the tests read the repository's fixtures, headers
# and examples through SPECDEC_REPO_ROOT. Checks that the test binaries load the
# installed library.
#
#   bash Bindings/rust/test_installed.sh PREFIX [cargo test arguments]
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: $0 PREFIX [cargo test arguments]" >&2
    exit 2
fi
prefix=$(cd "$1" && pwd -P)
shift
crate=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$crate/../.." && pwd -P)
if [ ! -f "$prefix/lib/pkgconfig/specdec.pc" ]; then
    echo "$prefix/lib/pkgconfig/specdec.pc is missing: run scripts/install.sh $prefix first" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/crate"
for entry in "$crate"/*; do
    [ "$(basename "$entry")" = target ] || cp -R "$entry" "$work/crate/"
done

unset SPECDEC_LIB_DIR
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export SPECDEC_REPO_ROOT="$repo"
export CARGO_TARGET_DIR="$work/target"
(cd "$work/crate" && cargo test --offline "$@")

# The rpath build.rs set must lead the tests to PREFIX's library, not another copy.
if command -v ldd >/dev/null; then
    test_binary=$(find "$CARGO_TARGET_DIR/debug/deps" -maxdepth 1 -type f -perm -u+x -name 'abi-*' | head -n 1)
    loaded=$(ldd "$test_binary" | sed -n 's/.*libspecdec[^ ]* => \([^ ]*\).*/\1/p')
    case "$loaded" in
    "$prefix/lib/"*) echo "the tests ran against $loaded" ;;
    *)
        echo "the tests loaded '${loaded}', not the library under $prefix/lib" >&2
        exit 1
        ;;
    esac
fi
