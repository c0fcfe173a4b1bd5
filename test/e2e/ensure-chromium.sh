#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (playwright-core downloads no browser). Installs it when
# it is missing and this user can; otherwise says what to do.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests (apt-get)…"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
else
  echo "The browser tests need /usr/bin/chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu)." >&2
  exit 1
fi
