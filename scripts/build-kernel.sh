#!/usr/bin/env bash
# build-kernel.sh KERNEL [KCONFIG]: configure (tinyconfig + config/kernel.config
# [+ config/KCONFIG.config]) and build bzImage of build/KERNEL/src with ccache.
# Objects go to build/KERNEL/src/obj[-KCONFIG] (O=), a direct child of the
# source tree, so every path kbuild hands to the compiler is relative and
# ccache hits across the stock and patched trees and across clones.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: build-kernel.sh stock|patched [KCONFIG]}
kconfig=${2:-default}
src=$BUILD/$kernel/src
[ -e "$src/.git" ] || die "no tree at $src (scripts/prepare-tree.sh $kernel)"
need_tools gcc make flex bison bc ccache perl
need_space "$BUILD" 3000

frags=("$ROOT/config/kernel.config")
obj=obj
if [ "$kconfig" != default ]; then
	[ -f "$ROOT/config/$kconfig.config" ] || die "unknown KCONFIG=$kconfig (no config/$kconfig.config)"
	frags+=("$ROOT/config/$kconfig.config")
	obj=obj-$kconfig
fi
objdir=$src/$obj
mkdir -p "$objdir"

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$BUILD CCACHE_COMPILERCHECK=content
ccache -M 8G >/dev/null
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2025' KBUILD_BUILD_USER=rig KBUILD_BUILD_HOST=rig
mkv=(make -C "$src" O="$obj" CC="ccache gcc" HOSTCC="ccache gcc" LOCALVERSION="-$kernel" -j"$(nproc)")
mk=("${mkv[@]}" -s)

cfgsum=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$objdir/.config" ] || [ "$(cat "$objdir/.rig-config" 2>/dev/null)" != "$cfgsum" ]; then
	"${mk[@]}" tinyconfig >/dev/null
	(cd "$objdir" && "$src/scripts/kconfig/merge_config.sh" -m -O . .config "${frags[@]}" >/dev/null)
	"${mk[@]}" olddefconfig >/dev/null
	# Options silently dropped by a missing dependency are a build error here.
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n)
			opt=${line%%=*}
			if grep -q "^$opt=[ym]" "$objdir/.config"; then
				echo "config: $opt should be off" >&2
				bad=1
			fi
			;;
		CONFIG_*=*)
			grep -qxF "$line" "$objdir/.config" || {
				echo "config: wanted $line, got: $(grep "^${line%%=*}=" "$objdir/.config" || echo 'not set')" >&2
				bad=1
			}
			;;
		esac
	done < <(cat "${frags[@]}" | grep -E '^CONFIG_')
	[ "$bad" -eq 0 ] || die "kernel config does not hold what config/*.config asks for"
	echo "$cfgsum" >"$objdir/.rig-config"
fi

log=$objdir/build.log
"${mkv[@]}" bzImage >"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	for _ in $(seq 60); do
		sleep 1
		kill -0 "$pid" 2>/dev/null || break
	done
	kill -0 "$pid" 2>/dev/null &&
		note "building $kernel: $(grep -c '^  CC' "$log") files compiled, now: $(tail -n 1 "$log" | cut -c1-60)"
done
if ! wait "$pid"; then
	grep -E 'error|Error' "$log" | head -n 30 >&2 || true
	tail -n 20 "$log" >&2
	die "kernel build failed ($kernel, $kconfig); full log: $log"
fi
grep -E 'warning:' "$log" >&2 || true
"${mk[@]}" headers >/dev/null
note "$kernel kernel: $objdir/arch/x86/boot/bzImage ($(cat "$objdir/include/config/kernel.release"))"
