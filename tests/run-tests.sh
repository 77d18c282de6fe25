#!/bin/sh
# Runs every test program and script given as arguments, adds up their
# closing "N passed, N failed" lines and prints the total as the last line.
# A program without such a line counts as one test, judged by its exit code;
# exit status 77 means skipped (system tests without root, for example).
# Output of each test goes to TEST.log; failures are shown in full.
passed=0 failed=0 skipped=0
for t in "$@"; do
	name=$(basename "$t")
	log="$name.log"
	start=$(date +%s)
	case "$t" in
	*.sh) sh "$t" >"$log" 2>&1 ;;
	*) "./$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	secs=$(($(date +%s) - start))
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ $rc -eq 77 ]; then
		echo "SKIP: $name ($(tail -n 1 "$log"))"
		skipped=$((skipped + 1))
		continue
	fi
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }; f=${f%% failed*}
	elif [ $rc -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	# A non-zero exit with no counted failure (a crash) is a failure.
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ $rc -eq 0 ]; then
		echo "PASS: $name ($p passed, ${secs}s)"
	else
		echo "FAIL: $name (exit $rc, $f failed, ${secs}s) -- log follows"
		sed 's/^/    /' "$log" | tail -n 60
	fi
done
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
