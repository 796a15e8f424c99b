#!/bin/sh
# setup-pmem.sh [mkfs|mount]: make sure the emulated NVDIMMs carry their
# namespaces (first boot only: the layout is stored in the label areas):
# nmem0 and nmem1 an fsdax namespace each, nmem2 a device-DAX namespace
# (2 MiB alignment). Then (mkfs) make fresh
# filesystems, and mount them -o dax=always: xfs (reflink, reverse mapping
# btree for memory-failure owner lookup, 2 MiB stripe unit)
# on nmem0's pmem device at /mnt/xfs, ext4 (2 MiB stride) on nmem1's at
# /mnt/ext4. Region and device numbers do not follow the DIMM order, so the
# names found are written to /run/pmem.env for the jobs and tests:
# PMEM_XFS_DEV, PMEM_EXT4_DEV, PMEM_EXT4_REGION, PMEM_EXT4_NS, PMEM_DEVDAX,
# PMEM_DEVDAX_REGION, PMEM_DEVDAX_NS.  Also reserves the 2 MiB hugetlb pages
# of the kernel's selftests (below).
set -eu
mode=${1:-mkfs}

# Hugetlb pages for the kernel's own cow and gup_longterm selftests, reserved
# first, while memory is not yet fragmented: HUGETLB_2M pages of 2 MiB
# (default 16, 32 MiB of the guest's 2 GiB; cow needs two at a time, for the
# copy-on-write).  1 GiB pages are not reserved: two of them (cow) would be
# the whole guest, so those cases stay skips (the rig does not provide them).
# Not fatal here (other jobs do not need them); guest/job-check.sh checks.
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$hp" ]; then
	echo "${HUGETLB_2M:-16}" >"$hp" || true
	[ "$(cat "$hp")" -ge "${HUGETLB_2M:-16}" ] ||
		echo "setup-pmem: reserved only $(cat "$hp") of ${HUGETLB_2M:-16} 2 MiB hugetlb pages"
else
	echo "setup-pmem: no 2 MiB hugetlb pages (CONFIG_HUGETLBFS)"
fi

for r in /sys/bus/nd/devices/region*; do
	[ -e "$r" ] || { echo "setup-pmem: no nvdimm regions"; exit 1; }
	region=$(basename "$r")
	dimms=$(cut -d, -f1 "$r"/mapping[0-9]*)
	want=fsdax
	[ "$dimms" = nmem2 ] && want=devdax
	if ndctl list -r "$region" -N 2>/dev/null | grep -q "\"mode\":\"$want\""; then
		continue
	fi
	echo "setup-pmem: creating $want namespace on $region"
	echo 2097152 >"$r/align"
	ndctl disable-region "$region" >/dev/null
	for dimm in $dimms; do
		ndctl init-labels -f "$dimm" >/dev/null
	done
	ndctl enable-region "$region" >/dev/null
	echo 2097152 >"$r/align"
	ndctl create-namespace -r "$region" -m "$want" -a 2M >/dev/null
done

# field NAME REGION: the value of "NAME" in the region's namespace listing
field() {
	ndctl list -r "$2" -N 2>/dev/null | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1
}
: >/run/pmem.env
for r in /sys/bus/nd/devices/region*; do
	region=$(basename "$r")
	ns=$(field dev "$region")
	case $(cut -d, -f1 "$r"/mapping[0-9]*) in
	nmem0) echo "PMEM_XFS_DEV=/dev/$(field blockdev "$region")" ;;
	nmem1) printf 'PMEM_EXT4_DEV=/dev/%s\nPMEM_EXT4_REGION=%s\nPMEM_EXT4_NS=%s\n' \
		"$(field blockdev "$region")" "$region" "$ns" ;;
	nmem2) printf 'PMEM_DEVDAX=/dev/%s\nPMEM_DEVDAX_REGION=%s\nPMEM_DEVDAX_NS=%s\n' \
		"$(field chardev "$region")" "$region" "$ns" ;;
	esac >>/run/pmem.env
done
# shellcheck disable=SC1091 # written just above
. /run/pmem.env
for d in "${PMEM_XFS_DEV:-}" "${PMEM_EXT4_DEV:-}"; do
	[ -b "$d" ] || { echo "setup-pmem: fsdax device '$d' missing"; ndctl list -N; exit 1; }
done
[ -c "${PMEM_DEVDAX:-}" ] || { echo "setup-pmem: device-DAX '${PMEM_DEVDAX:-}' missing"; ndctl list -N; exit 1; }

if [ "$mode" = mkfs ]; then
	mkfs.xfs -q -f -m reflink=1,rmapbt=1 -d su=2m,sw=1 "$PMEM_XFS_DEV"
	mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 "$PMEM_EXT4_DEV" >/dev/null
fi
mkdir -p /mnt/xfs /mnt/ext4
mount -t xfs -o dax=always "$PMEM_XFS_DEV" /mnt/xfs
mount -t ext4 -o dax=always "$PMEM_EXT4_DEV" /mnt/ext4
