#!/bin/sh
# PID 1 of the test guest. The host's root is mounted read-only (9p); this
# script makes the guest usable, sets up the pmem namespaces and runs the job
# named on the kernel command line (rig.job=NAME runs guest/job-NAME.sh).
# Its verdict leaves through isa-debug-exit (port 0xf4): QEMU exits with
# (status << 1) | 1.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run

arg() {
	tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"
}

# The checkout may live under a directory that a tmpfs below would hide
# (/tmp, /mnt): reach it through a bind mount in /run instead.
mkdir -p /run/rig
mount --bind "$(arg rig.dir)" /run/rig
RIG=/run/rig
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /mnt
mount -t tmpfs tmpfs /var/tmp 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /run/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /run/results
hostname rig-guest

JOB=$(arg rig.job)
export RIG JOB
export HOME=/tmp TERM="${TERM:-linux}"

verdict() {
	v=$1
	[ "$v" -gt 127 ] && v=127
	sync
	# The byte written to port 0xf4 becomes QEMU's exit status.
	# shellcheck disable=SC2059 # the format is an octal escape made here
	printf "\\$(printf '%03o' "$v")" | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 5
}

cd "$RIG" || verdict 120
if [ "$JOB" = shell ]; then
	sh "$RIG/guest/setup-pmem.sh" mkfs || echo "pmem setup failed"
	echo "rig guest shell: DAX mounts at /mnt/xfs and /mnt/ext4; 'exit' powers off"
	setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1'
	verdict 0
fi
if [ ! -f "$RIG/guest/job-$JOB.sh" ]; then
	echo "rig: unknown job '$JOB'"
	verdict 121
fi
sh "$RIG/guest/job-$JOB.sh"
rc=$?
dmesg >/run/results/dmesg.txt 2>/dev/null
verdict "$rc"
