#!/usr/bin/env bash
# core.noop: does nothing, prints `message` when given, exits with `exit_code` (default 0).
set -euo pipefail
# shellcheck source=lib/params.sh
. "$(dirname "$0")/lib/params.sh"
attune_read_params
code=${P_exit_code:-0}
if ! [[ $code =~ ^[0-9]+$ ]] || [ "$code" -gt 255 ]; then
    echo "exit_code must be an integer between 0 and 255, got '$code'" >&2
    exit 2
fi
if [ -n "${P_message-}" ]; then
    printf '%s\n' "$P_message"
fi
exit "$code"
