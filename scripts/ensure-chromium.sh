#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright; no
# browser is ever downloaded by Playwright. Install it where it is missing, as root.
set -euo pipefail
CHROMIUM="${CARTFLOW_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium
  exit 0
fi
echo "Chromium is missing at $CHROMIUM and cannot be installed here (not root, or no apt-get)." >&2
echo "Install Debian's package as root: apt-get install -y chromium (or set CARTFLOW_CHROMIUM)." >&2
exit 1
