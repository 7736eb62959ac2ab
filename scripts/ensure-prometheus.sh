#!/usr/bin/env bash
# The Prometheus server of test/integration/prometheus-scrape.test.ts (a real Prometheus scraping
# a running processor, with the chart's alert rules loaded), built from the Go module proxy into
# .tools/prometheus once: several minutes the first time, instant while the binary there is of
# this version. The same Prometheus as scripts/check-ops.sh's promtool. The default build,
# without the web UI's assets (the builtinassets tag): the test uses only the HTTP API.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=$PWD/.tools
MODULE=github.com/prometheus/prometheus
VERSION=v0.316.0 # Prometheus 3.16.0 (the Go module's v0.3xx.y is Prometheus v3.xx.y)
# `go install` stamps no version into `prometheus --version`; the module version is in the build info
if [[ -x $TOOLS/prometheus ]] && go version -m "$TOOLS/prometheus" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+$MODULE[[:space:]]+$VERSION([[:space:]]|$)"; then
  exit 0
fi
mkdir -p "$TOOLS"
export GOFLAGS=${GOFLAGS:--mod=mod}
echo "ensure-prometheus: building prometheus $VERSION from the Go module proxy (once; several minutes)"
GOBIN=$TOOLS go install "$MODULE/cmd/prometheus@$VERSION"
