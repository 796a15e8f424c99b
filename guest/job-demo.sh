#!/bin/sh
# job-demo.sh: the DAX demonstration of `make run`. Kernel messages stay off
# the console while it runs (dump_page() is chatty); they are in dmesg.txt.
sh "$RIG/guest/setup-pmem.sh" mkfs || { echo "rig: pmem setup failed"; exit 3; }
export DAX_XFS=/mnt/xfs DAX_EXT4=/mnt/ext4
cd /tmp || exit 3
dmesg -n 1
"$RIG/build/tests/dax_demo" >/run/results/demo.txt 2>&1
rc=$?
cat /run/results/demo.txt
dmesg -n 5
umount /mnt/xfs /mnt/ext4 || exit 4
exit "$rc"
