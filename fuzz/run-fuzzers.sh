#!/bin/sh
# Builds the libFuzzer targets in build-fuzz/ and fuzzes each one for
# SECONDS (default 30): CI's fuzzing job.  Run it from the source tree root,
# which must not be configured in-tree (configure refuses a second build
# directory then; `make distclean` there first).
#
#	fuzz/run-fuzzers.sh [SECONDS]
#
# The targets are the Makefile's $(FUZZ_TARGETS).  Each starts from a copy of
# its seed corpus fuzz/corpus/NAME/, so what it finds never lands in the
# committed corpus, with fuzz/NAME.dict or, for fuzz_X, fuzz/X.dict when
# there is one.  Per target it prints the executions libFuzzer reports; a
# crash, leak, timeout or out-of-memory fails the target and names the
# artifact under build-fuzz/artifacts/NAME/.  Closing line "N passed, N
# failed"; exit status 1 when a target failed, 2 when nothing could run.
#
# Environment: WGU_FUZZ_BUILDDIR (default build-fuzz), CC (default clang).
usage() {
	echo "usage: fuzz/run-fuzzers.sh [SECONDS]  (from the source tree root)" >&2
	exit 2
}

seconds=${1:-30}
case "$seconds" in '' | *[!0-9]*) usage ;; esac
[ $# -le 1 ] || usage
if [ ! -f fuzz/run-fuzzers.sh ] || [ ! -f configure.ac ]; then
	usage
fi
srcdir=$(pwd)
builddir=${WGU_FUZZ_BUILDDIR:-build-fuzz}
case "$builddir" in /*) ;; *) builddir=$srcdir/$builddir ;; esac
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

die() {
	echo "run-fuzzers: $*" >&2
	exit 2
}

# ---------------------------------------------------------------- build
if [ ! -x configure ]; then
	echo "run-fuzzers: no ./configure, running autoreconf -fi"
	autoreconf -fi || die "autoreconf failed"
fi
mkdir -p "$builddir" || die "cannot create $builddir"
cd "$builddir" || die "cannot enter $builddir"
if ! grep -q -e '--enable-fuzzing' config.status 2>/dev/null; then
	echo "run-fuzzers: configuring $builddir"
	"$srcdir/configure" CC="${CC:-clang}" --enable-fuzzing >configure.log 2>&1 ||
		{ tail -n 30 configure.log; die "configure failed (configure.log)"; }
fi
# Regenerate the Makefile first if Makefile.am changed, so that chatter
# stays out of the answer below.
make Makefile >make.log 2>&1 || { tail -n 40 make.log; die "make Makefile failed"; }
# Makefile.am's print-fuzz-targets rule, or the same question asked through
# a makefile fragment on stdin when the rule is missing.
# shellcheck disable=SC2016 # $(FUZZ_TARGETS) is for make, not the shell
targets=$(make -s print-fuzz-targets 2>/dev/null) ||
	targets=$(printf 'wgu-print-fuzz-targets:\n\t@echo $(FUZZ_TARGETS)\n' |
	    make -s -f Makefile -f - wgu-print-fuzz-targets) ||
	die "cannot read FUZZ_TARGETS from the Makefile"
[ -n "$targets" ] || die "FUZZ_TARGETS is empty"
echo "run-fuzzers: building $targets"
# shellcheck disable=SC2086 # one word per target
make -j"$jobs" $targets >>make.log 2>&1 ||
	{ tail -n 40 make.log; die "make failed (make.log)"; }

# ---------------------------------------------------------------- fuzz
tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

count_files() {
	n=0
	for f in "$1"/* "$1"/.[!.]*; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo $n
}

# The path of the first existing file among the arguments, if any.
first_file() {
	for f in "$@"; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
}

passed=0 failed=0
for target in $targets; do
	name=$(basename "$target")
	corpus=$tmp/$name
	artifacts=$builddir/artifacts/$name
	log=$builddir/$name.fuzz.log
	mkdir -p "$corpus" "$artifacts"
	if [ -d "$srcdir/fuzz/corpus/$name" ]; then
		cp -R "$srcdir/fuzz/corpus/$name/." "$corpus/"
	fi
	seeds=$(count_files "$corpus")
	dict=$(first_file "$srcdir/fuzz/$name.dict" \
	    "$srcdir/fuzz/${name#fuzz_}.dict")

	# -timeout: one input running for 25 s is a hang, not slow luck.
	"./$target" -max_total_time="$seconds" -timeout=25 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$artifacts/" ${dict:+-dict="$dict"} \
	    "$corpus" >"$log" 2>&1
	rc=$?

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "PASS: $name: ${execs:-?} executions in ${seconds}s," \
		    "corpus $seeds -> $(count_files "$corpus") inputs"
		passed=$((passed + 1))
	else
		artifact=$(sed -n 's/.*Test unit written to //p' "$log" |
		    tail -n 1)
		echo "FAIL: $name (exit $rc) after ${execs:-?} executions;" \
		    "artifact: ${artifact:-none written}; log: $log"
		grep -E -A 12 '^==[0-9]+== ?ERROR|^SUMMARY|runtime error' "$log" |
		    head -n 40 | sed 's/^/    /'
		echo "    reproduce: $builddir/$target ${artifact:-}"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
