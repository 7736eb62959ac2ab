#!/usr/bin/env node
// Speed and agreement of the FP32 / FP16 / INT8 versions of one model (issue #11 item 5), through
// the processor's own session path (createSessionWithFallback of the compiled
// src/inference/model/execution-providers.ts, the worker's base options), on real held-back rows.
//
//   node bench/gpu/precision-bench.mjs --ort node_modules/onnxruntime-node \
//        --ep dist/inference/model/execution-providers.js \
//        --models fp32=engines/walmart-mlp/3-2012-04-27,fp16=test/fixtures/precision/walmart-mlp/3-2012-04-27-fp16,int8=… \
//        --rows DIR --out DIR --providers cpu1,cpu,cuda [--batches 1,256,8192] [--min-time 0.5] [--profile] \
//        [--machine "NAME"] [--tag precision-cpu]
//
// DIR holds heldback.f32 (+ heldback-actual.f32, heldback.json) from
// `make_precision_variants.py --dump-rows DIR`. Providers: cpu1 = CPU, 1 intra-op thread (the
// processor's default FS_INFERENCE_THREADS=1); cpu = CPU, all cores; cuda = CUDA EP (its session
// list ends with 'cpu': nodes CUDA has no kernel for run on the CPU, which --profile shows).
// For each model x provider: every held-back row is run once (batches of 8,192) and compared with
// FP32 on cpu1 (max |diff|, max |diff| / max(|fp32|, s), WAPE of p50 against the actuals), then
// each batch size is timed: 3 warm-up runs, then runs over 3 rotating real-row inputs until
// min-time and at least 50 runs (batch 1: 500), p50 / p99 of the wall time of `await session.run()`
// (host in, host out), rows/s = batch / p50. --profile: one more session with ORT profiling, 5 runs
// at the largest batch, summarised per provider and op type (what actually runs where).
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import os from 'node:os';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
    return acc;
  }, []),
);
const ortPath = resolve(args.ort ?? 'node_modules/onnxruntime-node');
const ep = await import(pathToFileURL(resolve(args.ep ?? 'dist/inference/model/execution-providers.js')).href);
const require = createRequire(join(ortPath, 'package.json'));
const ort = require(ortPath);
const outDir = resolve(args.out ?? '.');
const rowsDir = resolve(args.rows);
const providers = (args.providers ?? 'cpu1,cpu').split(',');
const batches = (args.batches ?? '1,256,8192').split(',').map(Number);
const minTimeS = Number(args['min-time'] ?? 0.5);
const tag = args.tag ?? 'precision';
const machine = args.machine ?? `${os.hostname()}: ${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}`;
const models = (args.models ?? '').split(',').filter(Boolean).map((kv) => {
  const [key, dir] = kv.split('=');
  const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  return { key, dir: resolve(dir), path: resolve(dir, meta.file), meta };
});
mkdirSync(outDir, { recursive: true });

const info = JSON.parse(readFileSync(join(rowsDir, 'heldback.json'), 'utf8'));
const F = info.features;
const H = info.horizons;
const readF32 = (f) => { const b = readFileSync(join(rowsDir, f)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
const rows = readF32('heldback.f32');
const actual = existsSync(join(rowsDir, 'heldback-actual.f32')) ? readF32('heldback-actual.f32') : null;
const N = info.rows;
if (rows.length !== N * F) throw new Error(`heldback.f32: ${rows.length} floats, expected ${N} x ${F}`);
const LOG_SCALE = 14;

const log = { info() {}, warn(obj, msg) { console.log(`[warn] ${msg}`); } };
const cpuCount = os.cpus().length;
function providerCfg(p) {
  const base = { interOpNumThreads: 1, graphOptimizationLevel: 'all', intraOpNumThreads: p === 'cpu1' ? 1 : p === 'cpu' ? cpuCount : 1 };
  const cfg = { providers: [p === 'cpu1' ? 'cpu' : p], deviceId: 0, fp16: false, trtEngineCacheDir: join(outDir, 'trt-cache') };
  return { cfg, base };
}

function tile(batch, start) {
  const a = new Float32Array(batch * F);
  for (let r = 0; r < batch; r++) {
    const src = ((start + r) % N) * F;
    a.set(rows.subarray(src, src + F), r * F);
  }
  return new ort.Tensor('float32', a, [batch, F]);
}

async function runAll(session) {
  const out = new Float32Array(N * H * 3);
  for (let i = 0; i < N; i += 8192) {
    const b = Math.min(8192, N - i);
    const t = new ort.Tensor('float32', rows.slice(i * F, (i + b) * F), [b, F]);
    const o = await session.run({ features: t });
    out.set(o.quantiles.data, i * H * 3);
  }
  return out;
}

function wape(out) {
  if (!actual) return null;
  let num = 0, den = 0;
  for (let r = 0; r < N; r++) for (let h = 0; h < H; h++) {
    const y = actual[r * H + h];
    if (Number.isNaN(y)) continue;
    num += Math.abs(y - out[(r * H + h) * 3 + 1]);
    den += Math.abs(y);
  }
  return num / den;
}

function compare(ref, got) {
  let maxAbs = 0, maxRel = 0, nonFinite = 0;
  for (let r = 0; r < N; r++) {
    const s = Math.exp(rows[r * F + LOG_SCALE]);
    for (let j = r * H * 3; j < (r + 1) * H * 3; j++) {
      if (!Number.isFinite(got[j])) { nonFinite++; continue; }
      const d = Math.abs(got[j] - ref[j]);
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(Math.abs(ref[j]), s));
    }
  }
  return { maxAbsDiff: maxAbs, maxRelDiff: maxRel, nonFinite };
}

const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

async function time(session, batch) {
  const inputs = [0, 1, 2].map((k) => tile(batch, (k * 7919 + batch * 31) % N));
  for (let i = 0; i < 3; i++) await session.run({ features: inputs[i % 3] });
  const times = [];
  let total = 0;
  const minRuns = batch === 1 ? 500 : 50;
  while (times.length < minRuns || (total < minTimeS && times.length < 5000)) {
    const t0 = process.hrtime.bigint();
    await session.run({ features: inputs[times.length % 3] });
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    times.push(dt);
    total += dt;
  }
  const p50 = quantile(times, 0.5);
  return { runs: times.length, p50Ms: p50 * 1e3, p99Ms: quantile(times, 0.99) * 1e3, meanMs: (total / times.length) * 1e3, rowsPerS: batch / p50 };
}

async function profile(m, p) {
  const { cfg, base } = providerCfg(p);
  const dir = join(outDir, `prof-${m.key}-${p}`);
  mkdirSync(dir, { recursive: true });
  const r = await ep.createSessionWithFallback(ort, m.path, cfg, log, { baseOptions: { ...base, enableProfiling: true, profileFilePrefix: join(dir, 'p') } });
  const b = Math.max(...batches);
  const input = tile(b, 0);
  for (let i = 0; i < 5; i++) await r.session.run({ features: input });
  r.session.endProfiling();
  await r.session.release?.();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  const events = file ? JSON.parse(readFileSync(join(dir, file), 'utf8')) : [];
  rmSync(dir, { recursive: true, force: true });
  const byProvider = {};
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const prov = e.args?.provider ?? '?';
    const op = e.args?.op_name ?? '?';
    const slot = (byProvider[prov] ??= { nodes: new Set(), ops: {}, us: 0 });
    slot.nodes.add(e.name);
    slot.ops[op] = (slot.ops[op] ?? 0) + e.dur / 5;
    slot.us += e.dur / 5;
  }
  return Object.fromEntries(Object.entries(byProvider).map(([k, v]) => [k, {
    nodes: v.nodes.size, usPerRun: Math.round(v.us),
    opsUsPerRun: Object.fromEntries(Object.entries(v.ops).sort((a, b) => b[1] - a[1]).map(([o, us]) => [o, Math.round(us)])),
  }]));
}

const report = {
  machine, cpu: `${os.cpus()[0]?.model ?? 'unknown'} x ${cpuCount}`, node: process.version,
  onnxruntimeNode: require(join(ortPath, 'package.json')).version, date: new Date().toISOString(),
  heldBack: info.heldBack, rows: N, batches, minTimeS,
  models: models.map((m) => ({ key: m.key, version: `${m.meta.name}/${m.meta.version}`, path: m.path, gate: m.meta.variant?.gate ? {
    baseWape: m.meta.variant.gate.baseWape, wape: m.meta.variant.gate.wape, relChange: m.meta.variant.gate.relChange, maxRelDiff: m.meta.variant.gate.maxRelDiff, passed: m.meta.variant.gate.passed } : null })),
  results: [],
};
console.log(`machine: ${machine}; node ${process.version}; onnxruntime-node ${report.onnxruntimeNode}; ${N} held-back rows`);

let ref = null;
for (const p of ['cpu1', ...providers.filter((x) => x !== 'cpu1')]) {
  if (!providers.includes(p) && !(p === 'cpu1' && ref === null)) continue;
  for (const m of models) {
    const { cfg, base } = providerCfg(p);
    const res = { model: m.key, provider: p };
    let r;
    try {
      const t0 = performance.now();
      r = await ep.createSessionWithFallback(ort, m.path, cfg, log, { baseOptions: base });
      res.runs = r.provider;
      res.createMs = performance.now() - t0;
    } catch (err) {
      res.error = String(err?.message ?? err);
      console.log(`[skip] ${m.key}/${p}: ${res.error}`);
      report.results.push(res);
      continue;
    }
    const out = await runAll(r.session);
    if (m.key === 'fp32' && p === 'cpu1') ref = out;
    res.wape = wape(out);
    if (ref) Object.assign(res, compare(ref, out));
    if (providers.includes(p)) {
      res.points = {};
      for (const b of batches) res.points[b] = await time(r.session, b);
    }
    await r.session.release?.();
    if (args.profile === 'true' && providers.includes(p)) {
      try { res.profile = await profile(m, p); } catch (err) { res.profile = { error: String(err?.message ?? err) }; }
    }
    report.results.push(res);
    const pts = res.points ? Object.entries(res.points).map(([b, t]) => `b=${b} p50 ${t.p50Ms.toFixed(3)}ms p99 ${t.p99Ms.toFixed(3)}ms ${fmt(t.rowsPerS)} rows/s`).join(' | ') : '';
    console.log(`${m.key} on ${p} (runs ${res.runs}): WAPE ${res.wape?.toFixed(6)} maxRel ${res.maxRelDiff?.toExponential(2)} ${pts}`);
    if (res.profile) console.log(`   profile: ${JSON.stringify(res.profile)}`);
  }
}

const base = join(outDir, `${tag}`);
writeFileSync(`${base}.json`, JSON.stringify(report, null, 2));
writeFileSync(`${base}.md`, toMarkdown(report));
console.log(toMarkdown(report));

function fmt(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

function toMarkdown(r) {
  const L = [`# FP32 / FP16 / INT8: ${r.machine}`, '', `- node ${r.node}, onnxruntime-node ${r.onnxruntimeNode}, ${r.date}`,
    `- held-back rows: ${r.rows} (${r.heldBack}); timing: p50 / p99 of \`await session.run()\`, host in and out, ≥ ${r.minTimeS}s and ≥ 50 runs per point (batch 1: 500), 3 rotating real-row inputs`, ''];
  const head = ['model', 'provider (runs)', 'WAPE', 'max rel diff vs fp32/cpu1', 'max abs diff', ...r.batches.flatMap((b) => [`b=${b} p50 / p99 ms`, `b=${b} rows/s`])];
  L.push(`| ${head.join(' | ')} |`, `|${' --- |'.repeat(head.length)}`);
  for (const x of r.results) {
    if (x.error) { L.push(`| ${x.model} | ${x.provider} | failed: ${x.error.split('\n')[0].slice(0, 120)} |`); continue; }
    const cells = r.batches.flatMap((b) => (x.points?.[b] ? [`${x.points[b].p50Ms.toFixed(3)} / ${x.points[b].p99Ms.toFixed(3)}`, fmt(x.points[b].rowsPerS)] : ['–', '–']));
    L.push(`| ${x.model} | ${x.provider} (${x.runs}) | ${x.wape?.toFixed(6) ?? '–'} | ${x.maxRelDiff?.toExponential(2) ?? '–'} | ${x.maxAbsDiff?.toFixed(2) ?? '–'} | ${cells.join(' | ')} |`);
  }
  const prof = r.results.filter((x) => x.profile && !x.profile.error);
  if (prof.length) {
    L.push('', `Where the nodes ran (ORT profile, batch ${Math.max(...r.batches)}, mean over 5 runs):`, '');
    for (const x of prof) {
      const parts = Object.entries(x.profile).map(([p, v]) => `${p}: ${v.nodes} nodes, ${v.usPerRun} µs/run (top: ${Object.entries(v.opsUsPerRun).slice(0, 4).map(([o, us]) => `${o} ${us}`).join(', ')})`);
      L.push(`- ${x.model} on ${x.provider}: ${parts.join('; ')}`);
    }
  }
  return L.join('\n') + '\n';
}
