#!/usr/bin/env bash
# deps.sh: install the Debian packages the rig needs (as root, with apt-get).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(gcc make libc6-dev git xz-utils python3 perl flex bison bc cpio kmod
	libelf-dev libssl-dev dwarves ccache qemu-system-x86 ndctl daxctl
	xfsprogs e2fsprogs util-linux fio gnuplot-nox shellcheck)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]}; install them as root (sudo make deps)"
note "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || die "apt-get update failed"
mkdir -p "$BUILD"
apt-get install -y -q --no-install-recommends "${missing[@]}" >"$BUILD/apt.log" 2>&1 ||
	{ tail -n 20 "$BUILD/apt.log" >&2; die "apt-get install failed (log: $BUILD/apt.log)"; }
