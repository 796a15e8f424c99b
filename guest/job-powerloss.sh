#!/bin/sh
# job-powerloss.sh: one half of a power-loss cycle (scripts/powerloss.sh).
# PHASE=write: fresh filesystems, then dax_powerloss holds two files open for
#   a page in a pipe (one unlinked; /run/results/held-FS says so) and writes
#   records on both (acknowledged in /run/results/ack-FS) until the host
#   kills QEMU.
# PHASE=verify ACK_XFS=N ACK_EXT4=M: mount (log recovery), check the records,
#   unmount, then xfs_repair -n / e2fsck -fn must find nothing. TAP in
#   /run/results/powerloss.tap.
set -u
PHASE=
ACK_XFS=0
ACK_EXT4=0
# shellcheck disable=SC1091 # written by the host: PHASE=, ACK_XFS=, ACK_EXT4=
[ -f /run/results/env ] && . /run/results/env
bin=$RIG/build/tests
case "$PHASE" in
write)
	sh "$RIG/guest/setup-pmem.sh" mkfs || { echo "rig: pmem setup failed"; exit 3; }
	# Files held open for a page in a pipe, one of them unlinked, during
	# the power cut: recovery must free the unlinked one's blocks.
	for fs in xfs ext4; do
		"$bin/dax_powerloss" hold /mnt/$fs /run/results/held-$fs &
	done
	"$bin/dax_powerloss" write /mnt/xfs /run/results/ack-xfs &
	"$bin/dax_powerloss" write /mnt/ext4 /run/results/ack-ext4 &
	wait
	echo "rig: the writers finished before the power was cut"
	exit 5
	;;
verify)
	out=/run/results/powerloss.tap
	rc=0
	if ! sh "$RIG/guest/setup-pmem.sh" mount; then
		echo "not ok 1 mount after power loss" >"$out"
		exit 1
	fi
	# shellcheck disable=SC1091 # written by setup-pmem.sh
	. /run/pmem.env
	{
		"$bin/dax_powerloss" verify /mnt/xfs "$ACK_XFS" || rc=1
		"$bin/dax_powerloss" verify /mnt/ext4 "$ACK_EXT4" || rc=1
		umount /mnt/xfs /mnt/ext4 || rc=1
		if xfs_repair -n "$PMEM_XFS_DEV" >/run/results/xfs_repair.txt 2>&1; then
			echo "ok 3 xfs_repair -n finds nothing"
		else
			sed 's/^/# /' /run/results/xfs_repair.txt | tail -n 20
			echo "not ok 3 xfs_repair -n finds nothing"
			rc=1
		fi
		if e2fsck -fn "$PMEM_EXT4_DEV" >/run/results/e2fsck.txt 2>&1; then
			echo "ok 4 e2fsck -fn finds nothing"
		else
			sed 's/^/# /' /run/results/e2fsck.txt | tail -n 20
			echo "not ok 4 e2fsck -fn finds nothing"
			rc=1
		fi
	} >"$out" 2>&1
	cat "$out"
	exit "$rc"
	;;
esac
echo "job-powerloss: PHASE must be write or verify"
exit 2
