#!/usr/bin/env bash
# check.sh KERNEL [KCONFIG]: run the test suite (tests/list) in a guest booted
# with the KERNEL build and report TAP per test program, then a final line
# "N passed, N failed, N skipped". Fails on any failed test, on a guest that
# does not finish in time, and on any kernel splat in the guest's log.
# TESTS=prog1,prog2 runs a subset; DAX_STRESS_SECONDS sets dax_stress's length.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: check.sh stock|patched [KCONFIG]}
kconfig=${2:-default}
tag=$kernel
[ "$kconfig" = default ] || tag=$kernel-$kconfig
res=$BUILD/results/$tag-check

mkdir -p "$BUILD/results"
out=$BUILD/results/.console-$tag-check
: >"$out"
RIG_ENV="TESTS=${TESTS:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
DAX_STRESS_SECONDS=${DAX_STRESS_SECONDS:-10}
DAX_STRESS_OPS=${DAX_STRESS_OPS:-}" TIMEOUT=${TIMEOUT:-2700} \
	"$ROOT/scripts/run-guest.sh" "$kernel" check "$kconfig" >"$out" 2>&1 &
pid=$!
# Show the guest's test lines as they come.
tail -n +1 -f --pid="$pid" "$out" 2>/dev/null |
	grep -a --line-buffered -E '^(ok|not ok) |^# rig:|^rig:|^==>|error' || true
guest_rc=0
wait "$pid" || guest_rc=$?
if [ ! -d "$res" ]; then
	cat "$out" >&2
	die "the guest did not run (status $guest_rc)"
fi

pass=0 fail=0 skip=0
failed=()
echo "TAP version 13"
while read -r group prog _; do
	case "$group" in '' | '#'*) continue ;; esac
	if [ -n "${TESTS:-}" ] && [[ ",$TESTS," != *",$prog,"* ]]; then
		continue
	fi
	tap=$(find "$res" -maxdepth 1 -name "[0-9][0-9][0-9]-$prog.tap" | head -n 1)
	rcf=${tap%.tap}.rc
	echo "# $group: $prog"
	if [ -z "$tap" ] || [ ! -f "$rcf" ]; then
		echo "not ok $prog # did not run (guest stopped early)"
		fail=$((fail + 1))
		failed+=("$prog")
		continue
	fi
	read -r rc _ secs <"$rcf"
	p=$(grep -cE '^ok ' "$tap" | tr -d ' ' || true)
	s=$(grep -cE '^ok .*# [Ss][Kk][Ii][Pp]' "$tap" || true)
	f=$(grep -cE '^not ok ' "$tap" || true)
	grep -E '^(not )?ok ' "$tap" | sed 's/^/    /'
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && ! { [ "$rc" -eq 4 ] && [ "$s" -gt 0 ]; }; then
		echo "    not ok $prog # exit status $rc$([ "$rc" -eq 124 ] && echo ' (timed out)')"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	[ "$f" -eq 0 ] || failed+=("$prog")
	echo "# $prog: $p passed, $f failed, $s skipped in ${secs}s"
done <"$ROOT/tests/list"

splat=0
"$ROOT/scripts/splat-scan.sh" "$res/console.log" "$res/dmesg.txt" || splat=1
verdict=0
case "$guest_rc" in
0) ;;
124) echo "# guest timed out"; verdict=1 ;;
*) echo "# guest job failed (status $guest_rc)"; verdict=1 ;;
esac
[ "$splat" -eq 0 ] || { echo "# kernel splat in the guest log (see above)"; verdict=1; }
[ "$fail" -eq 0 ] || { echo "# failed: ${failed[*]}"; verdict=1; }
echo "# results: $res ($tag kernel)"
echo "$pass passed, $fail failed, $skip skipped"
exit "$verdict"
