#!/usr/bin/env bash
# mktree.sh: the development tree build/linux: the pristine source committed
# and tagged "base", one commit per patch of patches/ on top. An existing tree
# is never touched: it may hold work that is not exported yet.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$BUILD/linux
if [ -d "$tree/.git" ]; then
	note "$tree exists; left as it is ($(git -C "$tree" rev-list --count base..HEAD) commits on base)"
	exit 0
fi
[ -f "$BUILD/pristine.git/rig-source" ] || die "no pristine source yet (scripts/fetch-source.sh)"
need_space "$BUILD" 4000
git clone -q --shared --no-checkout "$BUILD/pristine.git" "$tree"
printf '/obj*/\n' >>"$tree/.git/info/exclude"
git -C "$tree" checkout -q -b series base
mapfile -t series < <(find "$ROOT/patches" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
for p in "${series[@]}"; do
	git -C "$tree" am -q --keep-cr "$p" || {
		git -C "$tree" am --abort || true
		die "patch does not apply: patches/$(basename "$p")"
	}
done
note "$tree: base + ${#series[@]} patches on branch 'series'"
