/**
 * The M5 protocol as `evaluate --dataset m5` implements it, on the sample the repository
 * carries: no sales after the origin reach a forecaster, items not yet sold are left out,
 * seasonal naive is the last 7 days repeated, promotion days follow prices, and the launch
 * task's baseline is the day-by-day median of earlier launches.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Forecaster } from '../../../src/tools/evaluate/forecaster.js';
import { launchBaseline, promotionDays, runM5Launch, runM5Rolling } from '../../../src/tools/evaluate/run-m5-evaluation.js';
import { dayOf, M5Dataset } from '../../../src/tools/m5/m5-data.js';

const data = M5Dataset.load(fileURLToPath(new URL('../../../data/m5-sample', import.meta.url)));

/** Forecasts "the last 7 days repeated" (so it must tie seasonal naive) and records what it saw. */
function spyNaive(seen: Array<{ origin: number; maxSalesDay: number; ids: string[]; firstSales: Array<number | null> }>): Forecaster {
  return {
    kind: 'fallback',
    async forecast(snaps, origin, _size, horizons) {
      const out = new Float32Array(snaps.length * horizons * 3);
      let maxDay = Number.NEGATIVE_INFINITY;
      snaps.forEach((s, i) => {
        for (const d of s.sales.keys()) maxDay = Math.max(maxDay, d);
        for (let h = 1; h <= horizons; h++) {
          const v = s.sales.get(origin - 6 + ((h - 1) % 7)) ?? 0;
          out.set([v, v, v], (i * horizons + h - 1) * 3);
        }
      });
      seen.push({ origin, maxSalesDay: maxDay, ids: snaps.map((s) => s.seriesId), firstSales: snaps.map((s) => s.firstSaleBucket ?? null) });
      return out;
    },
  };
}

describe('evaluate --dataset m5, rolling', () => {
  it('uses only sales dated <= each origin, series first sold by it, and scores seasonal naive as the last 7 days repeated', async () => {
    const seen: Array<{ origin: number; maxSalesDay: number; ids: string[]; firstSales: Array<number | null> }> = [];
    const r = await runM5Rolling(data, spyNaive(seen), { task: 'rolling', from: '2014-01-01', to: '2014-03-31' });
    expect(seen.map((s) => s.origin)).toEqual(Array.from({ length: 13 }, (_, k) => dayOf('2013-12-31') + 7 * k));
    for (const s of seen) {
      expect(s.maxSalesDay).toBeLessThanOrEqual(s.origin);
      for (const f of s.firstSales) expect(f).not.toBeNull();
      for (const f of s.firstSales) expect(f!).toBeLessThanOrEqual(s.origin);
    }
    // a series first sold after the first origin joins later
    const late = data.series.find((s) => s.firstSale !== null && s.firstSale > dayOf('2013-12-31') && s.firstSale < dayOf('2014-03-01'));
    if (late) {
      expect(seen[0]!.ids).not.toContain(late.seriesId);
      expect(seen.at(-1)!.ids).toContain(late.seriesId);
    }
    expect(r.ratio_to_seasonal_naive).toBeCloseTo(1, 10);
    expect(r.wape).toBeCloseTo(r.seasonal_naive, 10);
    expect(r.per_horizon).toHaveLength(28);
    expect(r.per_weekday.map((w) => w.weekday)).toEqual(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']);
    // targets only inside the window: 90 days x series, at most 4 origins each
    expect(r.pairs).toBeGreaterThan(90 * 100);
    expect(r.pairs).toBeLessThanOrEqual(90 * data.series.length * 4);
  });

  it('flags a promotion day when the price is >= 10% below the highest price of the 56 days before it', () => {
    const s = { ...data.series[0]!, prices: [{ fromBucket: 100, price: 2 }, { fromBucket: 200, price: 1.85 }, { fromBucket: 210, price: 1.79 }, { fromBucket: 300, price: 2 }] };
    const flags = promotionDays(s, 100, 400);
    expect(flags[150 - 100]).toBe(0);
    expect(flags[205 - 100]).toBe(0); // 7.5% off
    expect(flags[215 - 100]).toBe(1); // 10.5% off the 56-day max
    expect(flags[255 - 100]).toBe(1); // days 199..254 still hold the 2.00 of day 199
    expect(flags[256 - 100]).toBe(0); // days 200..255: the max is 1.85, 1.79 is 3% off it
  });
});

describe('evaluate --dataset m5, launch', () => {
  it('forecasts each launch from the day before its listing with no own sales, against the median of earlier launches', async () => {
    const seen: Array<{ origin: number; maxSalesDay: number; ids: string[]; firstSales: Array<number | null> }> = [];
    const r = await runM5Launch(data, spyNaive(seen), { task: 'launch', from: '2012-07-02', to: '2014-06-30' });
    expect(r.launches).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.maxSalesDay === Number.NEGATIVE_INFINITY || s.maxSalesDay <= s.origin).toBe(true);
      for (const f of s.firstSales) expect(f).toBeNull();
    }
    // a forecaster that only knows the item's own sales forecasts zero for a launch: total WAPE 1
    expect(r.total_wape).toBeCloseTo(1, 10);
    const first = data.series.filter((s) => s.listed >= dayOf('2012-07-02')).sort((a, b) => a.listed - b.listed).at(-1)!;
    const base = launchBaseline(data, first, first.listed - 1);
    expect(base).not.toBeNull();
    expect(base!).toHaveLength(28);
  });
});
