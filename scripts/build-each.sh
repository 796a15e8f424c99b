#!/usr/bin/env bash
# build-each.sh [KCONFIG]: build and boot every prefix of the series
# (bisectability): base + patch 1, base + patches 1-2, ... in
# build/bisect/src (O=obj, ccache). Each kernel boots the guest job "boot"
# (pmem namespaces, mkfs, mount -o dax=always, the dax_data test) and its log
# is scanned for splats. Prints one line per patch and exits non-zero at the
# first that fails. FIRST=N starts at prefix N (the earlier patches are
# applied, not built), LAST=N stops after prefix N; BOOT=0 only builds.
# Each result line is also appended to build/bisect/results.txt.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kconfig=${1:-default}
first=${FIRST:-1}
last=${LAST:-0}
boot=${BOOT:-1}
[[ "$first" =~ ^[1-9][0-9]*$ ]] || die "FIRST must be a patch number, not '$first'"
[[ "$last" =~ ^[0-9]+$ ]] || die "LAST must be a patch number, not '$last'"
src=$BUILD/bisect/src
mapfile -t series < <(find "$ROOT/patches" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
[ "${#series[@]}" -gt 0 ] || die "no patches in patches/"
if [ ! -d "$src/.git" ]; then
	git clone -q --shared --no-checkout "$BUILD/pristine.git" "$src"
	printf '/obj*/\n' >>"$src/.git/info/exclude"
fi
mkdir -p "$BUILD/bisect"
say() { # a result line, also kept in results.txt with the series' state
	echo "$*"
	echo "$(date -u +%FT%TZ) $*" >>"$BUILD/bisect/results.txt"
}
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" checkout -q -f --detach base
i=0
for p in "${series[@]}"; do
	i=$((i + 1))
	git -C "$src" am -q "$p" || die "patch does not apply: $(basename "$p")"
	[ "$i" -ge "$first" ] || continue
	[ "$last" -eq 0 ] || [ "$i" -le "$last" ] || break
	t0=$(date +%s)
	if ! BUILD=$BUILD "$ROOT/scripts/build-kernel.sh" bisect "$kconfig" >"$BUILD/bisect/build-$i.log" 2>&1; then
		say "not ok $i $(basename "$p"): build failed, see $BUILD/bisect/build-$i.log"
		exit 1
	fi
	t1=$(date +%s)
	if [ "$boot" = 1 ]; then
		res=$BUILD/results/bisect-boot
		[ "$kconfig" = default ] || res=$BUILD/results/bisect-$kconfig-boot
		if ! TIMEOUT=900 "$ROOT/scripts/run-guest.sh" bisect boot "$kconfig" >"$BUILD/bisect/boot-$i.log" 2>&1 ||
			! "$ROOT/scripts/splat-scan.sh" "$res/console.log" "$res/dmesg.txt" >>"$BUILD/bisect/boot-$i.log"; then
			say "not ok $i $(basename "$p"): boot test failed, see $BUILD/bisect/boot-$i.log"
			exit 1
		fi
	fi
	say "ok $i $(basename "$p") (build $((t1 - t0)) s, boot $(($(date +%s) - t1)) s)"
done
if [ "$last" -eq 0 ] || [ "$last" -ge "${#series[@]}" ]; then
	echo "all ${#series[@]} prefixes from $first build and boot"
else
	echo "prefixes $first-$last of ${#series[@]} build and boot"
fi
