/** Properties of the TypeScript feature builder beyond the shared vectors. */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { bucketOf } from '../../../src/inference/features/bucket-clock.js';
import { buildFeatures } from '../../../src/inference/features/build-features.js';
import { daysFromCivil, weekdayOfDay, yearOfDay } from '../../../src/inference/features/civil-days.js';
import { FEATURE_COUNT, FEATURE_INDEX, canonicalJson } from '../../../src/inference/features/feature-spec.js';
import { isHolidayBucket } from '../../../src/inference/features/holidays.js';
import { WalmartDataset } from '../../../src/tools/walmart/walmart-data.js';

const fixture = fileURLToPath(new URL('../../fixtures/walmart-mini/', import.meta.url));
const DAY_MS = 86_400_000;

describe('civil-days', () => {
  it('agrees with Date for every day 1990..2040', () => {
    for (let day = daysFromCivil(1990, 1, 1); day < daysFromCivil(2040, 12, 31); day += 1) {
      const d = new Date(day * DAY_MS);
      if (yearOfDay(day) !== d.getUTCFullYear() || weekdayOfDay(day) !== d.getUTCDay()) {
        throw new Error(`day ${day}: ${yearOfDay(day)}/${weekdayOfDay(day)} vs ${d.toISOString()}`);
      }
    }
    expect(daysFromCivil(2012, 4, 27)).toBe(Date.UTC(2012, 3, 27) / DAY_MS);
  });
});

describe('holidays', () => {
  it('flags exactly the weeks Walmart flags IsHoliday', async () => {
    const data = await WalmartDataset.load(fixture);
    let flagged = 0;
    for (let w = data.firstWeek; w <= data.lastWeek; w++) {
      expect(isHolidayBucket(w, 'week'), `week ${w}`).toBe(data.isHolidayWeek(w));
      if (data.isHolidayWeek(w)) flagged++;
    }
    expect(flagged).toBeGreaterThanOrEqual(8);
  });

  it('moves the Super Bowl to the second Sunday of February from 2022', () => {
    const day = (y: number, m: number, d: number) => bucketOf(Date.UTC(y, m - 1, d), 'day');
    expect(isHolidayBucket(day(2022, 2, 13), 'day')).toBe(true);
    expect(isHolidayBucket(day(2022, 2, 6), 'day')).toBe(false);
    expect(isHolidayBucket(day(2021, 2, 7), 'day')).toBe(true);
  });
});

describe('buildFeatures', () => {
  it('ignores sales after the origin', async () => {
    const data = await WalmartDataset.load(fixture);
    const origin = bucketOf(Date.UTC(2011, 11, 2), 'week');
    const id = data.seriesIds[0]!;
    const snap = data.snapshotAt(id, origin);
    const a = new Float32Array(FEATURE_COUNT);
    const b = new Float32Array(FEATURE_COUNT);
    buildFeatures(snap, origin, 'week', a, 0);
    const future = new Map(snap.sales);
    for (let k = 1; k <= 10; k++) future.set(origin + k, 1e9);
    buildFeatures({ ...snap, sales: future }, origin, 'week', b, 0);
    expect([...b]).toEqual([...a]);
    expect(a[FEATURE_INDEX.logScale]).toBeGreaterThan(0);
  });

  it('refuses a row that does not fit the buffer', () => {
    const snap = { seriesId: 'x', store: '1', item: '1', category: '1', region: 'all', sales: new Map(), lastSalesBucket: null, promotions: [], weather: new Map() };
    expect(() => buildFeatures(snap, 2000, 'week', new Float32Array(FEATURE_COUNT * 2), FEATURE_COUNT + 1)).toThrow(RangeError);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and adds no whitespace', () => {
    expect(canonicalJson({ b: [1, 'x'], a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":[1,"x"]}');
  });
});
