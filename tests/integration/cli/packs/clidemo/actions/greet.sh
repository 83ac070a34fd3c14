#!/usr/bin/env bash
# Parameters arrive on stdin as dotenv lines (name='Ada').
set -euo pipefail
eval "$(cat)"
for ((i = 0; i < times; i++)); do
  if [ "$loud" = "true" ]; then echo "HELLO ${name^^}"; else echo "hello $name"; fi
done
echo "greeted $name" >&2
