#!/usr/bin/env bash
# build-each.sh [KCONFIG]: build every prefix of the series (bisectability):
# base + patch 1, base + patches 1-2, ... in build/bisect/src (O=obj, ccache).
# Prints one line per patch and exits non-zero at the first that fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kconfig=${1:-default}
src=$BUILD/bisect/src
mapfile -t series < <(find "$ROOT/patches" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
[ "${#series[@]}" -gt 0 ] || die "no patches in patches/"
if [ ! -d "$src/.git" ]; then
	mkdir -p "$BUILD/bisect"
	git clone -q --shared --no-checkout "$BUILD/pristine.git" "$src"
	printf '/obj*/\n' >>"$src/.git/info/exclude"
fi
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" checkout -q -f --detach base
i=0
for p in "${series[@]}"; do
	i=$((i + 1))
	git -C "$src" am -q "$p" || die "patch does not apply: $(basename "$p")"
	t0=$(date +%s)
	if BUILD=$BUILD "$ROOT/scripts/build-kernel.sh" bisect "$kconfig" >"$BUILD/bisect/build-$i.log" 2>&1; then
		echo "ok $i $(basename "$p") ($(($(date +%s) - t0)) s)"
	else
		echo "not ok $i $(basename "$p"): see $BUILD/bisect/build-$i.log"
		exit 1
	fi
done
echo "all ${#series[@]} prefixes build"
