#!/bin/sh
# job-check.sh: the test suite, in the guest. Runs every entry of tests/list
# (or those whose program matches $TESTS), each under a time-out, and keeps
# its TAP output in /run/results/NNN-PROG.tap plus its exit status in
# /run/results/NNN-PROG.rc. The host counts the results (scripts/check.sh).
set -u
TESTS=
TEST_TIMEOUT=600
# shellcheck disable=SC1091 # written by the host: TESTS=, TEST_TIMEOUT=, ...
[ -f /run/results/env ] && { set -a && . /run/results/env && set +a; }
bin=$RIG/build/tests

sh "$RIG/guest/setup-pmem.sh" mkfs || { echo "rig: pmem setup failed"; exit 3; }
# shellcheck disable=SC1091 # written by setup-pmem.sh: the pmem device names
set -a && . /run/pmem.env && set +a
export DAX_XFS=/mnt/xfs DAX_EXT4=/mnt/ext4
echo "rig: mounted $(findmnt -n -o SOURCE,TARGET,OPTIONS /mnt/xfs)"
echo "rig: mounted $(findmnt -n -o SOURCE,TARGET,OPTIONS /mnt/ext4)"

n=0
while read -r group prog args; do
	case "$group" in '' | '#'*) continue ;; esac
	if [ -n "$TESTS" ]; then
		echo " $TESTS " | tr ',' ' ' | grep -q " $prog " || continue
	fi
	n=$((n + 1))
	id=$(printf '%03d-%s' "$n" "$prog")
	echo "# rig: [$group] $prog $args"
	start=$(date +%s)
	# shellcheck disable=SC2086 # args are words from tests/list
	(cd /tmp && timeout -k 5 "$TEST_TIMEOUT" "$bin/$prog" $args) >"/run/results/$id.tap" 2>&1
	rc=$?
	# timed out: put the stacks of blocked tasks in the log
	[ "$rc" -eq 124 ] && echo w >/proc/sysrq-trigger
	echo "$rc $group $(($(date +%s) - start))" >"/run/results/$id.rc"
	grep -E '^(not )?ok |^# (SKIP|FAIL)|^Bail' "/run/results/$id.tap"
	echo "# rig: $prog exit $rc in $(($(date +%s) - start)) s"
	# Every test starts from clean filesystems with nothing left mapped.
	umount /mnt/xfs /mnt/ext4 || { echo "rig: unmount failed after $prog"; exit 4; }
	mount -t xfs -o dax=always "$PMEM_XFS_DEV" /mnt/xfs
	mount -t ext4 -o dax=always "$PMEM_EXT4_DEV" /mnt/ext4
	rm -rf /mnt/xfs/* /mnt/ext4/*
done <"$RIG/tests/list"
umount /mnt/xfs /mnt/ext4 || exit 4
echo "rig: ran $n test programs"
exit 0
