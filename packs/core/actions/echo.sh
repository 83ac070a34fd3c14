#!/usr/bin/env bash
# core.echo: prints the `message` parameter (dotenv on stdin) followed by a newline.
set -euo pipefail
# shellcheck source=lib/params.sh
. "$(dirname "$0")/lib/params.sh"
attune_read_params
printf '%s\n' "${P_message-}"
