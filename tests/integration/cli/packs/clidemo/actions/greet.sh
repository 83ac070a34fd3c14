#!/usr/bin/env bash
# Parameters arrive on stdin as dotenv lines (name='Ada'); keys of the store may come along
# with dotted names, which are not shell variables: only plain names are evaluated.
set -euo pipefail
eval "$(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' || true)"
for ((i = 0; i < times; i++)); do
  if [ "$loud" = "true" ]; then echo "HELLO ${name^^}"; else echo "hello $name"; fi
done
echo "greeted $name" >&2
