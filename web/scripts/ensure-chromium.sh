#!/usr/bin/env bash
# The e2e tests drive Debian's Chromium (no browser download). Install it when missing.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then exit 0; fi
echo "web: installing Debian's chromium for the browser tests" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium >/dev/null
if [ ! -x "$chromium" ]; then
    echo "web: Chromium is still missing at $chromium; the browser tests cannot run" >&2
    exit 1
fi
