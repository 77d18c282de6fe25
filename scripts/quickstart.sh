#!/bin/sh
# The README's first command: installs every dependency, builds wgu, and runs
# the main job, the telemetry demo (scripts/demo.sh): a hub and an edge
# network namespace joined through a wgu tunnel, the hardened Mosquitto
# broker, wgu-historian and wgu-sim, the live telemetry, then the
# verification (nothing lost, nothing doubled, each anomaly seen, the
# security checks).  About two minutes; everything it sets up is removed
# at the end except the historian's log and plot (it says where).  Options
# are the demo's (--duration SECONDS, --nodes N, --out DIR, ...).  Run as
# root on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
./scripts/build.sh build
echo
build/src/wgu --version
exec env WGU_BINDIR="$top/build/src" sh ./scripts/demo.sh "$@"
