#!/usr/bin/env node
// The processor's own inference path on the GPU: the compiled processor (`npm run build` → dist/)
// loads the model with loadPrimaryModel (dist/main/models.js: validates engines/ metadata and the
// model's sha256, starts the worker thread dist/inference/model/onnx-worker.js, which picks the
// execution provider through createSessionWithFallback), from a config built by loadConfig
// (dist/ops/config.js). Loads it twice, executionProviders ['cuda','cpu'] and ['cpu'], runs the
// same real feature rows through `model.run(features, batch)` on both and compares.
//
// The worker on a GPU provider keeps a CPU session for batches below gpuMinBatch (FS_GPU_MIN_BATCH,
// default 256): those come back bit-identical to the CPU model, larger ones differ by the GPU's
// rounding (TF32). Both are checked, as is the timing of model.run (worker messaging included).
//
//   node bench/gpu/processor-path.mjs --dist DIST --engines ENGINES --rows ROWS.f32 --out DIR \
//        [--gpu cuda] [--machine NAME] [--tag gpu-processor-path]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import os from 'node:os';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
    return acc;
  }, []),
);
const dist = resolve(args.dist ?? 'dist');
const enginesDir = resolve(args.engines ?? 'engines');
const rowsPath = resolve(args.rows);
const outDir = resolve(args.out ?? '.');
const gpu = args.gpu ?? 'cuda';
const tag = args.tag ?? 'gpu-processor-path';
const TOL = 5e-3; // relative L2, as bench.mjs (TF32 GEMMs)

const { loadConfig } = await import(pathToFileURL(join(dist, 'ops/config.js')).href);
const { findPrimaryArtifact, loadPrimaryModel } = await import(pathToFileURL(join(dist, 'main/models.js')).href);

const lines = [];
const log = {
  info(obj, msg) { lines.push({ level: 'info', msg, ...obj }); console.log(`[info] ${msg}`); },
  warn(obj, msg) { lines.push({ level: 'warn', msg, ...obj }); console.log(`[warn] ${msg}`); },
  error(obj, msg) { lines.push({ level: 'error', msg, ...obj }); console.log(`[error] ${msg}`); },
  debug() {},
  child() { return this; },
};

const meta = JSON.parse(readFileSync(rowsPath.replace(/\.f32$/, '') + '.json', 'utf8'));
const buf = readFileSync(rowsPath);
const rows = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const F = meta.features;
function features(batch, start = 0) {
  const a = new Float32Array(batch * F);
  for (let r = 0; r < batch; r++) {
    const src = ((start + r) % meta.rows) * F;
    a.set(rows.subarray(src, src + F), r * F);
  }
  return a;
}

const cfgGpu = loadConfig({ env: {}, overrides: { executionProviders: [gpu, 'cpu'], enginesDir, modelName: process.env.FS_MODEL ?? 'walmart-mlp' } });
const cfgCpu = loadConfig({ env: {}, overrides: { executionProviders: ['cpu'], enginesDir, modelName: process.env.FS_MODEL ?? 'walmart-mlp' } });
const report = {
  machine: args.machine ?? os.hostname(),
  node: process.version,
  date: new Date().toISOString(),
  tf32Override: process.env.NVIDIA_TF32_OVERRIDE ?? null,
  rows: meta,
  config: {
    gpu: pick(cfgGpu),
    cpu: pick(cfgCpu),
  },
  models: {},
  checks: [],
  timing: [],
};
function pick(c) {
  return { executionProviders: c.executionProviders, batchMaxSize: c.batchMaxSize, gpuMinBatch: c.gpuMinBatch, inferenceThreads: c.inferenceThreads, gpuFp16: c.gpuFp16, enginesDir: c.enginesDir };
}

let t0 = performance.now();
const gpuModel = await loadPrimaryModel(cfgGpu, await findPrimaryArtifact(cfgGpu), log);
const gpuLoadS = (performance.now() - t0) / 1000;
t0 = performance.now();
const cpuModel = await loadPrimaryModel(cfgCpu, await findPrimaryArtifact(cfgCpu), log);
const cpuLoadS = (performance.now() - t0) / 1000;
for (const [k, m, s] of [['gpu', gpuModel, gpuLoadS], ['cpu', cpuModel, cpuLoadS]]) {
  report.models[k] = { name: m.name, version: m.version, provider: m.provider, precision: m.precision, attempts: m.attempts, horizons: m.horizons, loadS: s };
}
report.providerOk = gpuModel.provider === gpu && cpuModel.provider === 'cpu';
console.log(`gpu model: ${gpuModel.name}/${gpuModel.version} provider=${gpuModel.provider} (${gpuModel.precision}); cpu model provider=${cpuModel.provider}; providerOk=${report.providerOk}`);

const minBatch = cfgGpu.gpuMinBatch;
for (const batch of [1, 64, minBatch - 1, minBatch, 1024, 4096, cfgGpu.batchMaxSize, 65536]) {
  const x = features(batch, batch * 13);
  const ref = await cpuModel.run(x, batch);
  const got = await gpuModel.run(x, batch);
  let num = 0, den = 0, maxRowRel = 0, maxElemRel = 0, nonFinite = 0, order = 0, identical = ref.length === got.length;
  const per = got.length / batch;
  for (let r = 0; r < batch; r++) {
    let n2 = 0, d2 = 0;
    for (let j = r * per; j < (r + 1) * per; j++) {
      const d = got[j] - ref[j];
      if (d !== 0) identical = false;
      if (!Number.isFinite(got[j])) nonFinite++;
      if (got[j] < 0 || (j % 3 !== 0 && got[j] < got[j - 1])) order++;
      n2 += d * d; d2 += ref[j] * ref[j];
      maxElemRel = Math.max(maxElemRel, Math.abs(d) / Math.max(Math.abs(ref[j]), 1));
    }
    num += n2; den += d2;
    maxRowRel = Math.max(maxRowRel, Math.sqrt(n2) / Math.max(Math.sqrt(d2), 1));
  }
  const relL2 = den > 0 ? Math.sqrt(num / den) : 0;
  const expectedPath = batch < minBatch ? 'cpu session (below gpuMinBatch)' : gpu;
  const c = {
    batch, expectedPath, outputs: got.length, relL2, maxRowRelL2: maxRowRel, maxElemRel, identical, nonFinite, orderViolations: order,
    pass: got.length === batch * 12 && nonFinite === 0 && order === 0 && relL2 <= TOL && (batch >= minBatch || identical),
  };
  report.checks.push(c);
  console.log(`batch ${batch} → ${expectedPath}: relL2=${relL2.toExponential(2)} rowmax=${maxRowRel.toExponential(2)} elemmax=${maxElemRel.toExponential(2)} identical=${identical} pass=${c.pass}`);
}
report.allChecksPass = report.providerOk && report.checks.every((c) => c.pass);

// Timing through model.run (worker thread, structured-clone copy in, transfer out).
async function time(model, x, batch) {
  for (let i = 0; i < 3; i++) await model.run(x, batch);
  const ts = [];
  let total = 0;
  while (ts.length < 7 || (total < 0.3 && ts.length < 300)) {
    const t = performance.now();
    await model.run(x, batch);
    const dt = (performance.now() - t) / 1000;
    ts.push(dt); total += dt;
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}
for (const batch of [64, 128, minBatch, 512, 1024, 2048, 4096, cfgGpu.batchMaxSize, 16384, 65536]) {
  const x = features(batch, 0);
  const cpuS = await time(cpuModel, x, batch);
  const gpuS = await time(gpuModel, x, batch);
  const p = { batch, cpuUsPerRow: (cpuS * 1e6) / batch, gpuUsPerRow: (gpuS * 1e6) / batch, speedup: cpuS / gpuS };
  report.timing.push(p);
  console.log(`timing b=${batch}: cpu(${cfgCpu.inferenceThreads} thr) ${p.cpuUsPerRow.toFixed(3)} µs/row, ${gpu}+cpu ${p.gpuUsPerRow.toFixed(3)} µs/row, ${p.speedup.toFixed(2)}×`);
}
await gpuModel.close();
await cpuModel.close();
report.log = lines.map(({ level, msg, executionProvider, precision }) => ({ level, msg, executionProvider, precision }));

mkdirSync(outDir, { recursive: true });
const base = join(outDir, `${tag}-${report.date.slice(0, 10)}`);
writeFileSync(`${base}.json`, JSON.stringify(report, null, 2));
const md = [
  `# Processor path on the GPU: loadPrimaryModel → worker → ${gpu}`, '',
  `- machine: ${report.machine}; node ${report.node}; ${report.date}`,
  `- model: ${gpuModel.name}/${gpuModel.version}; rows: ${meta.rows} real ${meta.source} feature rows (tiled)`,
  `- config (loadConfig, env {}): GPU ${JSON.stringify(report.config.gpu)}; CPU ${JSON.stringify(report.config.cpu)}`,
  `- providers: GPU config runs **${report.models.gpu.provider}** (${report.models.gpu.precision}), attempts ${JSON.stringify(report.models.gpu.attempts)}; CPU config runs ${report.models.cpu.provider}`,
  `- all checks pass: **${report.allChecksPass}** (relative L2 ≤ ${TOL}, finite, ordered, batches below gpuMinBatch bit-identical to the CPU model)`, '',
  '| batch | path in the worker | relative L2 | max row rel. L2 | max element rel. diff | bit-identical to CPU | pass |', '| --- | --- | --- | --- | --- | --- | --- |',
  ...report.checks.map((c) => `| ${c.batch} | ${c.expectedPath} | ${c.relL2.toExponential(1)} | ${c.maxRowRelL2.toExponential(1)} | ${c.maxElemRel.toExponential(1)} | ${c.identical} | ${c.pass} |`),
  '', `Timing of \`await model.run(features, batch)\` (median; worker messaging included; CPU model at inferenceThreads=${cfgCpu.inferenceThreads}):`, '',
  '| batch | CPU µs/row | GPU config µs/row | speed-up |', '| --- | --- | --- | --- |',
  ...report.timing.map((p) => `| ${p.batch} | ${p.cpuUsPerRow.toFixed(3)} | ${p.gpuUsPerRow.toFixed(3)} | ${p.speedup.toFixed(2)}× |`),
  '',
].join('\n');
writeFileSync(`${base}.md`, md);
console.log(`\nwrote ${base}.json and ${base}.md; all checks pass: ${report.allChecksPass}`);
process.exit(report.allChecksPass ? 0 : 1);
