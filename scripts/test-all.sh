#!/bin/sh
# The README's second command: installs every dependency, builds wgu with
# AddressSanitizer and UndefinedBehaviorSanitizer, runs the whole test suite
# (unit tests, known-answer tests, fuzz corpora, system tests in network
# namespaces), then runs each libFuzzer target briefly.  Run as root on
# Debian 12.  Exit status 0 only when everything passed.
#   WGU_FUZZ_SECONDS  seconds per fuzz target (default 30; 0 skips fuzzing)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
./scripts/build.sh build-check --enable-sanitizers
# ASan: fail on leaks too; UBSan already aborts (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
status=0
make -C build-check check || status=1
secs=${WGU_FUZZ_SECONDS:-30}
if [ "$secs" -gt 0 ]; then
	./fuzz/run-fuzzers.sh "$secs" || status=1
fi
if [ $status -ne 0 ]; then
	echo "test-all: FAILED" >&2
fi
exit $status
