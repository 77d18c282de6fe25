#!/bin/sh
# Replays each fuzz target's seed corpus once: part of `make check`, run
# from the build directory.
#
#	WGU_FUZZ_TARGETS="fuzz/fuzz_packet ..." WGU_SRCDIR=SRC fuzz/run-corpus.sh
#
# The corpus of fuzz/fuzz_NAME is $WGU_SRCDIR/fuzz/corpus/fuzz_NAME/.  A
# target built with the plain driver (fuzz/replay_driver.c) is given the
# directory; a libFuzzer build is given the files, since a directory would
# make libFuzzer fuzz instead of replay.  One test per target; the closing
# line is "N passed, N failed".  Each target's output goes to
# fuzz_NAME.corpus.log and is shown when it fails.
srcdir=${WGU_SRCDIR:-$(dirname "$0")/..}
targets=$WGU_FUZZ_TARGETS
if [ -z "$targets" ]; then
	# By hand in a build directory: whatever targets were built.
	for t in fuzz/fuzz_*; do
		case "$t" in *.c|*.o|*.log) continue ;; esac
		[ -f "$t" ] && [ -x "$t" ] && targets="$targets $t"
	done
fi

# The regular files directly in a corpus directory, as both drivers see it.
count_inputs() {
	n=0
	for f in "$1"/* "$1"/.[!.]*; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

# Runs one target ($1, a path to run) over its corpus ($2), output to $3.
replay() {
	run=$1 corpus=$2 log=$3
	if "$run" -help=1 2>&1 | grep -q libFuzzer; then
		set --
		for f in "$corpus"/* "$corpus"/.[!.]*; do
			[ -f "$f" ] && set -- "$@" "$f"
		done
		"$run" -rss_limit_mb=2048 "$@" >"$log" 2>&1
	else
		"$run" "$corpus/" >"$log" 2>&1
	fi
}

passed=0 failed=0
for target in $targets; do
	name=$(basename "$target")
	corpus=$srcdir/fuzz/corpus/$name
	log=$name.corpus.log
	case "$target" in /*) run=$target ;; *) run=./$target ;; esac
	ninputs=$(count_inputs "$corpus")
	if [ ! -x "$run" ]; then
		echo "FAIL: $name (not built: no executable $run)"
		failed=$((failed + 1))
	elif [ "$ninputs" -eq 0 ]; then
		echo "FAIL: $name (no seed corpus in $corpus)"
		failed=$((failed + 1))
	elif replay "$run" "$corpus" "$log"; then
		echo "PASS: $name ($ninputs inputs replayed)"
		passed=$((passed + 1))
	else
		echo "FAIL: $name (exit $?, $ninputs inputs) -- log follows"
		# The report, not the inputs that passed before it.
		sed -e '/): ok$/d' -e '/^Running: /d' -e '/^Executed /d' \
		    -e '/^Shadow bytes around/,$d' -e 's/^/    /' "$log" | head -n 40
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
