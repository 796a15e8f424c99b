#!/bin/sh
# job-cmd.sh: run the shell command given as RIG_ENV="CMD=..." (no pmem setup
# unless the command asks for it), for one-off inspection from the host:
#   RIG_ENV='CMD=ndctl list -RD' scripts/run-guest.sh patched cmd
set -u
# shellcheck disable=SC1091 # written by the host
[ -f /run/results/env ] && . /run/results/env
[ -n "${CMD:-}" ] || { echo "job-cmd: no CMD= in RIG_ENV"; exit 2; }
sh -c "$CMD"
