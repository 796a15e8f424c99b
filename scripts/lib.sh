# shellcheck shell=bash
# Common helpers for the host-side scripts. Source it, do not run it.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export ROOT BUILD

die() {
	echo "error: $*" >&2
	exit 1
}

note() {
	echo "==> $*" >&2
}

# stage NAME CMD...: run a step, print its name and how long it took.
stage() {
	local name=$1 t0 t1 rc=0
	shift
	t0=$(date +%s)
	note "[$name] started $(date +%T)"
	"$@" || rc=$?
	t1=$(date +%s)
	if [ "$rc" -ne 0 ]; then
		note "[$name] FAILED after $((t1 - t0)) s (exit $rc)"
		return "$rc"
	fi
	note "[$name] done in $((t1 - t0)) s"
	mkdir -p "$BUILD"
	printf '%s\t%s\n' "$name" "$((t1 - t0))" >>"$BUILD/stage-times.tsv"
}

# need_space DIR MIB: refuse to go on with too little free disk.
need_space() {
	local dir=$1 mib=$2 avail
	mkdir -p "$dir"
	avail=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
	if [ "$avail" -lt "$mib" ]; then
		die "only ${avail} MiB free under $dir, need at least ${mib} MiB"
	fi
}

need_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ "${#missing[@]}" -eq 0 ] ||
		die "missing tools: ${missing[*]} (run 'make deps' as root)"
}
