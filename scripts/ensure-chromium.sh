#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright; no
# browser is ever downloaded by Playwright. Install it where it is missing, as root, with
# the CJK fonts (so the Chinese pages show characters, not boxes, in screenshots) and GNU
# gettext (msgfmt, for `make messages` and the test that the committed catalogues are current).
set -euo pipefail
CHROMIUM="${CARTFLOW_CHROMIUM:-/usr/bin/chromium}"
have_fonts() { [ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto | grep -qi cjk; }
if [ -x "$CHROMIUM" ] && have_fonts && command -v msgfmt >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-noto-cjk gettext
  exit 0
fi
if [ -x "$CHROMIUM" ]; then
  echo "Chromium is here, but fonts-noto-cjk or gettext is missing: Chinese screenshots may show boxes." >&2
  exit 0
fi
echo "Chromium is missing at $CHROMIUM and cannot be installed here (not root, or no apt-get)." >&2
echo "Install Debian's packages as root: apt-get install -y chromium fonts-noto-cjk gettext (or set CARTFLOW_CHROMIUM)." >&2
exit 1
