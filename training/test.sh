#!/usr/bin/env bash
# `make test` (Python part): the feature-parity tests, with only requirements-test.txt
# (numpy, pytest) in a venv of its own, so CI stays light. Exit status is pytest's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv-test"
stamp="$venv/.requirements-test.sha256"
want=$(sha256sum "$here/requirements-test.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-test.txt"
  echo "$want" > "$stamp"
fi
cd "$here"
exec "$venv/bin/python" -m pytest -q tests "$@"
