#!/usr/bin/env node
// Inference benchmark: the processor's own session path (createSessionWithFallback from
// src/inference/model/execution-providers.ts, compiled) on the CPU provider and a GPU provider,
// in the same process, over batch sizes 1 … 65,536, for the trained production model (real
// engines/ file, real feature rows), the production-shaped stand-in and a heavier stand-in.
// Checks GPU outputs against CPU outputs on the same inputs; writes JSON + markdown.
//
// Plain ESM JavaScript so it runs with a bare Node binary on the GPU machine (no tsc there).
//
//   node bench/gpu/bench.mjs --ort PATH/onnxruntime-node --ep PATH/execution-providers.js \
//        --models DIR --out DIR --machine "NAME" [--gpu cuda|tensorrt|none] [--max-batch 65536] \
//        [--trained-model engines/<name>/<version>/model.onnx --trained-rows ROWS.f32] \
//        [--only trained,prod,heavy] [--tag gpu] [--note "..."]
//
// ROWS.f32 comes from bench/gpu/make-trained-rows.ts (raw float32 [rows, features], a .json
// beside it describes them); batches larger than `rows` tile them.
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import os from 'node:os';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
    return acc;
  }, []),
);
const ortPath = resolve(args.ort ?? 'node_modules/onnxruntime-node');
const epPath = resolve(args.ep);
const modelsDir = resolve(args.models);
const outDir = resolve(args.out ?? '.');
const machine = args.machine ?? os.hostname();
const gpu = args.gpu ?? 'cuda';
const maxBatch = Number(args['max-batch'] ?? 65536);
const minTimeS = Number(args['min-time'] ?? 0.25);
const tag = args.tag ?? 'gpu';
const only = args.only ? new Set(args.only.split(',')) : null;
const trainedModel = args['trained-model'] ? resolve(args['trained-model']) : null;
const trainedRows = args['trained-rows'] ? resolve(args['trained-rows']) : null;

// Tolerances (relative L2 error of the whole output vs the CPU provider's FP32 output).
// FP32 on the GPU: ORT's CUDA EP runs float32 GEMMs on TF32 tensor cores by default (use_tf32,
// which the Node binding cannot switch off): 10-bit mantissa, typically 1e-4..1e-3 relative.
// FP16 weights and activations (float32 quantile head): a few 1e-3. Bounds: 5e-3 and 2e-2,
// far below what matters for a demand forecast (its own error is tens of percent).
const TOL = { fp32: 5e-3, fp16: 2e-2 };

const require = createRequire(join(ortPath, 'package.json'));
const ort = require(ortPath);
const ep = await import(pathToFileURL(epPath).href);

const log = {
  lines: [],
  info(obj, msg) { this.lines.push({ level: 'info', msg, ...obj }); console.log(`[info] ${msg}`); },
  warn(obj, msg) { this.lines.push({ level: 'warn', msg, ...obj }); console.log(`[warn] ${msg}${obj.hint ? ` (hint: ${obj.hint})` : ''}`); },
};

const batches = [];
for (let b = 1; b <= maxBatch; b *= 2) batches.push(b);

const MODELS = [];
if (trainedModel && trainedRows) {
  const meta = JSON.parse(readFileSync(trainedRows.replace(/\.f32$/, '') + '.json', 'utf8'));
  const buf = readFileSync(trainedRows);
  const rows = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  if (rows.length !== meta.rows * meta.features) throw new Error(`${trainedRows}: ${rows.length} floats, expected ${meta.rows} x ${meta.features}`);
  let modelMeta = {};
  try { modelMeta = JSON.parse(readFileSync(join(dirname(trainedModel), 'model.json'), 'utf8')); } catch { /* bare file */ }
  MODELS.push({
    name: 'trained',
    path: trainedModel,
    features: meta.features,
    desc: `trained production model ${modelMeta.name ?? ''}/${modelMeta.version ?? ''} (${trainedModel.split('/').slice(-3).join('/')}), ` +
      `${meta.features} features, real rows: ${meta.rows} ${meta.source} series x origin rows (${meta.series} series, ${meta.origins} weekly origins), tiled for larger batches`,
    rowsMeta: meta,
    // input set k of a batch: `batch` consecutive rows from a different offset, wrapping around
    input: (batch, k) => tileRows(rows, meta.rows, meta.features, batch, (k * 7919 + batch * 31) % meta.rows),
  });
}
MODELS.push(
  { name: 'prod', file: 'prod.onnx', features: 38, desc: 'stand-in, production shape (random weights): 38 features, MLP 38-256-256-12', input: (b) => makeInput(b, 38) },
  { name: 'heavy', file: 'heavy.onnx', features: 402, desc: 'stand-in, heavier (random weights): 402 inputs (38 features + 364-day window), MLP 402-2048-2048-2048-12', input: (b) => makeInput(b, 402) },
);

function tileRows(rows, n, f, batch, start) {
  const a = new Float32Array(batch * f);
  for (let r = 0; r < batch; r++) {
    const src = ((start + r) % n) * f;
    a.set(rows.subarray(src, src + f), r * f);
  }
  return new ort.Tensor('float32', a, [batch, f]);
}

// Fresh random inputs, several sets per batch size so repeated runs do not replay one buffer.
let seed = 12345;
function rand() {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
}
function makeInput(batch, features) {
  const a = new Float32Array(batch * features);
  for (let i = 0; i < a.length; i++) a[i] = (rand() - 0.5) * 4;
  for (let r = 0; r < batch; r++) a[r * features + 14] = rand() * 4; // log_scale in [0, 4)
  return new ort.Tensor('float32', a, [batch, features]);
}

async function runOnce(session, input) {
  const out = await session.run({ features: input });
  return out.quantiles;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(session, inputs) {
  // Warm-up: the first run of a new shape grows the GPU arena and picks cuBLAS algorithms.
  for (let i = 0; i < 2; i++) await runOnce(session, inputs[i % inputs.length]);
  const times = [];
  let total = 0;
  while (times.length < 5 || (total < minTimeS && times.length < 200)) {
    const t0 = performance.now();
    await runOnce(session, inputs[times.length % inputs.length]);
    const dt = (performance.now() - t0) / 1000;
    times.push(dt);
    total += dt;
    if (dt > 1.5 && times.length >= 3) break;
  }
  return { medianS: median(times), reps: times.length, minS: Math.min(...times) };
}

function compare(ref, got) {
  const r = ref.data;
  const g = got.data;
  let num = 0, den = 0, maxAbs = 0, maxRef = 0, bad = 0, orderViolations = 0, maxRowRel = 0;
  // per row (12 outputs): L2 of the difference over max(L2 of the row, 1 sales unit)
  const per = r.length / (ref.dims[0] || 1);
  for (let row = 0; row < r.length; row += per) {
    let n2 = 0, d2 = 0;
    for (let j = row; j < row + per; j++) { n2 += (g[j] - r[j]) ** 2; d2 += r[j] * r[j]; }
    maxRowRel = Math.max(maxRowRel, Math.sqrt(n2) / Math.max(Math.sqrt(d2), 1));
  }
  for (let i = 0; i < r.length; i++) {
    const d = g[i] - r[i];
    if (!Number.isFinite(g[i])) bad++;
    num += d * d;
    den += r[i] * r[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
    maxRef = Math.max(maxRef, Math.abs(r[i]));
    if (g[i] < 0) orderViolations++;
    if (i % 3 !== 0 && g[i] < g[i - 1]) orderViolations++;
  }
  return {
    relL2: Math.sqrt(num / den),
    maxAbsOverMaxRef: maxAbs / maxRef,
    maxRowRelL2: maxRowRel,
    nonFinite: bad,
    orderViolations,
    shapeOk: JSON.stringify(ref.dims) === JSON.stringify(got.dims),
  };
}

const cpuCount = os.cpus().length;
const report = {
  machine,
  cpu: `${os.cpus()[0]?.model ?? 'unknown'} x ${cpuCount}`,
  node: process.version,
  onnxruntimeNode: require(join(ortPath, 'package.json')).version,
  gpuProvider: gpu,
  note: args.note ?? null,
  tf32Override: process.env.NVIDIA_TF32_OVERRIDE ?? null,
  date: new Date().toISOString(),
  tolerances: TOL,
  fallbackDemo: null,
  models: [],
};
console.log(`machine: ${machine}; ${report.cpu}; node ${process.version}; onnxruntime-node ${report.onnxruntimeNode}`);

// 1. The configured fallback chain on this machine (tensorrt → cuda → cpu).
if (gpu !== 'none') {
  try {
    const r = await ep.createSessionWithFallback(ort, MODELS[0].path ?? join(modelsDir, MODELS[0].file),
      { providers: ['tensorrt', 'cuda', 'cpu'], deviceId: 0, fp16: false, trtEngineCacheDir: join(outDir, 'trt-cache') }, log);
    report.fallbackDemo = { runs: r.provider, attempts: r.attempts };
    await r.session.release?.();
  } catch (err) {
    report.fallbackDemo = { error: String(err) };
  }
}

for (const m of MODELS) {
  if (only && !only.has(m.name)) continue;
  const modelPath = m.path ?? join(modelsDir, m.file);
  const cfgBase = { deviceId: 0, trtEngineCacheDir: join(outDir, 'trt-cache') };
  const variants = [
    { key: 'cpu', cfg: { ...cfgBase, providers: ['cpu'], fp16: false }, base: {}, label: `CPU EP, ${cpuCount} threads` },
  ];
  if (m.name === 'prod' || m.name === 'trained') {
    variants.push({ key: 'cpu1', cfg: { ...cfgBase, providers: ['cpu'], fp16: false }, base: { intraOpNumThreads: 1 }, label: 'CPU EP, 1 thread (processor default FS_INFERENCE_THREADS=1)' });
  }
  if (gpu !== 'none') {
    variants.push({ key: `${gpu}`, cfg: { ...cfgBase, providers: [gpu], fp16: false }, base: {}, label: `${gpu} EP, fp32` });
    if (existsSync(ep.fp16ModelPath(modelPath))) variants.push({ key: `${gpu}-fp16`, cfg: { ...cfgBase, providers: [gpu], fp16: true }, base: {}, label: `${gpu} EP, fp16 model` });
  }
  const sessions = {};
  const modelReport = { name: m.name, desc: m.desc, modelPath, rows: m.rowsMeta ?? null, variants: {}, points: [] };
  for (const v of variants) {
    const t0 = performance.now();
    try {
      const r = await ep.createSessionWithFallback(ort, modelPath, v.cfg, log, { baseOptions: v.base });
      sessions[v.key] = r.session;
      modelReport.variants[v.key] = { label: v.label, provider: r.provider, precision: r.precision, modelPath: r.modelPath, createS: (performance.now() - t0) / 1000 };
    } catch (err) {
      modelReport.variants[v.key] = { label: v.label, error: String(err?.message ?? err) };
      console.log(`[skip] ${m.name}/${v.key}: ${err?.message ?? err}`);
    }
  }
  for (const b of batches) {
    const inputs = [m.input(b, 0), m.input(b, 1), m.input(b, 2)];
    const point = { batch: b, results: {}, check: {} };
    const ref = sessions.cpu ? await runOnce(sessions.cpu, inputs[0]) : null;
    for (const v of variants) {
      const s = sessions[v.key];
      if (!s) continue;
      if (v.key === 'cpu1' && b > 16384) continue; // 1 thread at 64k rows only repeats the slope
      if (ref && v.key !== 'cpu' && v.key !== 'cpu1') {
        const got = await runOnce(s, inputs[0]);
        const c = compare(ref, got);
        const tol = v.key.endsWith('fp16') ? TOL.fp16 : TOL.fp32;
        c.pass = c.shapeOk && c.nonFinite === 0 && c.orderViolations === 0 && c.relL2 <= tol;
        c.tol = tol;
        point.check[v.key] = c;
      }
      const t = await time(s, inputs);
      point.results[v.key] = { ...t, usPerRow: (t.medianS * 1e6) / b, rowsPerS: b / t.medianS };
    }
    modelReport.points.push(point);
    const cells = Object.entries(point.results).map(([k, r]) => `${k} ${r.usPerRow.toFixed(3)}us/row`).join(' | ');
    const checks = Object.entries(point.check).map(([k, c]) => `${k} relL2=${c.relL2.toExponential(2)} rowmax=${c.maxRowRelL2.toExponential(2)}${c.pass ? '' : ' FAIL'}`).join(' ');
    console.log(`${m.name} b=${b}: ${cells} ${checks}`);
  }
  // Crossover: smallest batch from which the GPU variant is faster per row at every larger batch.
  modelReport.crossover = {};
  for (const v of variants) {
    if (v.key.startsWith('cpu')) continue;
    for (const cpuKey of ['cpu', 'cpu1']) {
      const pts = modelReport.points.filter((p) => p.results[v.key] && p.results[cpuKey]);
      if (pts.length === 0) continue;
      let from = null;
      for (let i = pts.length - 1; i >= 0; i--) {
        if (pts[i].results[v.key].usPerRow < pts[i].results[cpuKey].usPerRow) from = pts[i].batch;
        else break;
      }
      modelReport.crossover[`${v.key}_vs_${cpuKey}`] = from;
    }
  }
  for (const s of Object.values(sessions)) await s.release?.();
  report.models.push(modelReport);
}

// Summary: every check passed?
report.allChecksPass = report.models.every((m) => m.points.every((p) => Object.values(p.check).every((c) => c.pass)));

mkdirSync(outDir, { recursive: true });
const stamp = report.date.slice(0, 10);
const base = join(outDir, `${tag}-${stamp}`);
writeFileSync(`${base}.json`, JSON.stringify(report, null, 2));
writeFileSync(`${base}.md`, toMarkdown(report));
console.log(`\nwrote ${base}.json and ${base}.md; all checks pass: ${report.allChecksPass}`);
console.log(toMarkdown(report));

function toMarkdown(r) {
  const lines = [];
  lines.push(`# Inference benchmark: CPU vs GPU execution provider`, '');
  if (r.note) lines.push(`> ${r.note}`, '');
  lines.push(`- machine: ${r.machine}`, `- CPU: ${r.cpu}`, `- node ${r.node}, onnxruntime-node ${r.onnxruntimeNode}, GPU provider: ${r.gpuProvider}`, `- date: ${r.date}`);
  lines.push(`- NVIDIA_TF32_OVERRIDE: ${r.tf32Override ?? 'unset (CUDA EP default: float32 GEMMs on TF32 tensor cores)'}`);
  lines.push(`- timing: median wall time of \`await session.run()\` (host input in, host output out, so copies to and from the GPU are included), after 2 warm-up runs, >= 5 runs and >= ${minTimeS}s per point, 3 rotating input sets (trained: real feature rows from different offsets; stand-ins: random)`);
  lines.push(`- correctness: relative L2 error of the GPU output vs the CPU FP32 output on the same input, every batch size; tolerance fp32 ${r.tolerances.fp32}, fp16 ${r.tolerances.fp16}; outputs also checked finite, non-negative and ordered. All pass: **${r.allChecksPass}**. \`rowmax\`: the largest per-row relative L2 (row = 4 horizons x 3 quantiles, denominator at least 1 sales unit), reported, not gated`);
  if (r.fallbackDemo) lines.push(`- fallback chain tensorrt,cuda,cpu on this machine: runs **${r.fallbackDemo.runs ?? 'none'}**; ${(r.fallbackDemo.attempts ?? []).filter((a) => a.error).map((a) => `${a.provider} failed: \`${a.error.split('\n')[0].slice(0, 160)}\``).join('; ')}`);
  lines.push('');
  for (const m of r.models) {
    const keys = Object.keys(m.variants).filter((k) => !m.variants[k].error);
    lines.push(`## ${m.name}: ${m.desc}`, '');
    for (const [k, v] of Object.entries(m.variants)) lines.push(`- \`${k}\`: ${v.label}${v.error ? ` — FAILED: ${v.error}` : ` (provider ${v.provider}, ${v.precision}, session created in ${v.createS.toFixed(2)}s)`}`);
    lines.push('');
    const gpuKeys = keys.filter((k) => !k.startsWith('cpu'));
    const head = ['batch', ...keys.map((k) => `${k} µs/row`), ...keys.map((k) => `${k} rows/s`), ...gpuKeys.map((k) => `${k} speed-up vs cpu`), ...(keys.includes('cpu1') ? gpuKeys.map((k) => `${k} speed-up vs cpu1`) : []), ...gpuKeys.map((k) => `${k} relL2 / rowmax`)];
    lines.push(`| ${head.join(' | ')} |`, `|${' --- |'.repeat(head.length)}`);
    for (const p of m.points) {
      const us = keys.map((k) => (p.results[k] ? p.results[k].usPerRow.toFixed(3) : '–'));
      const rps = keys.map((k) => (p.results[k] ? fmtRate(p.results[k].rowsPerS) : '–'));
      const sp = keys.filter((k) => !k.startsWith('cpu')).map((k) => (p.results[k] && p.results.cpu ? `${(p.results.cpu.usPerRow / p.results[k].usPerRow).toFixed(1)}×` : '–'));
      const sp1 = keys.includes('cpu1') ? gpuKeys.map((k) => (p.results[k] && p.results.cpu1 ? `${(p.results.cpu1.usPerRow / p.results[k].usPerRow).toFixed(1)}×` : '–')) : [];
      const err = keys.filter((k) => !k.startsWith('cpu')).map((k) => (p.check[k] ? `${p.check[k].relL2.toExponential(1)} / ${p.check[k].maxRowRelL2.toExponential(1)}${p.check[k].pass ? '' : ' FAIL'}` : '–'));
      lines.push(`| ${[p.batch, ...us, ...rps, ...sp, ...sp1, ...err].join(' | ')} |`);
    }
    lines.push('', `Crossover (smallest batch from which the GPU is faster per row at every larger batch): ${Object.entries(m.crossover).map(([k, v]) => `${k}: ${v ?? 'never'}`).join('; ')}`, '');
  }
  return lines.join('\n');
}

function fmtRate(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}
