#!/usr/bin/env bash
# core.sleep: waits `seconds` (default 1; decimals allowed) and prints nothing.
set -euo pipefail
# shellcheck source=lib/params.sh
. "$(dirname "$0")/lib/params.sh"
attune_read_params
seconds=${P_seconds:-1}
if ! [[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "seconds must be a non-negative number, got '$seconds'" >&2
    exit 2
fi
# exec: the sleep itself receives the worker's SIGTERM on timeout or cancel.
exec sleep "$seconds"
