#!/usr/bin/env bash
# prepare-tree.sh KERNEL: make build/KERNEL/src the pristine source ("stock")
# or the pristine source with patches/ applied by git am ("patched").
# The tree is the rig's own: it is reset to match patches/ whenever they change.
# Develop in the tree of 'make tree' (build/linux) instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: prepare-tree.sh stock|patched}
case "$kernel" in
stock | patched) ;;
*) die "unknown KERNEL=$kernel (use stock or patched)" ;;
esac

repo=$BUILD/pristine.git
[ -f "$repo/rig-source" ] || die "no pristine source yet (scripts/fetch-source.sh)"
src=$BUILD/$kernel/src

mapfile -t series < <(find "$ROOT/patches" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
if [ "$kernel" = stock ]; then
	series=()
fi
want=$(cat "$repo/rig-source"; if [ "${#series[@]}" -gt 0 ]; then cat "${series[@]}"; fi)
want=$(printf '%s' "$want" | sha256sum | cut -d' ' -f1)

if [ ! -d "$src/.git" ]; then
	need_space "$BUILD" 4000
	mkdir -p "$BUILD/$kernel"
	git clone -q --shared --no-checkout "$repo" "$src"
	printf '/obj*/\n' >>"$src/.git/info/exclude"
	git -C "$src" checkout -q --detach base
fi

stamp=$src/.git/rig-series
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	[ "$(git -C "$src" rev-parse HEAD)" = "$(cat "$src/.git/rig-head" 2>/dev/null)" ] &&
	[ -z "$(git -C "$src" status --porcelain)" ]; then
	exit 0
fi

if [ -n "$(git -C "$src" status --porcelain)" ]; then
	git -C "$src" status --short | head -n 20 >&2
	die "$src has local changes; it is the rig's tree and would be reset. Develop in build/linux ('make tree') and 'make export'."
fi

rm -f "$stamp"
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" checkout -q --detach base
for p in "${series[@]}"; do
	if ! git -C "$src" -c user.name=rig -c user.email=rig@localhost am -q --keep-cr "$p" >/dev/null 2>"$BUILD/$kernel/am.log"; then
		cat "$BUILD/$kernel/am.log" >&2
		git -C "$src" am --abort >/dev/null 2>&1 || true
		git -C "$src" checkout -q --detach base
		die "patch does not apply: patches/$(basename "$p")"
	fi
done
git -C "$src" rev-parse HEAD >"$src/.git/rig-head"
echo "$want" >"$stamp"
note "$kernel tree: base + ${#series[@]} patches at $(git -C "$src" rev-parse --short HEAD)"
