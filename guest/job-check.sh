#!/bin/sh
# job-check.sh: the test suite, in the guest. Runs every entry of tests/list
# (or those whose program matches $TESTS), each under a time-out, and keeps
# its TAP output in /run/results/NNN-PROG.tap plus its exit status in
# /run/results/NNN-PROG.rc. The host counts the results (scripts/check.sh).
#
# The rig is checked first: everything it provides (DAX mounts, gup_test,
# ndctl/daxctl, the device-DAX namespace, P2PDMA memory, hugetlb pages,
# /proc/PID/stack and wchan) is required, and /run/results/rig.tap has one
# TAP line per piece ("not ok ... # rig broken: ..." for a missing one).
# The programs then run with $DAX_RIG=1, which makes a missing piece of the
# rig a failure in them too (tests/lib/daxtest.h RIG_REQUIRE), not a skip.
#
# Hangs: each program runs in a session of its own (setsid), and whatever is
# left of that session when it ends or times out (test children in their
# own process groups, workers stuck in waitpid, ...) is killed, with a
# bounded wait; the hung-task detector is set to 20 s (checked every 5 s),
# below the harness's 30 s default per test, so that a task stuck in D
# state is reported with its stack before the harness kills the test.  If a
# mount cannot be unmounted after that (a task that does not die holds it),
# the job stops with status 4 and scripts/check.sh boots a new guest for the
# programs that are left.
# shellcheck disable=SC2317 # the checks below are called through need()
set -u
TESTS=
TEST_TIMEOUT=600
TEST_BIN=
# shellcheck disable=SC1091 # written by the host: TESTS=, TEST_TIMEOUT=, ...
[ -f /run/results/env ] && { set -a && . /run/results/env && set +a; }
# the programs: build/tests, or $TEST_BIN (relative to the checkout)
bin=$RIG/${TEST_BIN:-build/tests}

echo 20 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
echo 5 >/proc/sys/kernel/hung_task_check_interval_secs 2>/dev/null
echo -1 >/proc/sys/kernel/hung_task_warnings 2>/dev/null

sh "$RIG/guest/setup-pmem.sh" mkfs || { echo "rig: pmem setup failed"; exit 3; }
# shellcheck disable=SC1091 # written by setup-pmem.sh: the pmem device names
set -a && . /run/pmem.env && set +a
export DAX_XFS=/mnt/xfs DAX_EXT4=/mnt/ext4 DAX_RIG=1
echo "rig: mounted $(findmnt -n -o SOURCE,TARGET,OPTIONS /mnt/xfs)"
echo "rig: mounted $(findmnt -n -o SOURCE,TARGET,OPTIONS /mnt/ext4)"

# --- what the rig provides ----------------------------------------------------
rigtap=/run/results/rig.tap
rign=0 rigbad=0
# need NAME REASON CMD...: one line of rig.tap, "not ok" with REASON if CMD fails
need() {
	name=$1 why=$2
	shift 2
	rign=$((rign + 1))
	if "$@" >/dev/null 2>&1; then
		echo "ok $rign $name" >>"$rigtap"
	else
		echo "not ok $rign $name # rig broken: $why" >>"$rigtap"
		echo "rig: broken: $name: $why"
		rigbad=$((rigbad + 1))
	fi
}
dax_mount() { findmnt -n -o FSTYPE,OPTIONS "$1" | grep -Eq "^$2 .*dax(=always)?(,|$)"; }
devdax_ok() {
	[ -c "${PMEM_DEVDAX:-}" ] && [ -n "${PMEM_DEVDAX_REGION:-}" ] &&
		ndctl list -r "$PMEM_DEVDAX_REGION" -N | grep -q '"mode":"devdax"'
}
hugetlb_ok() {
	[ "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 2>/dev/null || echo 0)" -ge "${HUGETLB_2M:-16}" ]
}
p2pmem_ok() {
	for a in /sys/bus/pci/devices/*/p2pmem/allocate; do
		[ -e "$a" ] && return 0
	done
	return 1
}
fsdax_events_ok() { [ -e /sys/kernel/tracing/events/fs_dax/dax_pmd_fault_done/enable ]; }
stack_ok() { [ -s /proc/self/stack ] || grep -q . /proc/$$/stack; }
wchan_ok() { [ -r /proc/$$/wchan ] && grep -q '[a-z_]' /proc/$$/wchan; }
: >"$rigtap"
need xfs_dax_mount "/mnt/xfs is not xfs mounted -o dax=always" dax_mount /mnt/xfs xfs
need ext4_dax_mount "/mnt/ext4 is not ext4 mounted -o dax=always" dax_mount /mnt/ext4 ext4
need gup_test "no /sys/kernel/debug/gup_test: the kernel lacks CONFIG_GUP_TEST (or debugfs is not mounted)" \
	test -w /sys/kernel/debug/gup_test
need ndctl "no working ndctl" ndctl --version
need daxctl "no working daxctl" daxctl --version
need devdax_namespace "no device-DAX namespace (\$PMEM_DEVDAX=${PMEM_DEVDAX:-}, region ${PMEM_DEVDAX_REGION:-})" devdax_ok
need p2pmem "no PCI device with p2pmem/allocate (CONFIG_PCI_P2PDMA, the NVMe CMB)" p2pmem_ok
need hugetlb_2m "fewer than ${HUGETLB_2M:-16} 2 MiB hugetlb pages reserved (guest/setup-pmem.sh)" hugetlb_ok
need fs_dax_trace_events "no fs_dax trace events in /sys/kernel/tracing (CONFIG_FTRACE, tracefs)" fsdax_events_ok
need proc_pid_stack "no /proc/PID/stack (CONFIG_STACKTRACE): pin waits cannot be seen" stack_ok
need proc_pid_wchan "no symbol in /proc/PID/wchan (CONFIG_KALLSYMS)" wchan_ok
need loop_device "no loop device (losetup -f, CONFIG_BLK_DEV_LOOP)" losetup -f
echo "1..$rign" >>"$rigtap"
echo "rig: $rign pieces checked, $rigbad missing"

# --- processes a program leaves behind ----------------------------------------
# The rig (init, this job) is in session 0, as are kernel threads; every
# program runs in a session of its own, so anything alive outside session 0
# belongs to a program that has ended (except those an earlier program left
# that would not die: $stuckpids, already blamed on it).
stuckpids=
# shellcheck disable=SC2086 # fields of /proc/PID/stat
leftovers() {
	for d in /proc/[0-9]*; do
		# read, a builtin: no process per /proc entry (slow under TCG)
		read -r st 2>/dev/null <"$d/stat" || continue
		st=${st##*) }
		set -- $st
		[ "$1" = Z ] || [ "$1" = X ] || [ "$4" = 0 ] && continue
		case " $stuckpids " in *" ${d#/proc/} "*) continue ;; esac
		echo "${d#/proc/}"
	done
}
describe() {
	for p in "$@"; do
		printf ' %s(%s %s %s)' "$p" "$(cat "/proc/$p/comm" 2>/dev/null)" \
			"$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" "$(cat "/proc/$p/wchan" 2>/dev/null)"
	done
}
# reap PROG: kill what PROG left, waiting at most 20 s; 1 if something stays
reap() {
	t0=$(date +%s) said=
	while :; do
		left=$(leftovers)
		[ -z "$left" ] && return 0
		# shellcheck disable=SC2086 # pids
		[ -n "$said" ] || echo "# rig: $1 left processes behind, killing them:$(describe $left)"
		said=1
		# shellcheck disable=SC2086 # pids
		kill -9 $left 2>/dev/null
		if [ $(($(date +%s) - t0)) -ge 20 ]; then
			# shellcheck disable=SC2086 # pids
			echo "# rig: processes of $1 do not die after 20 s:$(describe $left)"
			stuckpids="$stuckpids $left"
			echo w >/proc/sysrq-trigger
			return 1
		fi
		sleep 1
	done
}
# remount: both DAX filesystems unmounted (if mounted) and mounted again
remount() {
	for m in /mnt/xfs /mnt/ext4; do
		if mountpoint -q "$m"; then
			umount "$m" || return 1
		fi
	done
	mount -t xfs -o dax=always "$PMEM_XFS_DEV" /mnt/xfs || return 1
	mount -t ext4 -o dax=always "$PMEM_EXT4_DEV" /mnt/ext4 || return 1
}

n=0
while read -r group prog args; do
	case "$group" in '' | '#'*) continue ;; esac
	if [ -n "$TESTS" ]; then
		echo " $TESTS " | tr ',' ' ' | grep -q " $prog " || continue
	fi
	n=$((n + 1))
	id=$(printf '%03d-%s' "$n" "$prog")
	echo "# rig: [$group] $prog $args"
	# the results share must still be there (another run of the same
	# kernel tag on the host replaces it: then stop, do not report garbage)
	if ! : >"/run/results/$id.tap"; then
		echo "rig: cannot write /run/results (the host's results directory is gone)"
		exit 5
	fi
	start=$(date +%s)
	# shellcheck disable=SC2086 # args are words from tests/list
	(cd /tmp && exec setsid -w timeout -k 5 "$TEST_TIMEOUT" "$bin/$prog" $args) \
		>"/run/results/$id.tap" 2>&1 </dev/null
	rc=$?
	# timed out: put the stacks of blocked tasks in the log
	[ "$rc" -eq 124 ] && echo w >/proc/sysrq-trigger
	stuck=
	reap "$prog" >>"/run/results/$id.tap" 2>&1 || stuck=stuck
	echo "$rc $group $(($(date +%s) - start)) $stuck" >"/run/results/$id.rc"
	grep -E '^(not )?ok |^# (SKIP|FAIL)|^Bail|^# rig:' "/run/results/$id.tap"
	echo "# rig: $prog exit $rc in $(($(date +%s) - start)) s${stuck:+ (left processes that do not die)}"
	# Every test starts from clean filesystems with nothing left mapped.
	if ! remount; then
		reap "$prog" >/dev/null 2>&1
		if ! remount; then
			echo "rig: unmount failed after $prog"
			echo "$rc $group $(($(date +%s) - start)) busy" >"/run/results/$id.rc"
			exit 4
		fi
	fi
	rm -rf /mnt/xfs/* /mnt/ext4/*
done <"$RIG/tests/list"
for m in /mnt/xfs /mnt/ext4; do
	if mountpoint -q "$m"; then
		umount "$m" || exit 4
	fi
done
echo "rig: ran $n test programs"
exit 0
