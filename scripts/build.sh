#!/bin/sh
# Generates the build system if needed and builds wgu in BUILDDIR (default
# build/) with any extra configure flags given, e.g.
#   scripts/build.sh build-san --enable-sanitizers
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-build}
[ $# -gt 0 ] && shift
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi
fi
mkdir -p "$builddir"
cd "$builddir"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" "$@"
fi
make -j"$(nproc)"
