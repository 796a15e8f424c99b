#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gup_test_dax: the kernel's own mm selftest gup_test (built from the kernel
# tree next to this script) run against 16 MiB files on the DAX mounts
# ($DAX_XFS, $DAX_EXT4), for GUP, GUP-fast, pin, pin-fast, GUP faulting the
# pages in (-z), private read-only GUP and DUMP_USER_PAGES_TEST (with and
# without FOLL_PIN).  Each gup_test run is one TAP line here; its own output
# follows as comments.  (PIN_LONGTERM_BENCHMARK, -L, is left out: gup_test
# reports success even when nothing could be pinned; dax_longterm covers it.
# -z is only used with GUP_BASIC_TEST: the selftest's FOLL_TOUCH (0x02) is
# stale, in 6.12 0x02 is FOLL_GET, and with a pin command it trips the
# FOLL_GET|FOLL_PIN WARN in is_valid_gup_args().)
#
# gup_test says "ok" whenever its ioctl returns 0, also when GUP stopped
# early, so a run passes here only if
#   - gup_test exited 0 with one "ok" per thread and no "not ok",
#   - it did not skip (no gup_test: "ok ... # SKIP"),
#   - every thread got the whole range: one "Time:" line per thread and
#     repeat for the benchmarks (-u, -a), one "done" line per thread for
#     the tests (-U, -b, -c), and no "truncated" / "Truncated (size: N)";
#   - for DUMP_USER_PAGES_TEST (-c), the kernel log has one complete
#     dump_page() record per page asked for, in order, each holding the
#     probe's own reference: refcount >= 2 (the probe's + the page's own,
#     stock and series alike), with -p (FOLL_PIN) a pin: refcount >=
#     1 + 1024 (GUP_PIN_COUNTING_BIAS, small folio) or head pincount >= 1.
# In the rig ($DAX_RIG=1, guest/job-check.sh) a missing DAX mount, a
# gup_test that skips or a file that cannot be made is "not ok"; run by hand
# they are skips.
set -u
bin=$(dirname "$(readlink -f "$0")")
gup=$bin/gup_test
size_mb=16
rig=${DAX_RIG:-0}

set -- \
	"-u -S" \
	"-a -S" \
	"-U -S" \
	"-b -S" \
	"-U -S -z" \
	"-U -W -z" \
	"-u -W" \
	"-a -S -j 2 -r 3" \
	"-c -S 0 19 511 512 4095" \
	"-c -p -S 0 511 512"

dirs=
for v in DAX_XFS DAX_EXT4; do
	eval "d=\${$v:-}"
	[ -n "$d" ] && [ -d "$d" ] && dirs="$dirs $d"
done

echo "TAP version 13"
if [ -z "$dirs" ]; then
	if [ "$rig" = 1 ]; then
		echo "1..1"
		echo "not ok 1 gup_test_dax # rig broken: no DAX mount (\$DAX_XFS, \$DAX_EXT4)"
		exit 1
	fi
	echo "1..0 # SKIP no DAX mount (\$DAX_XFS, \$DAX_EXT4)"
	exit 4
fi
# shellcheck disable=SC2086 # word count of the list
ndirs=$(echo $dirs | wc -w)
echo "1..$(($# * ndirs))"

n=0 fail=0
# result OK|FAIL|SKIP DESC [REASON]: one TAP line; a skip fails in the rig
result() {
	case $1 in
	OK) echo "ok $n $2" ;;
	SKIP)
		if [ "$rig" = 1 ]; then
			echo "not ok $n $2 # rig broken: $3"
			fail=$((fail + 1))
		else
			echo "ok $n $2 # SKIP $3"
		fi
		;;
	*)
		echo "not ok $n $2 # $3"
		fail=$((fail + 1))
		;;
	esac
}

# opt FLAG DEFAULT ARGS...: the value after FLAG in ARGS
opt() {
	f=$1 v=$2
	shift 2
	while [ $# -gt 0 ]; do
		if [ "$1" = "$f" ] && [ $# -gt 1 ]; then
			v=$2
		fi
		shift
	done
	echo "$v"
}

# dumps: "index refcount pincount" per complete dump_page() record of gup_test
# in the kernel log lines on stdin (pincount -1 for a small folio)
dumps() {
	awk '
	/---- page #[0-9]+, starting from user virt addr/ {
		s = $0; sub(/.*---- page #/, "", s); sub(/,.*/, "", s)
		idx = s; ref = ""; pin = -1; next
	}
	idx != "" && /page: refcount:/ {
		s = $0; sub(/.*page: refcount:/, "", s); sub(/ .*/, "", s); ref = s; next
	}
	idx != "" && /head: order:.*pincount:/ {
		s = $0; sub(/.*pincount:/, "", s); sub(/ .*/, "", s); pin = s; next
	}
	idx != "" && /page dumped because: gup_test: dump_pages\(\) test/ {
		if (ref != "") print idx, ref, pin
		idx = ""
	}'
}

# check_dumps PIN INDEX...: the dumps on stdin are those asked for, each with
# the probe's reference (or pin); prints what is wrong, nothing if all is well
check_dumps() {
	pin=$1
	shift
	got=$(dumps)
	want=$*
	# shellcheck disable=SC2086 # words
	have=$(echo "$got" | awk 'NF { printf "%s%s", sep, $1; sep = " " }')
	if [ "$have" != "$want" ]; then
		echo "dumps of pages [$have], asked for [$want]"
		return
	fi
	echo "$got" | awk -v pin="$pin" '
	NF {
		if (pin && !($2 >= 1025 || $3 >= 1))
			printf "page #%s refcount %s pincount %s: not pinned; ", $1, $2, $3
		if (!pin && $2 < 2)
			printf "page #%s refcount %s: no reference held; ", $1, $2
	}'
}

for d in $dirs; do
	f=$d/gup_test_dax.$$
	rm -f "$f"
	# allocate (aligned extents) and write, so private read-only GUP sees
	# DAX pages rather than the zero page
	made=1
	if ! fallocate -l ${size_mb}M "$f" ||
	   ! dd if=/dev/zero of="$f" bs=1M count=$size_mb conv=notrunc,fsync status=none; then
		echo "# cannot create $f"
		made=0
	fi
	for args in "$@"; do
		n=$((n + 1))
		desc="gup_test $args on $d"
		if [ "$made" = 0 ]; then
			result SKIP "$desc" "cannot create $f"
			continue
		fi
		# shellcheck disable=SC2086 # args are words
		threads=$(opt -j 1 $args)
		# shellcheck disable=SC2086
		repeats=$(opt -r 1 $args)
		case " $args " in
		*" -c "*) kind=dump want=$threads ;;
		*" -U "* | *" -b "*) kind=test want=$threads ;;
		*) kind=bench want=$((threads * repeats)) ;;
		esac
		[ "$kind" = dump ] && klog=$(dmesg | wc -l)
		# shellcheck disable=SC2086 # args are words
		out=$("$gup" -m $size_mb -f "$f" $args 2>&1)
		rc=$?
		echo "$out" | sed 's/^/# /'
		oks=$(echo "$out" | grep -c '^ok ')
		if echo "$out" | grep -q '^ok .*# SKIP'; then
			result SKIP "$desc" "gup_test skipped: $(echo "$out" | sed -n 's/^# //p' | head -n 1)"
			continue
		fi
		if [ $rc -ne 0 ] || [ "$oks" -ne "$threads" ] || echo "$out" | grep -q '^not ok '; then
			result FAIL "$desc" "exit $rc, $oks of $threads threads ok"
			continue
		fi
		if echo "$out" | grep -qi 'truncated'; then
			result FAIL "$desc" "GUP stopped early: $(echo "$out" | grep -i -m1 truncated)"
			continue
		fi
		if [ "$kind" = bench ]; then
			got=$(echo "$out" | grep -c ': Time: get:')
		else
			got=$(echo "$out" | grep -c '_TEST: done$')
		fi
		if [ "$got" -ne "$want" ]; then
			result FAIL "$desc" "$got complete runs, expected $want"
			continue
		fi
		if [ "$kind" = dump ]; then
			pin=0
			case " $args " in *" -p "*) pin=1 ;; esac
			# the page indexes: the arguments after the options
			idx=$(echo "$args" | tr ' ' '\n' | grep -E '^[0-9]+$' | tr '\n' ' ')
			# shellcheck disable=SC2086 # words
			bad=$(dmesg | tail -n +$((klog + 1)) | check_dumps $pin $idx)
			dmesg | tail -n +$((klog + 1)) | dumps |
				awk '{ print "# dump: page #" $1 " refcount " $2 " pincount " $3 }'
			if [ -n "$bad" ]; then
				result FAIL "$desc" "$bad"
				continue
			fi
		fi
		result OK "$desc"
	done
	rm -f "$f"
done
[ $fail -eq 0 ]
