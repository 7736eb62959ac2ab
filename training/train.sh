#!/usr/bin/env bash
# `make train`: create training/.venv from the pinned requirements (once), then train and
# export engines/<name>/<version>/. Extra arguments go to the trainer, e.g.
#   training/train.sh --train-until 2011-10-28 --out-dir /tmp/model-until-2011-10-28
# WALMART_DATA overrides the data directory (default ../shared/data/walmart2014).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/venv.sh"
data="${WALMART_DATA:-$here/../../shared/data/walmart2014}"
cd "$here"
exec "$venv/bin/python" -m forecast_training.train --data "$data" "$@"
