#!/usr/bin/env bash
# make bench: the pipeline benchmarks on the local stack; results in bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
FS_LOG_LEVEL=warn node dist/cli/main.js bench "$@"
