#!/usr/bin/env bash
# demo.sh KERNEL [KCONFIG]: boot the guest, run the DAX demonstration, and
# fail if the kernel log has a splat.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: demo.sh stock|patched [KCONFIG]}
kconfig=${2:-default}
tag=$kernel
[ "$kconfig" = default ] || tag=$kernel-$kconfig
res=$BUILD/results/$tag-demo
rc=0
TIMEOUT=${TIMEOUT:-900} "$ROOT/scripts/run-guest.sh" "$kernel" demo "$kconfig" || rc=$?
"$ROOT/scripts/splat-scan.sh" "$res/console.log" "$res/dmesg.txt" || rc=1
[ "$rc" -eq 0 ] || die "demo failed (status $rc); logs in $res"
note "demo output: $res/demo.txt"
