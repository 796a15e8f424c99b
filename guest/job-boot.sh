#!/bin/sh
# job-boot.sh: the smoke test run on every prefix of the series
# (scripts/build-each.sh): the namespaces come up, both DAX filesystems are
# made and mounted, and dax_data (data through PTE and PMD mappings, read(2)
# and write(2) coherence) passes on them. The host scans the log for splats.
sh "$RIG/guest/setup-pmem.sh" mkfs || { echo "rig: pmem setup failed"; exit 3; }
# shellcheck disable=SC1091 # written by setup-pmem.sh
set -a && . /run/pmem.env && set +a
export DAX_XFS=/mnt/xfs DAX_EXT4=/mnt/ext4
(cd /tmp && timeout 600 "$RIG/build/tests/dax_data") >/run/results/boot.tap 2>&1
rc=$?
grep -E '^(not )?ok |^# (SKIP|FAIL)|^# Totals' /run/results/boot.tap
umount /mnt/xfs /mnt/ext4 || exit 4
exit "$rc"
