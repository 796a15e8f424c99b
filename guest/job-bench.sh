#!/bin/sh
# job-bench.sh: the benchmarks of `make bench` (scripts/bench.sh), in the
# guest. Runs build/bench/bin/daxbench on xfs and ext4 (-o dax=always) and on
# the device-DAX char device, then fio (mmap engine) on a file of each DAX
# mount. Rows (see bench/daxbench.c) go to /run/results/bench.tsv:
#   TARGET WORKLOAD UNIT OPS USEC FAULTS
# Settings from the host (RIG_ENV, read from /run/results/env): SIZE (MiB
# mapped per run), SYNC_4K and SYNC_2M (MiB per MAP_SYNC run at 4 KiB and at
# 2 MiB), REPS (repetitions in this boot), FIO (1: run fio). Exits non-zero only when a step failed,
# never because of a number.
set -u
SIZE=256
SYNC_4K=4
SYNC_2M=64
REPS=1
FIO=1
# shellcheck disable=SC1091 # written by the host: SIZE=, SYNC_4K=, REPS=, ...
[ -f /run/results/env ] && . /run/results/env
bin=$RIG/build/bench/bin
out=/run/results/bench.tsv
rc=0

sh "$RIG/guest/setup-pmem.sh" mkfs || { echo "rig: pmem setup failed"; exit 3; }
# shellcheck disable=SC1091 # written by setup-pmem.sh: the pmem device names
set -a && . /run/pmem.env && set +a
[ -e /sys/kernel/debug/gup_test ] || mount -t debugfs debugfs /sys/kernel/debug
echo "bench: $(uname -r), SIZE=${SIZE} MiB SYNC_4K=${SYNC_4K} MiB SYNC_2M=${SYNC_2M} MiB REPS=$REPS FIO=$FIO"
: >"$out"

run() {
	start=$(date +%s)
	"$bin/daxbench" -s "$SIZE" -y "$SYNC_4K" -Y "$SYNC_2M" -r "$REPS" "$@" >>"$out" || {
		echo "bench: daxbench $* failed"
		rc=1
	}
	echo "bench: daxbench $* done in $(($(date +%s) - start)) s"
}
sync
run fs /mnt/xfs xfs
run fs /mnt/ext4 ext4
run devdax "$PMEM_DEVDAX" devdax

# fio JOB RW BS NAME UNIT DIR: one fio run (mmap engine) over a written file;
# OPS is I/Os of BS (4k) or MiB (2m), USEC fio's own runtime.
fio_run() {
	f=$6/fio.dat
	rm -f "$f"
	if ! fallocate -l "${SIZE}M" "$f" ||
		! dd if=/dev/zero of="$f" bs=2M count=$((SIZE / 2)) conv=notrunc,fsync status=none; then
		echo "bench: cannot make $f"
		rc=1
		return
	fi
	# the guest kernel has no System V IPC, which fio uses: see bench/shmshim.c
	line=$(LD_PRELOAD=$bin/shmshim.so fio --name="$4" --filename="$f" --ioengine=mmap --rw="$2" --bs="$3" \
		--size="${SIZE}M" --randrepeat=1 --norandommap --fallocate=none \
		--output-format=terse --terse-version=3 2>/run/results/fio.err) ||
		{ echo "bench: fio $4 failed: $(cat /run/results/fio.err)"; rc=1; return; }
	# terse v3: read KiB $6, read runtime ms $9; write KiB $47, runtime ms $50
	echo "$line" | awk -F';' -v t="$1" -v wl="$4" -v unit="$5" -v bs="$3" '
		{ kib = $6 + $47; ms = ($9 > $50) ? $9 : $50
		  div = (bs == "2M") ? 1024 : 4
		  printf "%s\t%s\t%s\t%d\t%d\t-1\n", t, wl, unit, kib / div, ms * 1000 }' >>"$out"
	rm -f "$f"
}
if [ "$FIO" = 1 ]; then
	for fs in xfs ext4; do
		r=0
		while [ "$r" -lt "$REPS" ]; do
			fio_run "$fs" randrw 4k fio-randrw-4k IOs "/mnt/$fs"
			fio_run "$fs" read 2M fio-seqread-2m MiB "/mnt/$fs"
			r=$((r + 1))
		done
	done
	echo "bench: fio done"
fi
echo "bench: $(wc -l <"$out") rows"
umount /mnt/xfs /mnt/ext4 || { echo "bench: unmount failed"; exit 4; }
exit "$rc"
