#!/usr/bin/env bash
# splat-scan.sh LOG...: print every kernel splat found in the logs (with the
# lines that follow it) and exit 1 if there is one, 0 if the logs are clean.
set -euo pipefail
# lockdep reports start with WARNING: or BUG:; its boot banner ("RCU lockdep
# checking is enabled") is not a splat, "lockdep is turned off" follows one.
pat='WARNING:|BUG:|kernel BUG|Oops|KASAN|UBSAN|refcount_t:|[Bb]ad page|general protection fault|Kernel panic|possible circular locking|lockdep is turned off|DEBUG_LOCKS_WARN_ON|INFO: task .* blocked'
found=0
for f in "$@"; do
	[ -f "$f" ] || continue
	if grep -qE "$pat" "$f"; then
		found=1
		echo "---- kernel splat in $f:"
		grep -nE -A 25 "$pat" "$f" | head -n 120
	fi
done
exit "$found"
