#!/usr/bin/env bash
# splat-scan.sh LOG...: print every kernel splat found in the logs (with the
# lines that follow it) and exit 1 if there is one, 0 if the logs are clean.
set -euo pipefail
# lockdep reports start with WARNING: or BUG:; its boot banner ("RCU lockdep
# checking is enabled") is not a splat, "lockdep is turned off" follows one.
# Stalls and hangs count as much as crashes: RCU stalls ("rcu: INFO: rcu_sched
# self-detected stall on CPU", "... detected stalls on CPUs/tasks", also
# expedited; a CPU spinning in the kernel shows up only so), lockups (hard
# LOCKUP; soft lockups say "BUG: soft lockup"), hung tasks and the OOM
# killer.  tests/splat-scan/ holds sample lines that must (bad/) and must not
# (good/) be reported; scripts/splat-scan-test.sh checks them.
pat='WARNING:|BUG:|kernel BUG|Oops|KASAN|UBSAN|refcount_t:|[Bb]ad page|general protection fault|Kernel panic|possible circular locking|lockdep is turned off|DEBUG_LOCKS_WARN_ON|INFO: task .* blocked'
pat+='|rcu: INFO:|INFO: rcu_|self-detected stall|detected (expedited )?stalls|hard LOCKUP|soft lockup'
pat+='|invoked oom-killer|Out of memory|oom-kill:'
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
