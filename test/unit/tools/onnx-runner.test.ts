/** The committed ONNX model through the runner: contract shape, ordering, de-normalisation. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildFeatures } from '../../../src/inference/features/build-features.js';
import { FEATURE_COUNT, FEATURE_INDEX } from '../../../src/inference/features/feature-spec.js';
import { findModelDir, loadModelArtifact } from '../../../src/inference/model/model-artifact.js';
import { OnnxRunner } from '../../../src/inference/model/onnx-runner.js';
import { WalmartDataset } from '../../../src/tools/walmart/walmart-data.js';

const engines = fileURLToPath(new URL('../../../engines/', import.meta.url));
const fixture = fileURLToPath(new URL('../../fixtures/walmart-mini/', import.meta.url));

describe('OnnxRunner with the committed model', async () => {
  const artifact = await loadModelArtifact(await findModelDir(engines, 'walmart-mlp'));
  const runner = await OnnxRunner.create(artifact.modelPath, { intraOpNumThreads: 1 });
  const data = await WalmartDataset.load(fixture);
  const origin = data.lastWeek - 10;
  const batch = data.seriesIds.length;
  const x = new Float32Array(batch * FEATURE_COUNT);
  data.seriesIds.forEach((id, i) => buildFeatures(data.snapshotAt(id, origin), origin, 'week', x, i * FEATURE_COUNT));

  it('returns [batch, H, 3] ordered, non-negative quantiles', async () => {
    const q = await runner.run(x, batch);
    expect(q.length).toBe(batch * 4 * 3);
    for (let i = 0; i < batch * 4; i++) {
      const [a, b, c] = [q[i * 3]!, q[i * 3 + 1]!, q[i * 3 + 2]!];
      if (!(a >= 0 && a <= b && b <= c && Number.isFinite(c))) throw new Error(`row ${i}: ${a} ${b} ${c}`);
    }
  });

  it('is batch-independent and answers in sales units (de-normalised in the graph)', async () => {
    const full = await runner.run(x, batch);
    const one = await runner.run(x.slice(FEATURE_COUNT, 2 * FEATURE_COUNT), 1);
    expect([...one]).toEqual([...full.subarray(12, 24)].map((v) => expect.closeTo(v, 3)));
    // In sales units, not in units of the scale: p50 sits near the series' own recent level.
    const ratios = data.seriesIds.map((_, i) => full[i * 12 + 1]! / Math.exp(x[i * FEATURE_COUNT + FEATURE_INDEX.logScale]!));
    ratios.sort((a, b) => a - b);
    expect(ratios[Math.floor(ratios.length / 2)]!).toBeGreaterThan(0.5);
    expect(ratios[Math.floor(ratios.length / 2)]!).toBeLessThan(2);
    const sales = data.seriesIds.map((id, i) => [data.actual(id, origin) ?? 0, full[i * 12 + 1]!] as const).filter(([a]) => a > 10_000);
    expect(sales.length).toBeGreaterThan(3);
    for (const [a, p50] of sales) expect(p50 / a).toBeGreaterThan(0.2);
  });

  it('rejects a buffer shorter than the batch', async () => {
    await expect(runner.run(new Float32Array(10), 1)).rejects.toThrow(RangeError);
  });
});
