#!/usr/bin/env bash
# Runs the test suites and ends with one plain summary line ("N passed, N failed").
# usage: scripts/run-tests.sh all|unit|integration
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
mkdir -p .test-results
rc=0
py_passed=0; py_failed=0
if [[ $what == all ]]; then
  if [[ -f training/test.sh ]]; then
    bash training/test.sh 2>&1 | tee .test-results/pytest.log
    [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
    py_passed=$(grep -oE '[0-9]+ passed' .test-results/pytest.log | tail -1 | grep -oE '[0-9]+' || echo 0)
    py_failed=$(grep -oE '[0-9]+ failed' .test-results/pytest.log | tail -1 | grep -oE '[0-9]+' || echo 0)
  fi
fi
case $what in
  unit) dirs=(test/unit) ;;
  integration) dirs=(test/integration) ;;
  *) dirs=(test/unit test/integration) ;;
esac
npx vitest run "${dirs[@]}" --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json
[[ $? -eq 0 ]] || rc=1
node -e '
  const fs = require("fs");
  let p = 0, f = 0;
  try { const r = JSON.parse(fs.readFileSync(".test-results/vitest.json", "utf8")); p = r.numPassedTests; f = r.numFailedTests + (r.numTotalTestSuites && r.success === false && r.numFailedTests === 0 ? 1 : 0); } catch { f = 1; }
  const pp = Number(process.argv[1]), pf = Number(process.argv[2]);
  console.log(`typescript: ${p} passed, ${f} failed; python: ${pp} passed, ${pf} failed`);
  console.log(`${p + pp} passed, ${f + pf} failed`);
' "$py_passed" "$py_failed"
exit $rc
