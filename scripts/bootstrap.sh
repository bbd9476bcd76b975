#!/usr/bin/env bash
# Installs what the project needs into .venv (Python 3.11, pinned packages).
# Re-running is cheap: it reinstalls only when a requirements file changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

py="${PYTHON311:-}"
if [ -z "$py" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      py="$(command -v "$cand")"; break
    fi
  done
fi
[ -n "$py" ] || { echo "bootstrap: Python 3.11 is required (set PYTHON311=/path/to/python3.11)" >&2; exit 1; }
command -v java >/dev/null || { echo "bootstrap: a JDK (17+) is required to run Kafka: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
command -v mvn >/dev/null || { echo "bootstrap: Maven is required to fetch Kafka: apt-get install maven" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv || { echo "bootstrap: could not create .venv (apt-get install python3-venv?)" >&2; exit 1; }
fi
stamp=.venv/.requirements.sha256
want="$(cat requirements.txt requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "bootstrap: installing Python packages into .venv ..."
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt -c constraints.txt \
    || { echo "bootstrap: pip install failed (see above)" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
echo "bootstrap: .venv ready ($(.venv/bin/python --version))"
