/**
 * FP16 / INT8 variants (issue #11 item 5): the gate training recorded is re-checked at load
 * (checkVariantGate), and the committed fixtures — written by
 * training/tools/make_precision_variants.py from engines/walmart-mlp/3-2012-04-27 and
 * engines/walmart-stl/1-2012-04-27 — load, pass, and compute their parity vectors in this
 * runtime (onnxruntime-node, CPU), the check a hot swap runs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  VARIANT_MAX_REL_WAPE_CHANGE,
  checkVariantGate,
  findModelDir,
  loadModelArtifact,
  parseModelMetadata,
  readParity,
  type ModelMetadata,
} from '../../../src/inference/model/model-artifact.js';
import { OnnxRunner } from '../../../src/inference/model/onnx-runner.js';

const engines = fileURLToPath(new URL('../../../engines/', import.meta.url));
const precision = fileURLToPath(new URL('../../fixtures/precision/', import.meta.url));
const PASSING = ['walmart-mlp/3-2012-04-27-fp16', 'walmart-mlp/3-2012-04-27-int8', 'walmart-stl/1-2012-04-27-fp16', 'walmart-stl/1-2012-04-27-int8'];
const FAILED = 'walmart-mlp/3-2012-04-27-int8-allops';

async function fixtureMeta(rel: string): Promise<ModelMetadata> {
  return parseModelMetadata(JSON.parse(await readFile(join(precision, rel, 'model.json'), 'utf8')), rel);
}

/** A copy of a passing INT8 fixture's metadata with `edit` applied to its variant. */
async function edited(edit: (v: Record<string, any>) => void): Promise<ModelMetadata> {
  const m = structuredClone(await fixtureMeta('walmart-mlp/3-2012-04-27-int8'));
  edit(m.variant as Record<string, any>);
  return m;
}

describe('checkVariantGate', () => {
  it('passes versions that are not precision variants', async () => {
    const committed = await loadModelArtifact(await findModelDir(engines, 'walmart-mlp'));
    expect(checkVariantGate(committed.metadata)).toBeNull();
    // make_variant.py's lifecycle versions carry a variant without a precision
    const derived = structuredClone(committed.metadata);
    derived.variant = { from: 'walmart-mlp/3-2012-04-27', scale: 3, brokenSpec: false };
    expect(checkVariantGate(derived)).toBeNull();
  });

  it.each(PASSING)('passes the committed variant %s (sha256, metadata, gate)', async (rel) => {
    const a = await loadModelArtifact(join(precision, rel));
    expect(a.metadata.version).toBe(rel.split('/')[1]);
    expect(checkVariantGate(a.metadata)).toBeNull();
    const g = a.metadata.variant!.gate as Record<string, number>;
    expect(Math.abs(g.relChange!)).toBeLessThan(VARIANT_MAX_REL_WAPE_CHANGE);
    expect(g.maxRelDiff!).toBeLessThanOrEqual(g.tolerance!);
  });

  it('refuses the variant whose gate failed in training (written with --keep-failed)', async () => {
    const a = await loadModelArtifact(join(precision, FAILED));
    expect(checkVariantGate(a.metadata)).toMatch(/int8 gate failed in training.*relative change 0\.899/);
  });

  it('refuses a gate that says passed but moved WAPE by 2% or more', async () => {
    const m = await edited((v) => Object.assign(v.gate, { baseWape: 0.1, wape: 0.102, relChange: 0.02, passed: true }));
    expect(checkVariantGate(m)).toMatch(/WAPE moved 2\.00%.*within 2%/);
    const better = await edited((v) => Object.assign(v.gate, { baseWape: 0.1, wape: 0.097, relChange: -0.03, passed: true }));
    expect(checkVariantGate(better)).toMatch(/WAPE moved -3\.00%/);
  });

  it('refuses inconsistent or missing gate figures', async () => {
    expect(checkVariantGate(await edited((v) => (v.gate.relChange = 0.001)))).toMatch(/relChange 0\.001 does not match its WAPEs/);
    expect(checkVariantGate(await edited((v) => (v.gate.maxRelDiff = 0.2)))).toMatch(/differ from FP32 by up to 0\.2.*tolerance 0\.1/);
    expect(checkVariantGate(await edited((v) => delete v.gate.wape))).toMatch(/gate\.wape is missing/);
    expect(checkVariantGate(await edited((v) => (v.gate.baseWape = 'n/a')))).toMatch(/gate\.baseWape is missing or not a finite number/);
    expect(checkVariantGate(await edited((v) => delete v.gate.passed))).toMatch(/gate\.passed is missing/);
    expect(checkVariantGate(await edited((v) => delete v.gate.heldBack))).toMatch(/heldBack/);
    expect(checkVariantGate(await edited((v) => delete v.gate))).toMatch(/carries no gate result/);
    expect(checkVariantGate(await edited((v) => delete v.from))).toMatch(/does not name the version it was made from/);
    expect(checkVariantGate(await edited((v) => (v.precision = 'int4')))).toMatch(/precision 'int4' is not one of fp16, int8/);
  });

  it('refuses an INT8 variant without a calibration on holiday and promotion weeks', async () => {
    expect(checkVariantGate(await edited((v) => (v.gate.calibration = null)))).toMatch(/no calibration result/);
    expect(checkVariantGate(await edited((v) => (v.gate.calibration.rows = 0)))).toMatch(/calibration\.rows/);
    expect(checkVariantGate(await edited((v) => (v.gate.calibration.includesHolidays = false)))).toMatch(/no holiday weeks/);
    expect(checkVariantGate(await edited((v) => (v.gate.calibration.includesPromotions = false)))).toMatch(/no promotion/);
    // FP16 is a cast, not a quantization: it needs no calibration
    const fp16 = await fixtureMeta('walmart-mlp/3-2012-04-27-fp16');
    expect((fp16.variant!.gate as Record<string, unknown>).calibration).toBeNull();
    expect(checkVariantGate(fp16)).toBeNull();
  });

  it('records real calibration windows, disjoint from the held-back window', async () => {
    const g = (await fixtureMeta('walmart-mlp/3-2012-04-27-int8')).variant!.gate as Record<string, any>;
    expect(g.heldBack).toMatch(/^targets 2012-01-06 \.\. 2012-04-27/);
    expect(g.calibration.windows).toMatch(/^origins 2011-02-04 \.\. 2011-12-02 .*targets run to 2011-12-30/);
    expect(g.calibration.holidayWeeks).toEqual(['2011-02-11', '2011-09-09', '2011-11-25', '2011-12-30']);
    expect(g.calibration.markdownRows).toBeGreaterThan(0);
  });
});

describe('precision variants in this runtime', () => {
  it.each([...PASSING, FAILED])('%s computes its parity vectors on the CPU provider', async (rel) => {
    const dir = join(precision, rel);
    const a = await loadModelArtifact(dir);
    const p = (await readParity(dir))!;
    expect(p.rows).toBeGreaterThan(16);
    const runner = await OnnxRunner.create(a.modelPath, { executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
    try {
      const out = await runner.run(Float32Array.from(p.features), p.rows);
      expect(out.length).toBe(p.outputs.length);
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - p.outputs[i]!) / Math.max(1, Math.abs(p.outputs[i]!)));
      expect(worst).toBeLessThanOrEqual(p.tolerance); // the lifecycle's parity rule
    } finally {
      await runner.close();
    }
  });

  it('the FP16 graph keeps float32 input and output and the sales-unit tail in float32', async () => {
    const m = await fixtureMeta('walmart-mlp/3-2012-04-27-fp16');
    const conv = (m.variant as Record<string, any>).conversion;
    expect(conv.keepIoTypes).toBe(true);
    expect(conv.float32Nodes.length).toBeGreaterThanOrEqual(4);
    const runner = await OnnxRunner.create(join(precision, 'walmart-mlp/3-2012-04-27-fp16', m.file), { executionProviders: ['cpu'] });
    try {
      // a big series: exp(log_scale) = e^12 ≈ 163k sales units, past float16's 65,504
      const x = new Float32Array(45).fill(1);
      x[14] = 12;
      const out = await runner.run(x, 1);
      expect(out).toBeInstanceOf(Float32Array);
      expect([...out].every((v) => Number.isFinite(v))).toBe(true);
      expect(Math.max(...out)).toBeGreaterThan(65504);
    } finally {
      await runner.close();
    }
  });
});
