/** The fallback model: shape, ordering, non-negativity, seasonality and promotion uplift. */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { bucketEndMs, bucketStartMs } from '../../../src/inference/features/bucket-clock.js';
import { forecastFallback, forecastFallbackInto } from '../../../src/inference/fallback/fallback-forecast.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';
import { WalmartDataset } from '../../../src/tools/walmart/walmart-data.js';

const fixture = fileURLToPath(new URL('../../fixtures/walmart-mini/', import.meta.url));

function series(values: (b: number) => number, from: number, to: number): SeriesSnapshot {
  const sales = new Map<number, number>();
  for (let b = from; b <= to; b++) sales.set(b, values(b));
  return { seriesId: 's', store: '1', item: '1', category: '1', region: 'all', sales, lastSalesBucket: to, promotions: [], weather: new Map() };
}

describe('forecastFallback', () => {
  it('gives ordered, non-negative quantiles for every fixture series and origin', async () => {
    const data = await WalmartDataset.load(fixture);
    let checked = 0;
    for (const id of data.seriesIds) {
      for (let origin = data.firstWeek; origin < data.lastWeek; origin += 5) {
        const q = forecastFallback(data.snapshotAt(id, origin), origin, 'week', 4);
        expect(q.length).toBe(12);
        for (let h = 0; h < 4; h++) {
          const [p10, p50, p90] = [q[h * 3]!, q[h * 3 + 1]!, q[h * 3 + 2]!];
          if (!(p10 >= 0 && p10 <= p50 && p50 <= p90 && Number.isFinite(p90))) throw new Error(`${id}@${origin}: ${p10} ${p50} ${p90}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('repeats a perfectly seasonal series with a narrow interval', () => {
    const pattern = (b: number) => 100 + 50 * Math.sin((2 * Math.PI * b) / 52);
    const origin = 2200;
    const q = forecastFallback(series(pattern, origin - 120, origin), origin, 'week', 4);
    for (let h = 1; h <= 4; h++) {
      // The blend keeps 20% smoothed level, so p50 sits between the seasonal value and the level.
      expect(Math.abs(q[(h - 1) * 3 + 1]! - pattern(origin + h))).toBeLessThan(0.2 * 50);
    }
  });

  it('raises p50 by the promotion elasticity where a discount covers the bucket', () => {
    const origin = 2200;
    const base = series(() => 100, origin - 60, origin);
    const promo = {
      ...base,
      promotions: [{ promotionId: 'p', startMs: bucketStartMs(origin + 2, 'week'), endMs: bucketEndMs(origin + 2, 'week'), depth: 0.2, markdown: 0 }],
    };
    const a = forecastFallback(base, origin, 'week', 4);
    const b = forecastFallback(promo, origin, 'week', 4);
    expect(b[4]!).toBeCloseTo(a[4]! * 1.4, 3);
    expect(b[1]!).toBe(a[1]!);
  });

  it('forecasts zeros for a series without sales, at the given offset', () => {
    const out = new Float32Array(20).fill(7);
    forecastFallbackInto(series(() => 0, 1, 0), 2200, 'day', 2, out, 4);
    expect([...out.subarray(4, 10)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(out[3]).toBe(7);
    expect(out[10]).toBe(7);
  });
});
