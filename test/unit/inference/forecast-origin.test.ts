import { describe, expect, it } from 'vitest';
import { bucketEndMs, bucketOf } from '../../../src/inference/features/bucket-clock.js';
import { forecastOrigin } from '../../../src/inference/forecaster.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';

const week = bucketOf(Date.UTC(2024, 4, 15), 'week');
const snap = (lastSalesEventMs: number | null, last: number | null = week): SeriesSnapshot => ({
  seriesId: 's',
  store: '1',
  item: '1',
  category: 'c',
  region: 'r',
  sales: new Map(),
  lastSalesBucket: last,
  lastSalesEventMs,
  promotions: [],
  weather: new Map(),
});

describe('forecastOrigin', () => {
  const friday = bucketEndMs(week, 'week') - 12 * 3_600_000;
  it('starts from the newest week once it has a sale on its last day (Friday)', () => {
    expect(forecastOrigin(snap(friday), 'week', 0)).toBe(week);
  });
  it('starts from the week before while the newest week is still filling up', () => {
    expect(forecastOrigin(snap(friday - 2 * 86_400_000), 'week', 0)).toBe(week - 1);
  });
  it('uses the given origin for a series without sales', () => {
    expect(forecastOrigin(snap(null, null), 'week', 77)).toBe(77);
  });
});

describe('bucketLengthMs', () => {
  it('matches the distance between consecutive bucket starts', async () => {
    const { bucketLengthMs, bucketStartMs } = await import('../../../src/inference/features/bucket-clock.js');
    for (const size of ['day', 'week'] as const) expect(bucketLengthMs(size)).toBe(bucketStartMs(2801, size) - bucketStartMs(2800, size));
  });
});
