#!/usr/bin/env bash
# The operations artefacts, checked offline (part of make test; make check-ops alone):
#  - the Helm chart: helm lint, helm template for several values sets, every rendered object
#    strictly decoded into its Kubernetes API type (tools/k8s-validate: unknown fields fail),
#    and values that must be refused (values.schema.json, template guards) are refused;
#  - the alert rules: promtool check rules + promtool test rules (synthetic series), also on the
#    rules as the chart's PrometheusRule renders them.
# Tools are built from the Go module proxy into .tools/ once (helm, promtool, k8s-validate).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=$PWD/.tools
mkdir -p "$TOOLS"
export GOFLAGS=${GOFLAGS:--mod=mod}
tool() { # name, go package@version
  if [[ ! -x $TOOLS/$1 ]]; then
    echo "check-ops: building $1 from the Go module proxy (once; a few minutes)"
    GOBIN=$TOOLS go install "$2"
  fi
}
tool helm helm.sh/helm/v3/cmd/helm@v3.22.0
tool promtool github.com/prometheus/prometheus/cmd/promtool@v0.316.0
if [[ ! -x $TOOLS/k8s-validate || tools/k8s-validate/main.go -nt $TOOLS/k8s-validate || tools/k8s-validate/keda.go -nt $TOOLS/k8s-validate ]]; then
  (cd tools/k8s-validate && go build -o "$TOOLS/k8s-validate" .)
fi
HELM=$TOOLS/helm
CHART=helm/forecast-stream
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for set in default full gpu; do
  args=()
  [[ $set == default ]] || args=(-f "$CHART/ci/values-$set.yaml")
  "$HELM" lint --strict "$CHART" "${args[@]}" >"$out/lint-$set.log" || { cat "$out/lint-$set.log"; exit 1; }
  "$HELM" template check "$CHART" "${args[@]}" >"$out/$set.yaml"
  echo "check-ops: values set '$set': $("$TOOLS/k8s-validate" "$out/$set.yaml" | wc -l) objects strictly valid"
done
# the validator itself refuses a misspelt field (so its "ok" means something)
if sed 's/readinessProbe:/readynessProbe:/' "$out/default.yaml" | "$TOOLS/k8s-validate" - >/dev/null 2>&1; then echo "check-ops: k8s-validate accepted a misspelt field"; exit 1; fi
# the full set renders every optional object
for kind in Deployment Service ConfigMap ServiceAccount PodDisruptionBudget CronJob ScaledObject ServiceMonitor PrometheusRule; do
  grep -q "^kind: $kind$" "$out/full.yaml" || { echo "check-ops: the full values set renders no $kind"; exit 1; }
done
# what must be refused is refused, with a message naming the problem
for bad in bad-keda:"exceeds keda.inputPartitions" bad-typo:"additional properties 'replica' not allowed"; do
  set=${bad%%:*}; want=${bad#*:}
  if "$HELM" template check "$CHART" -f "$CHART/ci/values-$set.yaml" >"$out/$set.log" 2>&1; then echo "check-ops: values set '$set' rendered but must fail"; exit 1; fi
  grep -q "$want" "$out/$set.log" || { echo "check-ops: values set '$set' failed without '$want':"; cat "$out/$set.log"; exit 1; }
  echo "check-ops: values set '$set' refused: $want"
done

# alert rules: the file, its tests, and the rules as the chart renders them
"$TOOLS/promtool" check rules "$CHART/files/alerts.yaml"
(cd "$CHART/files" && "$TOOLS/promtool" test rules alerts.test.yaml)
node -e '
  const { parseAllDocuments, stringify } = require("yaml");
  const docs = parseAllDocuments(require("fs").readFileSync(process.argv[1], "utf8")).map((d) => d.toJS());
  const rule = docs.find((d) => d && d.kind === "PrometheusRule");
  require("fs").writeFileSync(process.argv[2], stringify(rule.spec));
' "$out/full.yaml" "$out/rendered-rules.yaml"
"$TOOLS/promtool" check rules "$out/rendered-rules.yaml" >/dev/null
grep -q "runbook_url: https://" "$out/rendered-rules.yaml" || { echo "check-ops: the rendered rules carry no runbook URL"; exit 1; }
echo "check-ops: ok"
