/**
 * Feature parity for the daily family: test/vectors/features-m5-daily.json was written by
 * the Python reference (training/forecast_training/m5/features.py, checked there by
 * training/tests/test_m5_features.py); the TypeScript builder must give the same float32
 * values, bit for bit, and hash the same spec.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadM5DailyFamily } from '../../../src/inference/features/m5-daily-family.js';
import { M5_DAILY_NAMES, M5_DAILY_SPEC, M5_DAILY_SPEC_HASH } from '../../../src/inference/features/m5-daily-spec.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';

interface Case {
  name: string;
  origin: number;
  snapshot: { seriesId: string; store: string; item: string; dept: string; category: string; region: string; sales: Array<[number, number]>; firstSaleDay: number | null; prices: Array<[number, number]> };
  expected: number[][];
}
const root = new URL('../../../', import.meta.url);
const vectors = JSON.parse(readFileSync(new URL('test/vectors/features-m5-daily.json', root), 'utf8')) as {
  specHash: string; spec: unknown; names: string[]; calendarFile: string; codes: Record<string, Record<string, number>>; cases: Case[];
};
const F = vectors.names.length;
const calendarDir = new URL(vectors.calendarFile.replace(/[^/]+$/, ''), root).pathname;

function snapshotOf(c: Case): SeriesSnapshot {
  const s = c.snapshot;
  return {
    seriesId: s.seriesId, store: s.store, item: s.item, category: s.category, region: s.region, department: s.dept,
    sales: new Map(s.sales), lastSalesBucket: s.sales.at(-1)?.[0] ?? null, firstSaleBucket: s.firstSaleDay,
    prices: s.prices.map(([fromBucket, price]) => ({ fromBucket, price })), promotions: [], weather: new Map(),
  };
}

describe('m5-daily features against the Python reference vectors', () => {
  it('hashes the same spec with the same names', () => {
    expect([...M5_DAILY_NAMES]).toEqual(vectors.names);
    expect(JSON.parse(JSON.stringify(M5_DAILY_SPEC))).toEqual(vectors.spec);
    expect(M5_DAILY_SPEC_HASH).toBe(vectors.specHash);
  });

  it.each(vectors.cases.map((c) => [c.name, c] as const))('%s: 28 rows x 48 floats, bit for bit', async (_name, c) => {
    const family = await loadM5DailyFamily({ calendarFile: vectors.calendarFile.split('/').pop(), codes: vectors.codes }, calendarDir);
    const out = new Float32Array(28 * F + 2).fill(Number.NaN);
    family.build(snapshotOf(c), c.origin, out, 1);
    expect(Number.isNaN(out[0]!) && Number.isNaN(out.at(-1)!)).toBe(true);
    for (let h = 0; h < 28; h++) {
      for (let j = 0; j < F; j++) {
        const got = out[1 + h * F + j]!;
        const want = Math.fround(c.expected[h]![j]!);
        if (got !== want) throw new Error(`${c.name}: h=${h + 1} ${vectors.names[j]} is ${got}, expected ${want}`);
      }
    }
  });

  it('a promotion with a discount depth lowers the price features of the days it covers', async () => {
    const family = await loadM5DailyFamily({ calendarFile: vectors.calendarFile.split('/').pop(), codes: vectors.codes }, calendarDir);
    const c = vectors.cases[0]!;
    const base = new Float32Array(28 * F);
    const promo = new Float32Array(28 * F);
    family.build(snapshotOf(c), c.origin, base, 0);
    const day = 86_400_000;
    // 30% off on days o+8 .. o+14
    family.build({ ...snapshotOf(c), promotions: [{ promotionId: 'p', startMs: (c.origin + 8) * day, endMs: (c.origin + 15) * day, depth: 0.3, markdown: 0 }] }, c.origin, promo, 0);
    const col = vectors.names.indexOf('price_rel_origin');
    for (let h = 1; h <= 28; h++) {
      const inside = h >= 8 && h <= 14;
      const ratio = promo[(h - 1) * F + col]! / base[(h - 1) * F + col]!;
      if (inside) expect(ratio).toBeCloseTo(0.7, 5);
      else expect(ratio).toBe(1);
    }
  });
});
