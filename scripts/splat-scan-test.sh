#!/usr/bin/env bash
# splat-scan-test.sh: self-test of scripts/splat-scan.sh on the samples in
# tests/splat-scan/: each bad/* file must be reported (exit 1), each good/*
# file must pass (exit 0).  Prints one line per sample that is misjudged and
# exits 1 if there is one.  scripts/check.sh runs it before booting a guest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$ROOT/tests/splat-scan
scan=$ROOT/scripts/splat-scan.sh
bad=0 n=0
shopt -s nullglob
for f in "$dir"/bad/*; do
	n=$((n + 1))
	rc=0
	"$scan" "$f" >/dev/null || rc=$?
	[ "$rc" -eq 1 ] || { echo "splat-scan: missed the report in ${f#"$ROOT"/} (status $rc)"; bad=1; }
done
for f in "$dir"/good/*; do
	n=$((n + 1))
	rc=0
	out=$("$scan" "$f") || rc=$?
	[ "$rc" -eq 0 ] || { echo "splat-scan: false report in ${f#"$ROOT"/}:"; echo "$out"; bad=1; }
done
[ "$n" -gt 0 ] || die "no samples in $dir"
[ "$bad" -eq 0 ] || die "splat-scan.sh misjudges its samples (see above)"
echo "splat-scan: $n samples judged right"
