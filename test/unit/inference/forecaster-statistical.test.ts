/**
 * The processor's forecaster applies a model's statistical component to the primary model's output
 * (live and what-if alike), the same blend `evaluate` serves; the fallback path is left alone.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../support/manual-clock.js';
import { TypedEmitter } from '../../../src/core/typed-emitter.js';
import { Forecaster, type FallbackModel } from '../../../src/inference/forecaster.js';
import { ModelGuard, type InferenceEvents } from '../../../src/inference/model-guard.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';
import { STL_SES_V1, stlSesForecast } from '../../../src/inference/statistical/stl-ses.js';
import { statisticalComponentOf, type StatisticalMetadata } from '../../../src/inference/statistical/statistical-component.js';
import { Catalog } from '../../../src/state/catalog.js';
import { MemoryStateStore } from '../../../src/state/memory-state-store.js';
import { FakePrimaryModel } from '../../support/fake-models.js';

const WEEK_MS = 7 * 86_400_000;
const meta = { method: 'stl-ses', version: 1, weight: 0.5, kLo: 0.9, kHi: 1.3, ...STL_SES_V1, alphas: [...STL_SES_V1.alphas] } as StatisticalMetadata;

class StatModel extends FakePrimaryModel {
  readonly statistical = statisticalComponentOf(meta, 'test');
}

function setup(model: FakePrimaryModel, fallback: FallbackModel) {
  const events = new TypedEmitter<InferenceEvents>();
  const guard = new ModelGuard({ model, timeoutMs: 1_000, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, volumeThreshold: 2, driftPsiThreshold: 0.25, driftWindow: 100, driftConsecutive: 1, events });
  return new Forecaster({ store: new MemoryStateStore({ windowBuckets: 121, bucketMs: WEEK_MS }), catalog: new Catalog(), guard, fallback, bucketSize: 'week', clock: new ManualClock(Date.UTC(2012, 5, 1)), events });
}

const origin = 2200;
const sales = new Map<number, number>();
for (let t = 0; t < 110; t++) sales.set(origin - 109 + t, 1000 + 300 * Math.sin((2 * Math.PI * t) / 52) + 37 * ((t * 7) % 5));
const snap: SeriesSnapshot = { seriesId: '1-1', store: '1', item: '1', category: '1', region: 'A', sales, lastSalesBucket: origin, promotions: [], weather: new Map() };
const info = { seriesId: '1-1', store: '1', item: '1', category: '1', region: 'A' };
const fallback: FallbackModel = { name: 'fb', version: '1', forecast: () => new Float32Array(12).fill(7) };

describe('Forecaster with a statistical component', () => {
  it('serves the blend of the primary output and the component, live and what-if', async () => {
    const plain = await setup(new FakePrimaryModel(), fallback).forecastSnapshots([snap], [info], [], 'live');
    const s = stlSesForecast(snap, origin, 4)!;
    for (const mode of ['live', 'what-if'] as const) {
      const [f] = await setup(new StatModel(), fallback).forecastSnapshots([snap], [info], [], mode);
      for (let h = 0; h < 4; h++) {
        const q = plain[0]!.horizons[h]!;
        const m = Math.max(0, 0.5 * q.p50 + 0.5 * s[h]!);
        expect(f!.horizons[h]!.p50).toBeCloseTo(m, 2);
        expect(f!.horizons[h]!.p10).toBeCloseTo(Math.max(0, m - 0.9 * (q.p50 - q.p10)), 2);
        expect(f!.horizons[h]!.p90).toBeCloseTo(m + 1.3 * (q.p90 - q.p50), 2);
      }
      expect(f!.source).toBe('primary');
    }
  });

  it('leaves the fallback forecast alone', async () => {
    const model = new StatModel();
    model.mode = 'throw';
    const forecaster = setup(model, fallback);
    for (let i = 0; i < 5; i++) await forecaster.forecastSnapshots([snap], [info], [], 'live');
    const [f] = await forecaster.forecastSnapshots([snap], [info], [], 'live');
    expect(f!.source).toBe('fallback');
    expect(f!.horizons.map((h) => h.p50)).toEqual([7, 7, 7, 7]);
  });
});
