#!/usr/bin/env bash
# Make sure Debian's Chromium is there for the browser tests (and plotly's static export).
# Installs it with apt-get when run as root (or with passwordless sudo). Elsewhere it prints how
# to install it and exits 0: the browser tests then skip with the same advice. With CI set, a
# missing Chromium is an error.
set -euo pipefail
chromium="${SEGVIZ_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  echo "segviz: Chromium not found at $chromium; the browser tests will skip." >&2
  echo "        Install it with: sudo apt-get install -y chromium   (Debian/Ubuntu)" >&2
  [ -n "${CI:-}" ] && exit 1
  exit 0
fi
echo "segviz: installing Chromium (apt-get install chromium)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x "$chromium"
