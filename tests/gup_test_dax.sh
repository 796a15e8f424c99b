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
set -u
bin=$(dirname "$(readlink -f "$0")")
gup=$bin/gup_test
size_mb=16

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
	eval d=\${$v:-}
	[ -n "$d" ] && [ -d "$d" ] && dirs="$dirs $d"
done

echo "TAP version 13"
if [ -z "$dirs" ]; then
	echo "1..0 # SKIP no DAX mount (\$DAX_XFS, \$DAX_EXT4)"
	exit 4
fi
ndirs=$(echo $dirs | wc -w)
echo "1..$(($# * ndirs))"

n=0 fail=0
for d in $dirs; do
	f=$d/gup_test_dax.$$
	rm -f "$f"
	# allocate (aligned extents) and write, so private read-only GUP sees
	# DAX pages rather than the zero page
	if ! fallocate -l ${size_mb}M "$f" ||
	   ! dd if=/dev/zero of="$f" bs=1M count=$size_mb conv=notrunc,fsync status=none; then
		echo "# cannot create $f"
	fi
	for args in "$@"; do
		n=$((n + 1))
		# shellcheck disable=SC2086 # args are words
		out=$("$gup" -m $size_mb -f "$f" $args 2>&1)
		rc=$?
		echo "$out" | sed 's/^/# /'
		if [ $rc -eq 0 ] && echo "$out" | grep -q '^ok ' && ! echo "$out" | grep -q '^not ok '; then
			echo "ok $n gup_test $args on $d"
		elif [ $rc -eq 4 ]; then
			echo "ok $n gup_test $args on $d # SKIP $(echo "$out" | grep -m1 SKIP)"
		else
			echo "not ok $n gup_test $args on $d (exit $rc)"
			fail=$((fail + 1))
		fi
	done
	rm -f "$f"
done
[ $fail -eq 0 ]
