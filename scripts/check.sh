#!/usr/bin/env bash
# check.sh KERNEL [KCONFIG]: run the test suite (tests/list) in a guest booted
# with the KERNEL build and report TAP per test program, then a final line
# "N passed, N failed, N skipped". Fails on any failed test, on a guest that
# does not finish in time, on any kernel splat in the guest's log, on a rig
# that lacks something it provides (the guest's rig.tap, guest/job-check.sh),
# and on a program or group that ran fewer cases than tests/minimum declares
# (skips do not count as run).
# TESTS=prog1,prog2 runs a subset; DAX_STRESS_SECONDS sets dax_stress's length;
# TEST_BIN=DIR (relative to the checkout) runs the programs built in DIR
# instead of build/tests (make -C tests OUT=$PWD/DIR ...).
# If the guest stops early because a program left the DAX mounts busy (a
# task that does not die: job status 4), panicked or timed out, a new guest
# runs the programs that had not started, up to MAX_BOOTS (default 3)
# guests in all: one hang costs one program, not the rest of the run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: check.sh stock|patched [KCONFIG]}
kconfig=${2:-default}
tag=$kernel
[ "$kconfig" = default ] || tag=$kernel-$kconfig
res=$BUILD/results/$tag-check
max_boots=${MAX_BOOTS:-3}

# The scanner that judges the guest's log must itself judge right.
"$ROOT/scripts/splat-scan-test.sh"

# The programs to run, in order.
progs=()
while read -r group prog _; do
	case "$group" in '' | '#'*) continue ;; esac
	if [ -n "${TESTS:-}" ] && [[ ",$TESTS," != *",$prog,"* ]]; then
		continue
	fi
	progs+=("$prog")
done <"$ROOT/tests/list"
[ "${#progs[@]}" -gt 0 ] || die "no program of tests/list matches TESTS=${TESTS:-}"

mkdir -p "$BUILD/results"
# Private to this run (another check.sh may run at the same time).
all=$(mktemp -d "$BUILD/results/.$tag-check.XXXXXX")
chmod 755 "$all"
trap 'rm -rf "$all"' EXIT
boot=0 guest_rc=0 todo=("${progs[@]}")
while [ "${#todo[@]}" -gt 0 ] && [ "$boot" -lt "$max_boots" ]; do
	boot=$((boot + 1))
	list=$(IFS=,; echo "${todo[*]}")
	[ "$boot" -eq 1 ] || echo "# rig: booting guest $boot for the ${#todo[@]} programs left: $list"
	out=$all/boot$boot-run-guest.txt	# what run-guest.sh printed
	: >"$out"
	RIG_ENV="TESTS=$list
TEST_BIN=${TEST_BIN:-}
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
	# Keep this guest's results: the next boot starts from an empty $res.
	for f in "$res"/*; do
		[ -e "$f" ] || continue
		b=${f##*/}
		case "$b" in
		[0-9][0-9][0-9]-*) cp -p "$f" "$all/$b" ;;
		*) cp -p "$f" "$all/boot$boot-$b" ;;
		esac
	done
	# The programs that did not start (one that started and hung counts as run).
	left=()
	for p in "${todo[@]}"; do
		compgen -G "$res/[0-9][0-9][0-9]-$p.tap" >/dev/null || left+=("$p")
	done
	# Boot again only when this guest stopped early (the mounts stayed busy
	# after a program: job status 4; a panic: 125; the guest's time-out:
	# 124) and made progress.
	case "$guest_rc" in 4 | 124 | 125) ;; *) break ;; esac
	[ "${#left[@]}" -lt "${#todo[@]}" ] || break
	todo=("${left[@]}")
done
# One result directory for the whole run: every guest's files in $res.
rm -rf "$res"
mv "$all" "$res"
trap - EXIT

# minimum PROG: the number of cases PROG must run (tests/minimum; 1 if none)
minimum() {
	local m
	m=$(awk -v p="$1" '$1 == p { print $2; exit }' "$ROOT/tests/minimum" 2>/dev/null || true)
	echo "${m:-1}"
}

pass=0 fail=0 skip=0
failed=()
declare -A ran_g min_g
groups=()
echo "TAP version 13"
# The rig itself: every guest's rig.tap must be complete and all ok.
for f in "$res"/boot*-rig.tap; do
	[ -e "$f" ] || { echo "not ok rig # no rig check in the guest (rig.tap missing)"; fail=$((fail + 1)); failed+=(rig); break; }
	b=$(basename "$f" .tap)
	echo "# rig: ${b%%-rig}"
	grep -E '^(not )?ok ' "$f" | sed 's/^/    /'
	f_rig=$(grep -cE '^not ok ' "$f" || true)
	if [ "$f_rig" -gt 0 ]; then
		grep -E '^not ok ' "$f" | sed 's/^not ok [0-9]* /# rig broken: /; s/ # rig broken: /: /'
		fail=$((fail + f_rig))
		failed+=("rig(${b%%-rig})")
	fi
done
while read -r group prog _; do
	case "$group" in '' | '#'*) continue ;; esac
	if [ -n "${TESTS:-}" ] && [[ ",$TESTS," != *",$prog,"* ]]; then
		continue
	fi
	if [ -z "${min_g[$group]+x}" ]; then
		groups+=("$group")
		ran_g[$group]=0 min_g[$group]=0
	fi
	min=$(minimum "$prog")
	min_g[$group]=$((min_g[$group] + min))
	tap=$(find "$res" -maxdepth 1 -name "[0-9][0-9][0-9]-$prog.tap" | head -n 1)
	rcf=${tap%.tap}.rc
	echo "# $group: $prog"
	if [ -z "$tap" ] || [ ! -f "$rcf" ]; then
		if [ -z "$tap" ]; then
			echo "not ok $prog # did not run (guest stopped early)"
		else
			grep -E '^(not )?ok ' "$tap" | sed 's/^/    /' || true
			echo "not ok $prog # did not finish (guest stopped while it ran)"
		fi
		fail=$((fail + 1))
		failed+=("$prog")
		continue
	fi
	read -r rc _ secs stuck <"$rcf" || true
	p=$(grep -cE '^ok ' "$tap" || true)
	s=$(grep -cE '^ok .*# [Ss][Kk][Ii][Pp]' "$tap" || true)
	f=$(grep -cE '^not ok ' "$tap" || true)
	grep -E '^(not )?ok ' "$tap" | sed 's/^/    /' || true
	p=$((p - s))
	ran=$((p + f))
	ran_g[$group]=$((ran_g[$group] + ran))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && ! { [ "$rc" -eq 4 ] && [ "$s" -gt 0 ]; }; then
		echo "    not ok $prog # exit status $rc$([ "$rc" -eq 124 ] && echo ' (timed out)')"
		f=$((f + 1))
	fi
	# every case the program announced ("1..N") reported a result
	plan=$(sed -nE 's/^1\.\.([0-9]+).*/\1/p' "$tap" | head -n 1)
	if [ -n "$plan" ] && [ "$plan" -ne $((p + s + f)) ] && [ "$rc" -ne 124 ]; then
		echo "    not ok $prog # $((p + s + f)) results for a plan of $plan"
		f=$((f + 1))
	fi
	if [ "$ran" -lt "$min" ]; then
		echo "    not ok $prog # $ran cases ran, fewer than the $min of tests/minimum ($s skipped)"
		f=$((f + 1))
	fi
	case "${stuck:-}" in
	'') ;;
	busy)
		echo "    not ok $prog # the DAX mounts stayed busy after it (the guest stopped)"
		f=$((f + 1))
		;;
	*)
		echo "    not ok $prog # left processes that do not die (see the log)"
		f=$((f + 1))
		;;
	esac
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	[ "$f" -eq 0 ] || failed+=("$prog")
	echo "# $prog: $p passed, $f failed, $s skipped, $ran of at least $min ran, in ${secs}s"
done <"$ROOT/tests/list"

for g in "${groups[@]}"; do
	echo "# group $g: ${ran_g[$g]} cases ran (min ${min_g[$g]})"
	if [ "${ran_g[$g]}" -lt "${min_g[$g]}" ]; then
		echo "not ok group $g # ${ran_g[$g]} cases ran, fewer than ${min_g[$g]}"
		fail=$((fail + 1))
		failed+=("group:$g")
	fi
done

splat=0
logs=()
for f in "$res"/boot*-console.log "$res"/boot*-dmesg.txt; do
	[ -e "$f" ] && logs+=("$f")
done
"$ROOT/scripts/splat-scan.sh" "${logs[@]}" || splat=1
verdict=0
case "$guest_rc" in
0) ;;
124) echo "# guest timed out"; verdict=1 ;;
*) echo "# guest job failed (status $guest_rc)"; verdict=1 ;;
esac
[ "$boot" -eq 1 ] || echo "# $boot guests booted (a program left the mounts busy)"
[ "$splat" -eq 0 ] || { echo "# kernel splat in the guest log (see above)"; verdict=1; }
[ "$fail" -eq 0 ] || { echo "# failed: ${failed[*]}"; verdict=1; }
echo "# results: $res ($tag kernel)"
echo "$pass passed, $fail failed, $skip skipped"
exit "$verdict"
