#!/bin/sh
# job-demo.sh: the DAX demonstration of `make run`.
sh "$RIG/guest/setup-pmem.sh" mkfs || { echo "rig: pmem setup failed"; exit 3; }
export DAX_XFS=/mnt/xfs DAX_EXT4=/mnt/ext4
cd /tmp || exit 3
"$RIG/build/tests/dax_demo"
rc=$?
umount /mnt/xfs /mnt/ext4 || exit 4
exit "$rc"
