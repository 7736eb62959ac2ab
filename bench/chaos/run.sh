#!/usr/bin/env bash
# make chaos: the fault scenarios on the real stack (vitest.chaos.config.ts); each test prints
# one JSON line per scenario with its figures. Results: bench/results/chaos-<date>.{json,md}.
# Usage: bench/chaos/run.sh [runs]   (default 1; the acceptance asks for 3 in a row)
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-1}
day=$(date -u +%F)
out=bench/results/chaos-$day
mkdir -p bench/results .test-results
: > .test-results/chaos.log
rc=0
for r in $(seq 1 "$runs"); do
  echo "chaos: run $r of $runs" | tee -a .test-results/chaos.log
  npx vitest run --config vitest.chaos.config.ts --reporter=default --reporter=json --outputFile.json=.test-results/chaos-$r.json 2>&1 | tee -a .test-results/chaos.log
  [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
done
node - "$out" "$runs" <<'JS'
const fs = require('fs');
const os = require('os');
const [out, runs] = [process.argv[2], Number(process.argv[3])];
const log = fs.readFileSync('.test-results/chaos.log', 'utf8');
const scenarios = log.split('\n').filter((l) => l.startsWith('{"scenario"')).map((l) => JSON.parse(l));
const results = [];
for (let r = 1; r <= runs; r++) {
  try {
    const j = JSON.parse(fs.readFileSync(`.test-results/chaos-${r}.json`, 'utf8'));
    for (const f of j.testResults) for (const t of f.assertionResults) results.push({ run: r, file: f.name.replace(process.cwd() + '/', ''), test: t.title, status: t.status, ms: Math.round(t.duration ?? 0) });
  } catch (e) { results.push({ run: r, file: '-', test: `no report: ${e.message}`, status: 'failed' }); }
}
const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, note: 'Kafka, the registry, Redis, the processor and the checkers on the same machine' };
fs.writeFileSync(`${out}.json`, JSON.stringify({ date: new Date().toISOString(), machine, runs, results, scenarios }, null, 2) + '\n');
const lines = [`# Chaos run ${new Date().toISOString().slice(0, 10)}`, '', `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; ${machine.note}. Runs: ${runs}.`, '', '| run | test | status | s |', '| --- | --- | --- | --- |'];
for (const t of results) lines.push(`| ${t.run} | ${t.file}: ${t.test} | ${t.status} | ${(t.ms / 1000).toFixed(1)} |`);
lines.push('', '## Figures printed by the scenarios', '', '```');
for (const s of scenarios) lines.push(JSON.stringify(s));
lines.push('```', '');
fs.writeFileSync(`${out}.md`, lines.join('\n'));
const failed = results.filter((t) => t.status !== 'passed').length;
console.log(`chaos: ${results.length - failed} passed, ${failed} failed over ${runs} run(s); ${out}.md`);
JS
exit $rc
