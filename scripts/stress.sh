#!/usr/bin/env bash
# stress.sh KERNEL [KCONFIG]: the long reliability run (make stress).
# 1. dax_stress for STRESS_SECONDS per filesystem (default 300), then the
#    pinned-block reuse and poison tests, in one guest (scripts/check.sh);
# 2. POWERLOSS_CYCLES power cuts (default 3, scripts/powerloss.sh).
# Ends with "N passed, N failed"; fails on any failure or kernel splat.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: stress.sh stock|patched [KCONFIG]}
kconfig=${2:-default}
secs=${STRESS_SECONDS:-300}
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || die "STRESS_SECONDS must be a positive number"

total() { # the "N passed, N failed" counts of a log: prints "P F"
	sed -nE 's/^(powerloss: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/p' "$1" | tail -n 1
}

mkdir -p "$BUILD/results"
log1=$BUILD/results/stress-$kernel-check.log
log2=$BUILD/results/stress-$kernel-powerloss.log
rc=0
note "stress: dax_stress ${secs} s per filesystem, dax_pin_reuse, dax_poison"
TESTS=dax_stress,dax_pin_reuse,dax_poison DAX_STRESS_SECONDS=$secs \
	TEST_TIMEOUT=$((secs * 4 + 600)) TIMEOUT=$((secs * 6 + 1200)) \
	"$ROOT/scripts/check.sh" "$kernel" "$kconfig" 2>&1 | tee "$log1" || rc=1
note "stress: power-loss cycles"
"$ROOT/scripts/powerloss.sh" "$kernel" "$kconfig" 2>&1 | tee "$log2" || rc=1
read -r p1 f1 < <(total "$log1" || echo "0 1")
read -r p2 f2 < <(total "$log2" || echo "0 1")
# a kernel splat or a dead guest fails the run even when every test passed
if [ "$rc" -ne 0 ] && [ "$((f1 + f2))" -eq 0 ]; then
	f1=1
	echo "# the run failed outside the test counts (kernel splat or guest failure, see above)"
fi
echo "$((p1 + p2)) passed, $((f1 + f2)) failed"
exit "$rc"
