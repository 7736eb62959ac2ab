#!/usr/bin/env bash
# `make train`: create training/.venv from the pinned requirements (once), then train and
# export engines/<name>/<version>/. Extra arguments go to the trainer, e.g.
#   training/train.sh --train-until 2011-10-28 --out-dir /tmp/model-until-2011-10-28
# WALMART_DATA overrides the data directory (default ../shared/data/walmart2014).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
stamp="$venv/.requirements-train.sha256"
want=$(cat "$here/requirements-train.txt" "$here/requirements-test.txt" | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-train.txt"
  echo "$want" > "$stamp"
fi
data="${WALMART_DATA:-$here/../../shared/data/walmart2014}"
cd "$here"
exec "$venv/bin/python" -m forecast_training.train --data "$data" "$@"
