#!/usr/bin/env bash
# repro-unshare.sh RUN...: dax_stress with the reflink mix, once per argument,
# on the kernel at build/wip/src/obj/arch/x86/boot/bzImage (build it from
# build/linux with wip/unshare-clear-dirty.patch applied and copy it there),
# on its own pmem images so a dev guest can run at the same time.
# An argument N fixes the operations per worker and round (DAX_STRESS_NOPS);
# t1, t2, ... use the default time slices. A failing run's results are kept
# in build/results/rep-fail-ARG. Not part of the rig.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/logs
for n in "$@"; do
	case $n in
	t*) extra= ;;
	*) extra=$'\nDAX_STRESS_NOPS='"$n" ;;
	esac
	TESTS=dax_stress TEST_TIMEOUT=3000 DAX_STRESS_SECONDS=60 \
		DAX_STRESS_OPS="mapwrite,clone,unshare,truncate$extra" \
		RIG_PMEM=$PWD/build/pmem-mine2 scripts/check.sh wip >"build/logs/rep-$n.log" 2>&1 || true
	echo "$n: $(tail -1 "build/logs/rep-$n.log")"
	if grep -q "not ok" "build/logs/rep-$n.log"; then
		cp -r build/results/wip-check "build/results/rep-fail-$n"
	fi
done
