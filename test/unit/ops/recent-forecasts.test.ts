import { describe, expect, it } from 'vitest';
import type { Forecast } from '../../../src/inference/forecast.js';
import { RecentForecasts } from '../../../src/ops/recent-forecasts.js';

const forecast = (seriesId: string, issuedAt: number, p50: number): Forecast => ({
  seriesId,
  store: 'S',
  item: seriesId,
  issuedAt,
  bucketSize: 'day',
  originBucket: 1,
  originDate: '2014-06-30',
  horizons: [1, 2].map((h) => ({ horizon: h, bucketDate: `2014-07-0${h}`, p10: p50 / 2, p50, p90: p50 * 2 })),
  modelName: 'm',
  modelVersion: 'v',
  source: 'primary',
  featureAgeMs: 0,
  triggers: [{ topic: 'sales', partition: 0, offset: String(issuedAt) }],
});

describe('RecentForecasts', () => {
  it('keeps the newest forecasts per series, newest first, and at most perSeries of them', () => {
    const r = new RecentForecasts({ perSeries: 2, maxSeries: 10, moveWindowMs: 60_000, maxMoves: 100 });
    r.add([forecast('a', 1, 1), forecast('a', 2, 2), forecast('a', 3, 3)]);
    expect(r.of('a').map((f) => f.issuedAt)).toEqual([3, 2]);
    expect(r.of('a')[0]!.total).toBe(6);
    expect([...r.of('a')[0]!.quantiles]).toEqual([1.5, 3, 6, 1.5, 3, 6]);
    expect(r.of('a')[0]!.triggers).toEqual(['sales[0]@3']);
  });

  it('drops the series forecast least recently once over maxSeries', () => {
    const r = new RecentForecasts({ perSeries: 2, maxSeries: 2, moveWindowMs: 60_000, maxMoves: 100 });
    r.add([forecast('a', 1, 1), forecast('b', 2, 1)]);
    r.add([forecast('a', 3, 2)]); // a is now the most recent
    r.add([forecast('c', 4, 1)]);
    expect(r.seriesCount).toBe(2);
    expect(r.of('b')).toEqual([]);
    expect(r.of('a')).toHaveLength(2);
  });

  it('ranks movers by relative change since a time, each series once with its largest move, and forgets old moves', () => {
    const r = new RecentForecasts({ perSeries: 4, maxSeries: 10, moveWindowMs: 1_000, maxMoves: 100 });
    r.add([forecast('a', 0, 10), forecast('b', 0, 10), forecast('c', 0, 10)]);
    r.add([forecast('a', 100, 11), forecast('b', 100, 5), forecast('c', 100, 10)]); // +10%, -50%, unchanged
    r.add([forecast('a', 200, 13.2)]); // +20% on 11
    const m = r.movers(50, 10);
    expect(m.map((x) => x.seriesId)).toEqual(['b', 'a']);
    expect(m[0]!.change).toBeCloseTo(-0.5);
    expect(m[1]!.change).toBeCloseTo(0.2);
    expect(r.movers(150, 10).map((x) => x.seriesId)).toEqual(['a']);
    r.add([forecast('b', 5_000, 6)]); // the earlier moves are now outside the window
    expect(r.movers(0, 10).map((x) => x.seriesId)).toEqual(['b']);
  });
});
