/**
 * The committed walmart-stl model: its statistical component loads from model.json, settings this
 * build does not implement are refused, and evaluate's ONNX forecaster serves the blend the Python
 * twin (training/forecast_training/walmart_stl.blend) computes: the ONNX median averaged with the
 * stl-ses forecast, the ONNX distances to it scaled by kLo / kHi.
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findModelDir, loadModelArtifact } from '../../../src/inference/model/model-artifact.js';
import { OnnxRunner } from '../../../src/inference/model/onnx-runner.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';
import { stlSesForecast } from '../../../src/inference/statistical/stl-ses.js';
import { onnxForecaster } from '../../../src/tools/evaluate/forecaster.js';

const engines = fileURLToPath(new URL('../../../engines/', import.meta.url));
const vectors = JSON.parse(await readFile(fileURLToPath(new URL('../../vectors/stl-ses.json', import.meta.url)), 'utf8')) as {
  cases: Array<{ seriesId: string; origin: number; sales: Array<[number, number]>; expected: number[] | null }>;
};

function snapshot(id: string, sales: Array<[number, number]>): SeriesSnapshot {
  return { seriesId: id, store: '1', item: '1', category: '1', region: 'A', sales: new Map(sales), lastSalesBucket: sales.at(-1)![0], promotions: [], weather: new Map() };
}

describe('walmart-stl artifact', () => {
  it('loads its statistical component; models without one have none', async () => {
    const a = await loadModelArtifact(await findModelDir(engines, 'walmart-stl'));
    expect(a.statistical).not.toBeNull();
    expect(a.statistical!.weight).toBe(0.5);
    expect(a.statistical!.lookback).toBe(120);
    expect((await loadModelArtifact(await findModelDir(engines, 'walmart-mlp'))).statistical).toBeNull();
  });

  it('refuses a component with settings this build does not implement', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-'));
    await cp(await findModelDir(engines, 'walmart-stl'), dir, { recursive: true });
    const meta = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    meta.statistical.trend = 53;
    await writeFile(join(dir, 'model.json'), JSON.stringify(meta));
    await expect(loadModelArtifact(dir)).rejects.toThrow(/this build implements/);
  });

  it('evaluate serves the ONNX output blended with the component', async () => {
    const a = await loadModelArtifact(await findModelDir(engines, 'walmart-stl'));
    const runner = await OnnxRunner.create(a.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    try {
      const c = vectors.cases.filter((v) => v.expected !== null && v.sales.length > 90);
      const origin = c[0]!.origin;
      const same = c.filter((v) => v.origin === origin);
      const snaps = (same.length > 0 ? same : [c[0]!]).map((v) => snapshot(v.seriesId, v.sales));
      const plain = await onnxForecaster(runner, a.family, 4).forecast(snaps, origin, 'week', 4);
      const raw = Float32Array.from(plain);
      const blended = await onnxForecaster(runner, a.family, 4, a.statistical).forecast(snaps, origin, 'week', 4);
      const st = a.statistical!;
      for (let i = 0; i < snaps.length; i++) {
        const s = stlSesForecast(snaps[i]!, origin, 4)!;
        for (let h = 0; h < 4; h++) {
          const o = (i * 4 + h) * 3;
          const m = Math.max(0, 0.5 * raw[o + 1]! + 0.5 * s[h]!);
          expect(blended[o + 1]).toBeCloseTo(m, 1);
          expect(blended[o]).toBeCloseTo(Math.max(0, m - st.kLo * (raw[o + 1]! - raw[o]!)), 1);
          expect(blended[o + 2]).toBeCloseTo(m + st.kHi * (raw[o + 2]! - raw[o + 1]!), 1);
        }
      }
    } finally {
      await runner.close();
    }
  });
});
