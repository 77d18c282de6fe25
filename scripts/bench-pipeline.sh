#!/bin/sh
# The pipeline's end-to-end figure for the README: NODES simulated nodes
# at RATE readings/s each for SECONDS, through the tunnel and the broker
# into the log and the store, with the default fsync policy; prints the
# readings per second from the start to the last reading in the log and
# each process's CPU time per reading, and checks that every reading is
# in the log exactly once (tests/soak.sh without its memory checks).
# As root, from a built tree (no sanitizers):
#
#	scripts/bench-pipeline.sh [BUILDDIR [NODES [RATE [SECONDS]]]]
#
# Defaults: build, 999 nodes (soak.sh's most), 20/s each,
# 60 s.  Output and samples in ./soak-DATE-TIME (SOAK_OUT).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
SOAK_NODES=${2:-999} SOAK_RATE=${3:-20} SOAK_SECONDS=${4:-60} \
SOAK_SAMPLE=${SOAK_SAMPLE:-5} SOAK_MEMORY=0 WGU_BIN=$build/src/wgu \
WGU_SRCDIR=$top exec sh "$top/tests/soak.sh"
