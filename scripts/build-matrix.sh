#!/usr/bin/env bash
# build-matrix.sh [TARGET...]: build the KERNEL tree (default: patched) in
# several configurations and for several architectures, one object
# directory each (build/KERNEL/src/obj-matrix-TARGET, ccache). Slow: meant
# to be run by hand (make matrix), not in CI. Results: build/matrix/.
# Targets (default: all):
#   x86-ours        tinyconfig + config/kernel.config (the rig's kernel)
#   x86-nothp       the same without TRANSPARENT_HUGEPAGE
#   x86-nozd        the same without ZONE_DEVICE (so no FS_DAX, no DEV_DAX)
#   x86-allno       allnoconfig
#   x86-def         defconfig
#   x86-allmod      allmodconfig (with PARTIAL=1: every C file the series
#                   changes that x86 builds, drivers included)
#   ARCH-tiny       tinyconfig + config/matrix-dax.config, ARCH in arm64,
#                   ppc64le, riscv64, s390x (cross; the code the series touches)
#   ARCH-def        defconfig (ppc64le: ppc64le_defconfig), cross
# PARTIAL=1 compiles only what the series touches that depends on the
# architecture (mm/, arch/ARCH/mm/, fs/dax.o, fs/userfaultfd.o, fs/proc/,
# drivers/{dax,nvdimm,pci,s390/block}/) instead of the whole kernel: a quick
# compile check, no link. GOAL=vmlinux links the kernel image but builds no
# modules (for the big defconfigs: arm64's has over a thousand). The tiny
# targets fail if ZONE_DEVICE, FS_DAX or THP did not make it into the
# configuration. Debian 12 has no loongarch cross compiler, so LoongArch is
# not covered.
# Installs the Debian cross compilers it needs. Exit status: failures count.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${KERNEL:-patched}
goal=${GOAL:-all}
src=$BUILD/$kernel/src
[ -f "$src/Makefile" ] || die "no tree $src (make build KERNEL=$kernel first)"
all=(x86-ours x86-nothp x86-nozd x86-allno x86-def x86-allmod arm64-tiny ppc64le-tiny
	riscv64-tiny s390x-tiny arm64-def ppc64le-def riscv64-def)
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")
out=$BUILD/matrix
mkdir -p "$out"
need_space "$BUILD" 4096

# arch_of TARGET: "ARCH CROSS_COMPILE DEB_PACKAGE"
arch_of() {
	case $1 in
	x86-*) echo "x86_64 - -" ;;
	arm64-*) echo "arm64 aarch64-linux-gnu- gcc-aarch64-linux-gnu" ;;
	ppc64le-*) echo "powerpc powerpc64le-linux-gnu- gcc-powerpc64le-linux-gnu" ;;
	riscv64-*) echo "riscv riscv64-linux-gnu- gcc-riscv64-linux-gnu" ;;
	s390x-*) echo "s390 s390x-linux-gnu- gcc-s390x-linux-gnu" ;;
	*) die "unknown target '$1' (known: ${all[*]})" ;;
	esac
}

configure() { # TARGET OBJDIR ARCH-MAKE-ARGS...
	local t=$1 obj=$2 frag
	shift 2
	frag=$obj/matrix.fragment
	case $t in
	x86-ours | x86-nothp | x86-nozd)
		make -s -C "$src" O="$obj" "$@" tinyconfig
		cp "$ROOT/config/kernel.config" "$frag"
		[ "$t" = x86-nothp ] && echo '# CONFIG_TRANSPARENT_HUGEPAGE is not set' >>"$frag"
		[ "$t" = x86-nozd ] && echo '# CONFIG_ZONE_DEVICE is not set' >>"$frag"
		;;
	*-tiny)
		make -s -C "$src" O="$obj" "$@" tinyconfig
		cp "$ROOT/config/matrix-dax.config" "$frag"
		# tinyconfig picks a 32-bit platform on powerpc
		[ "$t" != ppc64le-tiny ] || printf '%s\n' CONFIG_PPC64=y CONFIG_PPC_BOOK3S_64=y \
			CONFIG_CPU_LITTLE_ENDIAN=y CONFIG_PPC_RADIX_MMU=y CONFIG_PPC_64S_HASH_MMU=y \
			CONFIG_PPC_POWERNV=y >>"$frag"
		[ "$t" != s390x-tiny ] || echo CONFIG_PCI=y >>"$frag"
		# and the flat memory model on riscv (no memory hotplug)
		[ "$t" != riscv64-tiny ] || echo CONFIG_SPARSEMEM_MANUAL=y >>"$frag"
		;;
	x86-allno) make -s -C "$src" O="$obj" "$@" allnoconfig; return ;;
	x86-allmod) make -s -C "$src" O="$obj" "$@" allmodconfig; return ;;
	ppc64le-def) make -s -C "$src" O="$obj" "$@" ppc64le_defconfig; return ;;
	*-def) make -s -C "$src" O="$obj" "$@" defconfig; return ;;
	esac
	(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O . .config matrix.fragment >/dev/null)
	make -s -C "$src" O="$obj" "$@" olddefconfig
	# A fragment option the architecture cannot have is dropped silently:
	# for the tiny targets, the ones the series is about must have stuck.
	case $t in
	*-tiny)
		local opt missing=()
		for opt in ZONE_DEVICE FS_DAX TRANSPARENT_HUGEPAGE MEMORY_HOTREMOVE HMM_MIRROR; do
			grep -q "^CONFIG_$opt=y" "$obj/.config" || missing+=("$opt")
		done
		if [ "${#missing[@]}" -gt 0 ]; then
			echo "config: $t lacks ${missing[*]}" >&2
			return 1
		fi
		;;
	esac
}

# goals CONFIG ARCH: what to build; with PARTIAL=1 only what the series
# touches and the configuration has (an object named on the command line is
# compiled even if its option is off)
goals() {
	local cfg=$1 arch=$2 opt dir
	if [ "${PARTIAL:-0}" != 1 ]; then
		echo "$goal"
		return
	fi
	if grep -q '^CONFIG_COMPILE_TEST=y' "$cfg"; then
		# allmodconfig: the series' own C files (this architecture's)
		git -C "$src" diff --name-only base..HEAD -- '*.c' |
			grep -v '^tools/' | grep -E "^arch/$arch/|^[^a]|^a[^r]" |
			grep -v "^drivers/s390/$([ "$arch" = s390 ] && echo '-')" | sed 's/\.c$/.o/'
		return 0
	fi
	printf '%s\n' mm/ "arch/$arch/mm/" fs/proc/ drivers/pci/
	for opt in FS_DAX:fs/dax.o USERFAULTFD:fs/userfaultfd.o DAX:drivers/dax/ \
		LIBNVDIMM:drivers/nvdimm/ DCSSBLK:drivers/s390/block/; do
		dir=${opt#*:}
		grep -q "^CONFIG_${opt%%:*}=[ym]" "$cfg" && echo "$dir"
	done
	return 0
}

fails=0
for t in "${targets[@]}"; do
	read -r arch cross pkg < <(arch_of "$t")
	if [ "$pkg" != - ] && ! command -v "${cross}gcc" >/dev/null; then
		[ "$(id -u)" -eq 0 ] || die "${cross}gcc missing; install $pkg as root"
		note "installing $pkg"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" \
			>"$out/apt-$pkg.log" 2>&1 || die "apt-get install $pkg failed ($out/apt-$pkg.log)"
	fi
	if [ "$cross" = - ]; then
		args=(ARCH="$arch" CC="ccache gcc" HOSTCC="ccache gcc")
	else
		args=(ARCH="$arch" CROSS_COMPILE="$cross" CC="ccache ${cross}gcc" HOSTCC="ccache gcc")
	fi
	obj=obj-matrix-$t
	log=$out/$t.log
	t0=$(date +%s)
	note "matrix: $t"
	if (cd "$src" && mkdir -p "$obj" && configure "$t" "$obj" "${args[@]}" &&
		mapfile -t g < <(goals "$src/$obj/.config" "$arch") &&
		CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1 CCACHE_COMPILERCHECK=content \
			make -C "$src" O="$obj" "${args[@]}" -j"$(nproc)" "${g[@]}") >"$log" 2>&1; then
		res=ok
	else
		res=FAIL
		fails=$((fails + 1))
	fi
	warn=$(grep -c ' warning: ' "$log" || true)
	if [ "${PARTIAL:-0}" = 1 ]; then
		res="$res(partial)"
	elif [ "$goal" != all ]; then
		res="$res($goal)"
	fi
	printf '%s\t%s\t%s s\t%s warnings\t%s\n' "$t" "$res" "$(($(date +%s) - t0))" "$warn" "$log" |
		tee -a "$out/results.tsv"
done
exit "$fails"
