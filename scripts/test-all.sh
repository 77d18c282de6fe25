#!/bin/sh
# The README's second command: installs every dependency, builds wgu with
# AddressSanitizer and UndefinedBehaviorSanitizer, runs the whole test suite
# (unit and known-answer tests, fuzz corpora, system tests in network
# namespaces), checks that a release tarball builds and passes (make
# distcheck), runs the long-running programs of a build without sanitizers
# under valgrind (tests/valgrind.sh on build-valgrind/: no memory error, no
# leak), then runs each libFuzzer target briefly.  Run as root on
# Debian 12.  Exit status 0 only when everything passed; the last line is
# the total "N passed, N failed".
#   WGU_FUZZ_SECONDS  seconds per fuzz target (default 10; 0 skips fuzzing)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
./scripts/build.sh build-check --enable-sanitizers
# ASan: fail on leaks too; UBSan already aborts (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0
step() { # NAME COMMAND...: runs a step, keeps its output and exit status
	name=$1; shift
	echo "=== $name"
	{ "$@" && rc=0 || rc=$?; echo $rc >"$logs/$name.rc"; } 2>&1 | tee "$logs/$name.out"
	[ "$(cat "$logs/$name.rc")" = 0 ] || { status=1; failed_steps="$failed_steps $name"; }
}
failed_steps=""
step check make -C build-check check
# distcheck builds and tests a release tarball: its status counts, its
# tests are not added to the total a second time.  It runs every unit test
# and fuzz corpus, but of the system tests only a few quick ones that use
# files shipped beside the programs (hub-setup, the units, the quick-start
# configurations): the rest exercise the same binaries the first run
# already tested, and repeating them cost ten minutes of CI.
distcheck_keep='sys_(keys|quick|hubsetup|unit)\.sh'
distcheck_skip=$(cd "$top" && ls tests/sys_*.sh | grep -v -E "$distcheck_keep" | tr '\n' ' ')
step distcheck make -C build-check distcheck \
    SKIP_SYSTEM_TESTS="$distcheck_skip"
# valgrind and ASan do not mix: a plain build of the same tree.
valgrind_step() {
	./scripts/build.sh build-valgrind && ./tests/valgrind.sh build-valgrind
}
step valgrind valgrind_step
secs=${WGU_FUZZ_SECONDS:-10}
[ "$secs" -gt 0 ] && step fuzz ./fuzz/run-fuzzers.sh "$secs"

passed=0 failed=0
for f in "$logs/check.out" "$logs/valgrind.out" "$logs/fuzz.out"; do
	[ -f "$f" ] || continue
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$f" | tail -n 1)
	[ -n "$line" ] || line="0 passed, 1 failed"
	p=${line%% passed*}; r=${line#*passed, }; r=${r%% failed*}
	passed=$((passed + p)); failed=$((failed + r))
done
[ $failed -eq 0 ] || status=1
echo "test-all: $passed passed, $failed failed"
[ $status -eq 0 ] || echo "test-all: FAILED:$failed_steps" >&2
exit $status
