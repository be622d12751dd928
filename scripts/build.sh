#!/usr/bin/env bash
# Builds libspecdec.so and the specdec command in release mode and installs them, with
# the headers, under dist/ (dist/lib, dist/bin, dist/include).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

# The Swift runtime is linked statically so a C host needs only libspecdec.so and libc;
# the version script keeps everything but specdec_* out of the dynamic symbol table.
# The SONAME carries SPECDEC_ABI_VERSION: hosts linked against one ABI never load another.
abi=$(sed -n 's/^#define SPECDEC_ABI_VERSION \([0-9]*\).*/\1/p' include/specdec.h)
soname="libspecdec.so.$abi"
swift build -c release \
    -Xswiftc -static-stdlib \
    -Xlinker --version-script="$PWD/Sources/SpecDecCABI/exports.map" \
    -Xlinker -soname="$soname"

bin=$(swift build -c release --show-bin-path)
mkdir -p dist/lib dist/bin dist/include
rm -f dist/lib/libspecdec.so dist/lib/libspecdec.so.*
install -m 755 "$bin/libspecdec.so" "dist/lib/$soname"
ln -s "$soname" dist/lib/libspecdec.so
install -m 755 "$bin/specdec-cli" dist/bin/specdec
install -m 644 include/*.h dist/include/
echo "built dist/lib/$soname (and the libspecdec.so link) and dist/bin/specdec"
