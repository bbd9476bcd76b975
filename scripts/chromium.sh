#!/usr/bin/env bash
# Debian's chromium, for the creator center page's headless browser test
# (tests/kafka/gateway/test_creator_center_page.py). Idempotent: does nothing when a
# chromium is already on PATH. Browsers downloaded at run time (Playwright, Puppeteer)
# cannot be fetched here; Debian's package can. Fails with one line when it cannot install.
set -uo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "scripts/chromium.sh: no chromium and no apt-get to install Debian's chromium" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "scripts/chromium.sh: installing chromium needs root (or sudo)" >&2
    exit 1
  fi
  sudo="sudo"
fi
log="$(mktemp)"
# Wait for another apt (a parallel install) instead of failing on its lock.
apt_get=($sudo apt-get -o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive
if ! { "${apt_get[@]}" update -qq && "${apt_get[@]}" install -y -qq --no-install-recommends \
       chromium fonts-dejavu-core; } >"$log" 2>&1; then
  echo "scripts/chromium.sh: apt-get install chromium failed: $(tail -n 1 "$log")" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
if ! command -v chromium >/dev/null 2>&1; then
  echo "scripts/chromium.sh: chromium installed but not on PATH" >&2
  exit 1
fi
