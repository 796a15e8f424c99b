#!/usr/bin/env bash
# bench-report.sh [DIR]: turn DIR/results.tsv (scripts/bench.sh; DIR defaults
# to build/bench) into DIR/summary.tsv, DIR/report.md and one PNG per mode and
# target (ratio-MODE-TARGET.png, gnuplot). Every number is a rate, OPS/s
# (higher is better), so ratio = patched / stock > 1 means the series is
# faster. Per round and kernel the median over the boot's repetitions is
# taken; across rounds: median and min-max per kernel, and the median and
# min-max of the per-round ratios (each round pairs two adjacent boots).
# bench/analysis.md, the discussion of the results, is appended.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_tools awk sort gnuplot

dir=${1:-$BUILD/bench}
res=$dir/results.tsv
[ -s "$res" ] || die "no results in $res (run make bench)"
sum=$dir/summary.tsv

# summary.tsv: mode target workload unit rounds stock(med min max)
# patched(med min max) ratio(med min max) faults-stock faults-patched ops
awk -F'\t' '
function med(s, n,   a, i, j, t, k) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	lo = a[1]; hi = a[n]
	k = int((n + 1) / 2)
	return (n % 2) ? a[k] : (a[k] + a[k + 1]) / 2
}
NR == 1 { next }
$8 > 0 {
	key = $1 SUBSEP $4 SUBSEP $5
	if (!(key in unit)) { order[++nkeys] = key; unit[key] = $6 }
	rk = key SUBSEP $2 SUBSEP $3
	if (!(rk in reps)) { rounds[key] = rounds[key] " " $2 }
	reps[rk] = reps[rk] " " ($7 / $8 * 1e6)
	faults[key SUBSEP $3] = faults[key SUBSEP $3] " " $9
	ops[key] = $7
}
END {
	for (i = 1; i <= nkeys; i++) {
		key = order[i]
		split(key, kp, SUBSEP)
		delete seen
		ns = split(substr(rounds[key], 2), rl, " ")
		st = ""; pa = ""; ra = ""; nr = 0
		for (j = 1; j <= ns; j++) {
			r = rl[j]
			if (r in seen) continue
			seen[r] = 1
			s = (key SUBSEP r SUBSEP "stock") in reps ? med(reps[key SUBSEP r SUBSEP "stock"]) : ""
			p = (key SUBSEP r SUBSEP "patched") in reps ? med(reps[key SUBSEP r SUBSEP "patched"]) : ""
			if (s != "") st = st " " s
			if (p != "") pa = pa " " p
			if (s != "" && p != "" && s > 0) { ra = ra " " p / s; nr++ }
		}
		out = kp[1] "\t" kp[2] "\t" kp[3] "\t" unit[key] "\t" nr
		if (st != "") { m = med(st); out = out "\t" m "\t" lo "\t" hi } else out = out "\t-\t-\t-"
		if (pa != "") { m = med(pa); out = out "\t" m "\t" lo "\t" hi } else out = out "\t-\t-\t-"
		if (ra != "") { m = med(ra); out = out "\t" m "\t" lo "\t" hi } else out = out "\t-\t-\t-"
		fs = (key SUBSEP "stock") in faults ? med(faults[key SUBSEP "stock"]) : -1
		fp = (key SUBSEP "patched") in faults ? med(faults[key SUBSEP "patched"]) : -1
		print out "\t" fs "\t" fp "\t" ops[key]
	}
}' "$res" >"$sum"

modes=$(cut -f1 "$sum" | awk '!s[$0]++')
targets=$(cut -f2 "$sum" | awk '!s[$0]++')

# Plots: the ratio per workload with its min-max, one PNG per mode and target.
for m in $modes; do
	for t in $targets; do
		dat=$dir/.plot-$m-$t.dat
		awk -F'\t' -v m="$m" -v t="$t" '$1 == m && $2 == t && $12 != "-" { print $3, $12, $13, $14 }' \
			"$sum" >"$dat"
		[ -s "$dat" ] || { rm -f "$dat"; continue; }
		gnuplot <<EOF
set terminal pngcairo size 1000,480 font "sans,9"
set output "$dir/ratio-$m-$t.png"
set title "$t, $m mode: patched / stock (rate; > 1: patched faster), median and min-max over rounds"
set logscale y
set yrange [0.1:100]
set xrange [-1:*]
set grid ytics mytics
set xtics rotate by -40 left noenhanced
set key off
set ylabel "ratio (log scale)"
set bmargin 7
set rmargin 9
plot 1 with lines lc rgb "red" dt 2, 0.98 with lines lc rgb "gray" dt 3, \
     "$dat" using 0:2:3:4:xtic(1) with yerrorbars lc rgb "#2255aa" pt 7 ps 1
EOF
		rm -f "$dat"
	done
done

# human X: three significant digits with k/M/G
fmt='function h(x) {
	if (x == "-") return "-"
	if (x >= 1e9) return sprintf("%.3gG", x / 1e9)
	if (x >= 1e6) return sprintf("%.3gM", x / 1e6)
	if (x >= 1e3) return sprintf("%.3gk", x / 1e3)
	return sprintf("%.3g", x)
}
function r3(x) { return x == "-" ? "-" : sprintf("%.3f", x) }
function rng(m, lo, hi) { return m == "-" ? "-" : h(m) " [" h(lo) "-" h(hi) "]" }
function rrng(lo, hi) { return lo == "-" ? "-" : r3(lo) "-" r3(hi) }'

{
	echo "# DAX benchmarks: stock 6.12 vs. the series"
	echo
	echo "Made by \`make bench\` (scripts/bench.sh, scripts/bench-report.sh; how to"
	echo "read it: bench/README.md)."
	echo
	echo '```'
	cat "$dir/meta.txt"
	echo '```'
	echo
	echo "Every number is a rate in UNIT per second of guest time (higher is better)."
	echo "**ratio = patched / stock**: above 1 the series is faster, below 1 slower."
	echo "stock and patched: median over rounds [min-max]; ratio: median of the"
	echo "per-round ratios [min-max] (a round pairs one boot of each kernel; the"
	echo "kernel that boots first alternates). \`n\`: rounds."
	echo
	if [ -s "$dir/failed.txt" ]; then
		echo "**Failed runs** (their rows are missing or incomplete):"
		echo
		sed 's/^/- /' "$dir/failed.txt"
		echo
	fi
	for m in $modes; do
		case $m in
		icount) echo "## Deterministic mode (icount): the headline numbers"
			echo
			echo "QEMU \`-icount shift=${ICOUNT_SHIFT:-0},sleep=off\`: the guest clock advances by"
			echo "2^shift ns per executed instruction and skips idle time, so a rate is"
			echo "proportional to 1 / instructions executed (by both vCPUs) in the"
			echo "measured interval; host load does not enter. Caches, TLBs and memory"
			echo "latency are not modelled: this measures code path length, not cycles." ;;
		wall) echo "## Wall-clock mode (plain TCG): secondary"
			echo
			echo "Guest time is host time under TCG on a shared 2-CPU host (10-50x slower"
			echo "than native, with other work running): expect spreads of 10-50 %; only"
			echo "large, consistent differences mean anything." ;;
		*) echo "## Mode $m" ;;
		esac
		echo
		echo "| target | workload | unit/s | stock | patched | ratio | ratio min-max | n | notes |"
		echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		awk -F'\t' -v m="$m" "$fmt"'
		$1 == m {
			note = ""
			if ($3 ~ /^(fault|mapsync)/ && $15 >= 0 && $16 >= 0 && ($15 != $17 || $16 != $17))
				note = sprintf("faults taken: stock %d, patched %d (of %d)", $15, $16, $17)
			# slower in every round, not only in the median
			if ($14 != "-" && $14 < 0.98) note = note (note ? "; " : "") "**slower**"
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4,
				rng($6, $7, $8), rng($9, $10, $11), r3($12), rrng($13, $14), $5, note
		}' "$sum"
		echo
		for t in $targets; do
			[ -f "$dir/ratio-$m-$t.png" ] && echo "![$t, $m](ratio-$m-$t.png)"
		done
		echo
	done
	echo "## Workloads"
	echo
	echo "TARGET xfs and ext4 are the \`-o dax=always\` mounts, devdax the device-DAX"
	echo "char device. Suffix -4k: PTE mapping (MADV_NOHUGEPAGE); -2m: 2 MiB aligned"
	echo "mapping of 2 MiB aligned extents (PMDs); devdax: the device's own alignment"
	echo "(-2m or -1g; if another job reconfigured the namespace between boots, the two"
	echo "kernels saw different alignments and those rows have no ratio)."
	echo "See bench/README.md and bench/daxbench.c for each workload."
	echo
	if [ -f "$ROOT/bench/analysis.md" ]; then
		cat "$ROOT/bench/analysis.md"
	fi
} >"$dir/report.md"
note "report: ${dir#"$ROOT"/}/report.md"
