#!/usr/bin/env bash
# Installs libspecdec for C hosts under PREFIX (default /usr/local):
#   PREFIX/lib/libspecdec.so.N        the library (SONAME libspecdec.so.N, N = SPECDEC_ABI_VERSION)
#   PREFIX/lib/libspecdec.so          the link a linker's -lspecdec finds
#   PREFIX/include/specdec.h, specdec_plugin.h
#   PREFIX/lib/pkgconfig/specdec.pc   for `pkg-config --cflags --libs specdec`
#   PREFIX/bin/specdec                the command line
# Builds dist/ first when it is missing.
#
#   bash scripts/install.sh [PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
[ -f dist/lib/libspecdec.so ] || bash scripts/build.sh

abi=$(sed -n 's/^#define SPECDEC_ABI_VERSION \([0-9]*\).*/\1/p' include/specdec.h)
major=$(sed -n 's/^#define SPECDEC_VERSION_MAJOR \([0-9]*\).*/\1/p' include/specdec.h)
minor=$(sed -n 's/^#define SPECDEC_VERSION_MINOR \([0-9]*\).*/\1/p' include/specdec.h)
patch=$(sed -n 's/^#define SPECDEC_VERSION_PATCH \([0-9]*\).*/\1/p' include/specdec.h)
soname="libspecdec.so.$abi"
built=$(readelf -d dist/lib/libspecdec.so | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$built" != "$soname" ]; then
    echo "dist/lib/libspecdec.so has SONAME '${built}', expected $soname: rebuild with scripts/build.sh" >&2
    exit 1
fi

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/bin"
install -m 755 "dist/lib/$soname" "$prefix/lib/$soname"
ln -sfn "$soname" "$prefix/lib/libspecdec.so"
install -m 644 include/specdec.h include/specdec_plugin.h "$prefix/include/"
install -m 755 dist/bin/specdec "$prefix/bin/specdec"
prefix_abs=$(cd "$prefix" && pwd)
cat > "$prefix/lib/pkgconfig/specdec.pc" <<PC
prefix=$prefix_abs
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: specdec
Description: Embeddable speculative-decoding engine with a stable C ABI
Version: $major.$minor.$patch
Libs: -L\${libdir} -lspecdec
Cflags: -I\${includedir}
PC
echo "installed libspecdec $major.$minor.$patch ($soname) under $prefix_abs"
