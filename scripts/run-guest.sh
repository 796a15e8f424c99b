#!/usr/bin/env bash
# run-guest.sh KERNEL JOB [KCONFIG]: boot build/KERNEL/src/obj[-KCONFIG]'s
# bzImage under QEMU (TCG) with the host root shared read-only over 9p, three
# emulated NVDIMMs backed by build/pmem/*.img (kept across boots: two fsdax,
# one device-DAX), and run guest/job-JOB.sh (JOB=shell: an interactive shell). Results land in
# build/results/KERNEL[-KCONFIG]-JOB/ (console.log, dmesg.txt, job files).
# Environment: TIMEOUT (seconds, default 1800), RIG_APPEND (extra kernel
# arguments), RIG_ENV (NAME=VALUE list passed to the job as rig.env=),
# RIG_QEMU (extra QEMU arguments, e.g. "-icount shift=5,sleep=off"),
# RIG_PMEM (directory of the pmem images, default build/pmem[-KCONFIG]).
# Exit: the job's status; 124 if the guest timed out; 125 if it died
# without a verdict (panic, triple fault).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: run-guest.sh stock|patched JOB [KCONFIG]}
job=${2:?usage: run-guest.sh stock|patched JOB [KCONFIG]}
kconfig=${3:-default}
obj=obj
[ "$kconfig" = default ] || obj=obj-$kconfig
tag=$kernel
[ "$kconfig" = default ] || tag=$kernel-$kconfig
bz=$BUILD/$kernel/src/$obj/arch/x86/boot/bzImage
[ -f "$bz" ] || die "no kernel image $bz (make build KERNEL=$kernel)"
need_tools qemu-system-x86_64 timeout flock
[ "$job" = shell ] || [ -f "$ROOT/guest/job-$job.sh" ] || die "unknown guest job '$job'"

# Each kernel config gets its own pmem images (and lock), so that a long
# debug-kernel run does not hold up the others: build/pmem, build/pmem-KCONFIG
# (RIG_PMEM=DIR picks another set, e.g. for a second guest at the same time).
pmem=$BUILD/pmem
[ "$kconfig" = default ] || pmem=$BUILD/pmem-$kconfig
[ -z "${RIG_PMEM:-}" ] || pmem=$RIG_PMEM
mkdir -p "$pmem"
# 2 GiB of persistent memory per fsdax DIMM plus its 2 MiB label area, which
# QEMU carves from the end of the backing file: the region is then exactly
# 2 GiB and the next DIMM lands at a well aligned guest physical address.
# The third DIMM (device-DAX) is 4 GiB, placed on a 1 GiB boundary so that a
# namespace can be made with 1 GiB alignment (PUD mappings).
PMEM_SIZE=${PMEM_SIZE:-2050M}
DEVDAX_SIZE=${DEVDAX_SIZE:-4098M}
sizes=("$PMEM_SIZE" "$PMEM_SIZE" "$DEVDAX_SIZE")
aligns=(2M 2M 1G)
for i in 0 1 2; do
	img=$pmem/dimm$i.img
	[ -f "$img" ] || truncate -s "${sizes[i]}" "$img"
	size=$(stat -c %s "$img")
	[ "$size" -eq "$(numfmt --from=iec "${sizes[i]%B}")" ] ||
		die "$img is $size bytes, expected ${sizes[i]}; move the image away (it may hold data) or set PMEM_SIZE/DEVDAX_SIZE"
done

# One guest at a time owns the pmem images.
exec 9>"$pmem/lock"
flock -w 3600 9 || die "pmem images are busy (another guest runs)"

res=$BUILD/results/$tag-$job
rm -rf "$res"
mkdir -p "$res"
timeout=${TIMEOUT:-1800}
# log_buf_len: dump_page() output of a full run overflows the default 128 KiB
# ring buffer, and dmesg.txt should hold the whole run (splats reach the
# console, console.log, at loglevel 5 anyway).
append="console=ttyS0,115200 loglevel=5 log_buf_len=16M panic=-1 root=/dev/root rootfstype=9p"
append+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro"
append+=" init=$ROOT/guest/init.sh rig.dir=$ROOT rig.job=$job rig.kernel=$tag"
append+=" ${RIG_APPEND:-}"
# shellcheck disable=SC2054 # commas are QEMU option syntax
qemu=(qemu-system-x86_64 -machine pc,nvdimm=on,accel=tcg -cpu max,-la57 -smp 2
	-m 2G,slots=3,maxmem=16G -no-reboot -kernel "$bz" -append "$append"
	-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
	-fsdev "local,id=res,path=$res,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=res,mount_tag=results
	-device isa-debug-exit,iobase=0xf4,iosize=0x04)
for i in 0 1 2; do
	qemu+=(-object "memory-backend-file,id=mem$i,share=on,mem-path=$pmem/dimm$i.img,size=${sizes[i]},align=${aligns[i]}"
		-device "nvdimm,memdev=mem$i,id=nv$i,label-size=2M")
done
# An NVMe controller (no namespaces) with a 16 MiB controller memory buffer:
# the nvme driver gives the CMB to the PCI P2PDMA allocator, whose pages user
# space maps through /sys/bus/pci/devices/D/p2pmem/allocate (p2pdma_mmap).
qemu+=(-device 'nvme,serial=rigp2p,cmb_size_mb=16')
if [ -n "${RIG_QEMU:-}" ]; then
	read -r -a extra <<<"$RIG_QEMU"
	qemu+=("${extra[@]}")
fi
if [ -n "${RIG_ENV:-}" ]; then
	printf '%s\n' "$RIG_ENV" >"$res/env"
fi

rc=0
if [ "$job" = shell ]; then
	qemu+=(-nographic -serial mon:stdio)
	"${qemu[@]}" || rc=$?
else
	qemu+=(-display none -monitor none -serial stdio)
	note "booting $tag kernel for job '$job' (time-out ${timeout} s)"
	set +e
	timeout -k 10 "$timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$res/console.log"
	rc=${PIPESTATUS[0]}
	set -e
fi
case "$rc" in
124 | 137)
	note "guest timed out after ${timeout} s; last console lines:"
	tail -n 20 "$res/console.log" >&2
	exit 124
	;;
0)
	[ "$job" = shell ] && exit 0
	note "guest died without a verdict (panic or reset)"
	exit 125
	;;
esac
exit $(((rc - 1) / 2))
