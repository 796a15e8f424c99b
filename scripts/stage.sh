#!/usr/bin/env bash
# stage.sh NAME CMD...: run CMD as a named stage, printing its duration.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
stage "$@"
