#!/usr/bin/env bash
# bench.sh: `make bench`. Boots the stock and the patched kernel in turn on
# the same emulated NVDIMMs (guest/job-bench.sh: same setup, same workloads),
# in two modes:
#   icount  QEMU -icount shift=$ICOUNT_SHIFT,sleep=off: guest time follows
#           executed instructions, so the numbers hardly depend on host load
#           (the headline tables);
#   wall    plain TCG, guest time is host time: noisy on a shared machine.
# Rounds alternate which kernel boots first (stock, patched | patched, stock
# ...). Rows land in build/bench/results.tsv:
#   MODE ROUND KERNEL TARGET WORKLOAD UNIT OPS USEC FAULTS
# and scripts/bench-report.sh turns them into build/bench/report.md + PNGs.
# A run that fails (guest error, kernel splat) is listed in the report and
# makes the exit status 1; no number is ever judged.
# Environment: QUICK=1 (32 MiB, one icount round only), ROUNDS_ICOUNT,
# ROUNDS_WALL, SIZE (MiB), REPS (repetitions per boot), FIO (0: skip fio),
# ICOUNT_SHIFT, MODES ("icount wall").
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_tools qemu-system-x86_64 gnuplot awk sort fio

if [ "${QUICK:-0}" = 1 ]; then
	def_rounds_icount=1 def_rounds_wall=1 def_size=32 def_sync2m=16 def_modes=icount
else
	def_rounds_icount=2 def_rounds_wall=2 def_size=256 def_sync2m=64 def_modes="icount wall"
fi
rounds_icount=${ROUNDS_ICOUNT:-$def_rounds_icount}
rounds_wall=${ROUNDS_WALL:-$def_rounds_wall}
size=${SIZE:-$def_size}
reps=${REPS:-1}
shift_n=${ICOUNT_SHIFT:-0}
modes=${MODES:-$def_modes}

out=$BUILD/bench
for k in stock patched; do
	[ -f "$BUILD/$k/src/obj/arch/x86/boot/bzImage" ] || die "no $k kernel (make build KERNEL=$k)"
done
make -s -C "$ROOT/bench" KSRC="$BUILD/patched/src" OUT="$out/bin"
rm -rf "$out/raw" "$out/results.tsv" "$out/failed.txt"
mkdir -p "$out/raw"
: >"$out/failed.txt"
printf 'mode\tround\tkernel\ttarget\tworkload\tunit\tops\tusec\tfaults\n' >"$out/results.tsv"
{
	echo "date: $(date -u '+%F %T UTC')"
	echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
	echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
	echo "fio: $(fio --version)"
	echo "settings: SIZE=$size MiB REPS=$reps modes: $modes; rounds icount=$rounds_icount wall=$rounds_wall" \
		"ICOUNT_SHIFT=$shift_n QUICK=${QUICK:-0} FIO=${FIO:-1}"
	for k in stock patched; do
		echo "$k: $(git -C "$BUILD/$k/src" describe --always --tags 2>/dev/null || echo '?')," \
			"bzImage $(stat -c %y "$BUILD/$k/src/obj/arch/x86/boot/bzImage" | cut -d. -f1)"
	done
} >"$out/meta.txt"

# one MODE ROUND KERNEL: boot KERNEL for job 'bench' and keep its rows.
one() {
	local mode=$1 round=$2 kernel=$3 qemu="" rc=0 t0 raw
	[ "$mode" = icount ] && qemu="-icount shift=$shift_n,sleep=off"
	raw=$out/raw/$mode-r$round-$kernel
	note "bench: $mode round $round: $kernel"
	t0=$(date +%s)
	RIG_QEMU=$qemu TIMEOUT=${TIMEOUT:-1800} RIG_ENV="SIZE=$size
SYNC_4K=4
SYNC_2M=${SYNC_2M:-$def_sync2m}
REPS=$reps
FIO=${FIO:-1}" "$ROOT/scripts/run-guest.sh" "$kernel" bench >"$raw.console" 2>&1 || rc=$?
	grep -a '^bench:' "$raw.console" >&2 || true
	cp "$BUILD/results/$kernel-bench/bench.tsv" "$raw.tsv" 2>/dev/null || : >"$raw.tsv"
	cp "$BUILD/results/$kernel-bench/dmesg.txt" "$raw.dmesg" 2>/dev/null || true
	if [ "$rc" -ne 0 ]; then
		echo "$mode round $round $kernel: guest exit status $rc (log: ${raw#"$ROOT"/}.console)" >>"$out/failed.txt"
	fi
	if ! "$ROOT/scripts/splat-scan.sh" "$raw.console" "$raw.dmesg" >"$raw.splat"; then
		echo "$mode round $round $kernel: kernel splat (${raw#"$ROOT"/}.splat)" >>"$out/failed.txt"
	fi
	awk -v m="$mode" -v r="$round" -v k="$kernel" 'NF == 6 { print m "\t" r "\t" k "\t" $0 }' \
		"$raw.tsv" >>"$out/results.tsv"
	note "bench: $mode round $round $kernel: $(wc -l <"$raw.tsv") rows in $(($(date +%s) - t0)) s"
	echo "$mode $round $kernel $(($(date +%s) - t0))" >>"$out/raw/times"
}

max=$rounds_icount
[ "$rounds_wall" -gt "$max" ] && max=$rounds_wall
t_start=$(date +%s)
for ((r = 1; r <= max; r++)); do
	order="stock patched"
	[ $((r % 2)) -eq 0 ] && order="patched stock"
	for mode in $modes; do
		n=$rounds_icount
		[ "$mode" = wall ] && n=$rounds_wall
		[ "$r" -le "$n" ] || continue
		for k in $order; do
			one "$mode" "$r" "$k"
		done
	done
done
echo "total: $(($(date +%s) - t_start)) s of guest runs" >>"$out/meta.txt"

"$ROOT/scripts/bench-report.sh" "$out"
note "bench: report in ${out#"$ROOT"/}/report.md"
if [ -s "$out/failed.txt" ]; then
	note "bench: some runs failed:"
	cat "$out/failed.txt" >&2
	exit 1
fi
