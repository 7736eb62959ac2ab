import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src/core/typed-emitter.js';
import { OnlineAccuracy, type AccuracyEvents } from '../../../src/accuracy/online-accuracy.js';
import { MemoryPendingForecasts } from '../../../src/accuracy/pending-forecasts.js';
import type { Forecast } from '../../../src/inference/forecast.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';
import type { ServedGroup } from '../../../src/inference/serving-models.js';

const H = 2;
/** One series forecast from `origin` with p50 = `p50` on both horizons, its state holding `sales`. */
function group(seriesId: string, origin: number, p50: number, sales: Map<number, number>, version = 'v1'): ServedGroup {
  const f = {
    seriesId, store: 's', item: 'i', issuedAt: 0, bucketSize: 'day', originBucket: origin, originDate: '', modelName: 'm', modelVersion: version, source: 'primary', featureAgeMs: 0, triggers: [],
    horizons: Array.from({ length: H }, (_, k) => ({ horizon: k + 1, bucketDate: '', p10: p50 * 0.5, p50, p90: p50 * 1.5 })),
  } as Forecast;
  const snap = { seriesId, sales, lastSalesBucket: origin } as unknown as SeriesSnapshot;
  return { guard: null as never, snapshots: [snap], origins: [origin], features: new Float32Array(), output: null, durationMs: 0, forecasts: [f] };
}

function make(o: Partial<{ closeDelay: number; window: number; margin: number; minPairs: number }> = {}) {
  const events = new TypedEmitter<AccuracyEvents>();
  const pending = new MemoryPendingForecasts();
  const acc = new OnlineAccuracy({ pending, horizons: H, closeDelay: o.closeDelay ?? 0, window: o.window ?? 3, margin: o.margin ?? 0.25, minPairs: o.minPairs ?? 1, events });
  return { acc, events, pending };
}

describe('online accuracy', () => {
  it('scores each closed bucket against every forecast kept for it (latest per origin and horizon), then forgets them', async () => {
    const { acc, pending } = make();
    const sales = new Map<number, number>();
    acc.observe([group('a', 10, 4, sales)]); // targets 11, 12
    acc.observe([group('a', 10, 5, sales)]); // re-forecast from the same origin replaces it
    sales.set(11, 6);
    acc.observe([group('a', 11, 7, sales)]); // closes 11: the origin-10 h1 forecast (p50 5) vs 6
    await acc.settled();
    const s = acc.summary()[0]!;
    expect(s).toMatchObject({ version: 'v1', pairs: 1, wape: 1 / 6, bias: -1 / 6, coverage: 1 });
    sales.set(12, 10);
    acc.observe([group('a', 12, 7, sales)]); // closes 12: origin 10 h2 (5 vs 10) and origin 11 h1 (7 vs 10)
    await acc.settled();
    const t = acc.summary()[0]!;
    expect(t.pairs).toBe(3);
    expect(t.wape).toBeCloseTo((1 + 5 + 3) / (6 + 10 + 10));
    expect(t.byHorizon).toEqual([expect.objectContaining({ horizon: 1, pairs: 2 }), expect.objectContaining({ horizon: 2, pairs: 1 })]);
    // what is left awaits targets 13, 14 only
    expect(pending.size).toBe(2);
  });

  it('a bucket with no sales scores as actual 0; the close delay waits that many buckets', async () => {
    const { acc } = make({ closeDelay: 1 });
    const sales = new Map<number, number>();
    acc.observe([group('b', 20, 2, sales)]);
    acc.observe([group('b', 21, 2, sales)]); // 21 is not closed yet (delay 1)
    await acc.settled();
    expect(acc.summary()).toEqual([]);
    acc.observe([group('b', 22, 2, sales)]); // closes 21: p50 2 vs 0
    await acc.settled();
    expect(acc.summary()[0]).toMatchObject({ pairs: 1, wape: null, bias: null, coverage: 0 });
  });

  it('raises degraded once when the rolling WAPE exceeds the first window by the margin, and re-arms after recovery', async () => {
    const { acc, events } = make({ window: 2, margin: 0.5 });
    const said: Array<{ rollingWape: number; firstWape: number }> = [];
    events.on('degraded', (e) => said.push(e));
    const sales = new Map<number, number>();
    let origin = 100;
    const step = async (p50: number) => {
      sales.set(origin + 1, 10);
      acc.observe([group('c', origin, p50, sales)]);
      origin++;
      acc.observe([group('c', origin, p50, sales)]);
      await acc.settled();
    };
    for (let i = 0; i < 4; i++) await step(11); // WAPE 0.1
    expect(said).toEqual([]);
    for (let i = 0; i < 4; i++) await step(20); // WAPE 1.0
    expect(said.length).toBe(1);
    expect(said[0]!.firstWape).toBeCloseTo(0.1);
    expect(said[0]!.rollingWape).toBeGreaterThan(0.15);
    for (let i = 0; i < 4; i++) await step(20);
    expect(said.length).toBe(1);
  });
});
