#!/usr/bin/env bash
# Trains the M5 daily SKU model (LightGBM -> ONNX) and exports engines/m5-daily-gbm/<version>/.
# Creates training/.venv from the pinned requirements (once). Extra arguments go to the trainer;
# the defaults retrain the committed model on all data through 2014-06-30, e.g. the honest
# development-window model:
#   training/train-m5.sh --train-until 2013-06-30 --out-dir /tmp/m5-until-2013-06-30/1-2013-06-30 --evaluate
# M5_DATA overrides the data directory (default ../shared/data/m5-daily relative to the repo root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/venv.sh"
data="${M5_DATA:-$here/../../shared/data/m5-daily}"
cd "$here"
if [ $# -eq 0 ]; then
  set -- --train-until 2014-06-30 --out-dir "$here/../engines/m5-daily-gbm/2-2014-06-30"
fi
exec "$venv/bin/python" -m forecast_training.m5.train --data "$data" "$@"
