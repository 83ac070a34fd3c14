#!/usr/bin/env bash
# Parameters arrive on stdin as dotenv lines (version='1.2.0').
set -euo pipefail
eval "$(cat)"
echo "{\"artifact\": \"release-${version}.tar.gz\", \"version\": \"${version}\"}"
