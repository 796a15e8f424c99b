#!/usr/bin/env bash
# Fetch Debian's linux-source-6.12 at the pinned version, verify the tarball's
# sha256 and turn it into a bare git repository (build/pristine.git) whose
# single commit is tagged "base". Every kernel tree of the rig is cloned from it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=../config/source.env
. "$ROOT/config/source.env"

pinned_version=$SOURCE_VERSION
SOURCE_VERSION=${OVERRIDE_VERSION:-$SOURCE_VERSION}
SOURCE_SHA256=${OVERRIDE_SHA256:-$SOURCE_SHA256}
if [ "$SOURCE_VERSION" != "$pinned_version" ] && [ -z "${OVERRIDE_SHA256:-}" ]; then
	die "SOURCE_VERSION=$SOURCE_VERSION overrides the pinned $pinned_version: give its SOURCE_SHA256 too"
fi

repo=$BUILD/pristine.git
stamp=$repo/rig-source
want="$SOURCE_PACKAGE $SOURCE_VERSION $SOURCE_SHA256"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
if [ -e "$repo" ]; then
	die "$repo holds another source ($(cat "$stamp" 2>/dev/null || echo unknown)); move it away to switch to $SOURCE_VERSION"
fi

need_tools apt-get dpkg-deb sha256sum tar xz git
need_space "$BUILD" 6000
dl=$BUILD/src
mkdir -p "$dl"
deb=$(find "$dl" -maxdepth 1 -name "${SOURCE_PACKAGE}_${SOURCE_VERSION//\~/?}_all.deb" | head -n 1)
if [ -z "$deb" ]; then
	if ! apt-cache madison "$SOURCE_PACKAGE" 2>/dev/null | awk '{ print $3 }' | grep -qxF "$SOURCE_VERSION"; then
		apt-get update -q >/dev/null 2>&1 || true
	fi
	if ! apt-cache madison "$SOURCE_PACKAGE" 2>/dev/null | awk '{ print $3 }' | grep -qxF "$SOURCE_VERSION"; then
		echo "error: $SOURCE_PACKAGE $SOURCE_VERSION is not in the package archive any more." >&2
		echo "Versions the archive has:" >&2
		apt-cache madison "$SOURCE_PACKAGE" 2>/dev/null | awk '{ print "  " $3 }' >&2
		echo "To build on one of them (the series may need a rebase), say so explicitly:" >&2
		echo "  make <target> SOURCE_VERSION=<version> SOURCE_SHA256=<sha256 of /usr/src/linux-source-6.12.tar.xz>" >&2
		exit 1
	fi
	note "downloading $SOURCE_PACKAGE $SOURCE_VERSION"
	(cd "$dl" && apt-get download -q "$SOURCE_PACKAGE=$SOURCE_VERSION" 2>&1) | grep -v 'unsandboxed' >&2 || true
	deb=$(find "$dl" -maxdepth 1 -name "${SOURCE_PACKAGE}_${SOURCE_VERSION//\~/?}_all.deb" | head -n 1)
	[ -n "$deb" ] || die "apt-get download of $SOURCE_PACKAGE=$SOURCE_VERSION failed"
fi

tarball=$dl/linux-source-6.12.tar.xz
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-6.12.tar.xz >"$tarball.part"
mv "$tarball.part" "$tarball"
got=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$got" != "$SOURCE_SHA256" ]; then
	die "sha256 of $tarball is $got, expected $SOURCE_SHA256 (config/source.env); refusing to build on it"
fi
note "sha256 verified: $got"

tmp=$BUILD/pristine.tmp
rm -rf "$tmp" "$repo.part"
mkdir -p "$tmp"
tar -xJf "$tarball" -C "$tmp"
src=$tmp/linux-source-6.12
[ -f "$src/Makefile" ] || die "unexpected tarball layout in $tarball"
git init -q --bare "$repo.part"
export GIT_DIR=$repo.part GIT_WORK_TREE=$src
git config core.autocrlf false
# Fast zlib: the import writes ~90k objects once.
git config core.compression 1
git add -A -f .
GIT_AUTHOR_DATE='2025-01-01T00:00:00Z' GIT_COMMITTER_DATE='2025-01-01T00:00:00Z' \
	git -c user.name=rig -c user.email=rig@localhost commit -q \
	-m "Linux $(make -s -C "$src" kernelversion) from Debian $SOURCE_PACKAGE $SOURCE_VERSION"
git tag base
unset GIT_DIR GIT_WORK_TREE
echo "$want" >"$repo.part/rig-source"
mv "$repo.part" "$repo"
rm -rf "$tmp"
note "pristine source committed and tagged 'base' in $repo"
