#!/usr/bin/env bash
# Create or refresh the course's virtual environment; a no-op when it is already up to date.
#
# The environment is keyed by a hash of pyproject.toml + constraints.txt, written to a stamp in
# the venv: change either file and the next `make lab` / `make test` reinstalls; otherwise this
# returns in well under a second. Override the location with SEGVIZ_VENV and the interpreter
# with PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${SEGVIZ_VENV:-.venv}"
stamp="$venv/.segviz-setup"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "segviz: environment $venv is up to date ($want)"
  exit 0
fi

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.13 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
  done
fi
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] < (3, 14)))'; then
  echo "segviz: needs Python 3.10-3.13 (3.11 is what constraints.txt was locked with)." >&2
  echo "        Install one (e.g. 'apt-get install python3.11-venv') or set PYTHON=/path/to/python3.11." >&2
  exit 1
fi

start=$(date +%s)
echo "segviz: setting up $venv with $("$python" --version) (torch + CUDA libraries: ~6 GB, a few minutes)"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -c constraints.txt -e ".[test]"
echo "$want" > "$stamp"
echo "segviz: environment ready in $(( $(date +%s) - start )) s; check it with: $venv/bin/segviz doctor"
