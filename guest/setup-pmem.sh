#!/bin/sh
# setup-pmem.sh [mkfs|mount]: make sure both emulated NVDIMMs carry an fsdax
# namespace (first boot only: the layout is stored in the image's label area),
# then (mkfs) make fresh filesystems, and mount them -o dax=always:
# xfs (reflink, 2 MiB stripe unit) on /dev/pmem0 at /mnt/xfs, ext4 (2 MiB
# stride) on /dev/pmem1 at /mnt/ext4.
set -eu
mode=${1:-mkfs}

for r in /sys/bus/nd/devices/region*; do
	[ -e "$r" ] || { echo "setup-pmem: no nvdimm regions"; exit 1; }
	region=$(basename "$r")
	if ndctl list -r "$region" -N 2>/dev/null | grep -q '"mode":"fsdax"'; then
		continue
	fi
	echo "setup-pmem: creating fsdax namespace on $region"
	echo 2097152 >"$r/align"
	ndctl disable-region "$region" >/dev/null
	for m in "$r"/mapping[0-9]*; do
		dimm=$(cut -d, -f1 "$m")
		ndctl init-labels -f "$dimm" >/dev/null
	done
	ndctl enable-region "$region" >/dev/null
	echo 2097152 >"$r/align"
	ndctl create-namespace -r "$region" -m fsdax -a 2M >/dev/null
done

for d in /dev/pmem0 /dev/pmem1; do
	[ -b "$d" ] || { echo "setup-pmem: $d missing"; ndctl list -N; exit 1; }
done

if [ "$mode" = mkfs ]; then
	mkfs.xfs -q -f -m reflink=1 -d su=2m,sw=1 /dev/pmem0
	mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 /dev/pmem1 >/dev/null
fi
mkdir -p /mnt/xfs /mnt/ext4
mount -t xfs -o dax=always /dev/pmem0 /mnt/xfs
mount -t ext4 -o dax=always /dev/pmem1 /mnt/ext4
