#!/usr/bin/env bash
# export.sh: regenerate patches/ from build/linux (base..HEAD) with git
# format-patch. The cover letter patches/0000-cover-letter.patch is kept from
# patches/cover-letter.txt (subject on the first line, body after a blank line).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$BUILD/linux
[ -d "$tree/.git" ] || die "no development tree (make tree)"
[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
	die "$tree has uncommitted changes; commit them first"
n=$(git -C "$tree" rev-list --count base..HEAD)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$tree" format-patch -q --zero-commit --no-signature --cover-letter \
	--base=base -o "$tmp" base..HEAD
if [ -f "$ROOT/patches/cover-letter.txt" ] && [ "$n" -gt 0 ]; then
	subject=$(head -n 1 "$ROOT/patches/cover-letter.txt")
	python3 - "$tmp"/0000-cover-letter.patch "$ROOT/patches/cover-letter.txt" <<'PY'
import sys
p, src = sys.argv[1], sys.argv[2]
lines = open(src).read().split("\n")
subject, body = lines[0], "\n".join(lines[2:]).rstrip() + "\n"
s = open(p).read()
s = s.replace("*** SUBJECT HERE ***", subject)
s = s.replace("*** BLURB HERE ***\n", body)
open(p, "w").write(s)
PY
	: "$subject"
fi
find "$ROOT/patches" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' -delete
cp "$tmp"/*.patch "$ROOT/patches/" 2>/dev/null || true
note "exported $n patches to patches/"
