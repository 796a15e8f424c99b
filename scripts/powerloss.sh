#!/usr/bin/env bash
# powerloss.sh KERNEL [KCONFIG]: cut the power under DAX writers and check
# that nothing acknowledged is lost. Each cycle boots the guest job
# "powerloss" twice on the same pmem images: PHASE=write (fresh xfs and ext4,
# dax_powerloss writes MAP_SYNC records and acknowledges each durable one to
# the host), QEMU killed with SIGKILL at a random point (no shutdown, no
# unmount), while two files per filesystem are held open by the kernel for a
# page in a pipe, one of them unlinked; then PHASE=verify (mount, every
# acknowledged record intact, the held file's data there, the unlinked one
# gone, xfs_repair -n and e2fsck -fn clean). Prints TAP and "N passed, N failed".
# POWERLOSS_CYCLES (default 3) cycles.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: powerloss.sh stock|patched [KCONFIG]}
kconfig=${2:-default}
cycles=${POWERLOSS_CYCLES:-3}
[[ "$cycles" =~ ^[1-9][0-9]*$ ]] || die "POWERLOSS_CYCLES must be a positive number"
tag=$kernel
[ "$kconfig" = default ] || tag=$kernel-$kconfig
res=$BUILD/results/$tag-powerloss
keep=$BUILD/results/powerloss-$tag
[ -x "$BUILD/tests/dax_powerloss" ] || die "no $BUILD/tests/dax_powerloss (make tests)"
mkdir -p "$keep"
rm -f "$keep"/*

acked() { # last acknowledged record count in FILE (0 if none)
	local n
	n=$(tail -n 1 "$1" 2>/dev/null || true)
	[[ "$n" =~ ^[0-9]+$ ]] && echo "$n" || echo 0
}

pass=0 fail=0
echo "TAP version 13"
for c in $(seq 1 "$cycles"); do
	# Cut the power once both writers have acknowledged between 50 and
	# 1000 records: a different moment every cycle.
	want=$((50 + RANDOM % 950))
	RIG_ENV="PHASE=write" TIMEOUT=900 "$ROOT/scripts/run-guest.sh" "$kernel" powerloss "$kconfig" \
		>"$keep/cycle$c-write.out" 2>&1 &
	guest=$!
	deadline=$((SECONDS + 600))
	while kill -0 "$guest" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		if [ "$(acked "$res/ack-xfs")" -ge "$want" ] && [ "$(acked "$res/ack-ext4")" -ge "$want" ] &&
			[ -s "$res/held-xfs" ] && [ -s "$res/held-ext4" ]; then
			break
		fi
		sleep 0.2
	done
	# SIGKILL to QEMU: the guest stops mid-write, like a power cut.
	pkill -KILL -f -- "path=$res,security_model" || true
	wait "$guest" || true
	ax=$(acked "$res/ack-xfs") ae=$(acked "$res/ack-ext4")
	cp "$res/console.log" "$keep/cycle$c-write.log" 2>/dev/null || true
	echo "# cycle $c: power cut after $ax (xfs) and $ae (ext4) acknowledged records"
	if [ ! -s "$res/held-xfs" ] || [ ! -s "$res/held-ext4" ]; then
		echo "not ok $c power-loss cycle $c # the held files were not set up, see $keep/cycle$c-write.out"
		fail=$((fail + 1))
		continue
	fi
	if [ "$ax" -eq 0 ] || [ "$ae" -eq 0 ]; then
		echo "not ok $c power-loss cycle $c # the writers never started, see $keep/cycle$c-write.out"
		fail=$((fail + 1))
		continue
	fi
	rc=0
	RIG_ENV="PHASE=verify
ACK_XFS=$ax
ACK_EXT4=$ae" TIMEOUT=900 "$ROOT/scripts/run-guest.sh" "$kernel" powerloss "$kconfig" \
		>"$keep/cycle$c-verify.out" 2>&1 || rc=$?
	cp "$res/console.log" "$keep/cycle$c-verify.log" 2>/dev/null || true
	cp "$res/dmesg.txt" "$keep/cycle$c-verify.dmesg" 2>/dev/null || true
	[ -f "$res/powerloss.tap" ] && sed 's/^/    /' "$res/powerloss.tap"
	splat=0
	"$ROOT/scripts/splat-scan.sh" "$keep/cycle$c-write.log" "$keep/cycle$c-verify.log" \
		"$keep/cycle$c-verify.dmesg" || splat=1
	if [ "$rc" -eq 0 ] && [ "$splat" -eq 0 ] && [ -f "$res/powerloss.tap" ] &&
		! grep -q '^not ok' "$res/powerloss.tap"; then
		echo "ok $c power-loss cycle $c"
		pass=$((pass + 1))
	else
		echo "not ok $c power-loss cycle $c # status $rc, see $keep/cycle$c-verify.out"
		fail=$((fail + 1))
	fi
done
echo "1..$cycles"
echo "powerloss: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
