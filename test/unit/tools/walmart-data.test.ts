/** Walmart CSV parsing and the CSV -> SeriesSnapshot mapping. */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { bucketLabel, bucketStartMs } from '../../../src/inference/features/bucket-clock.js';
import { WalmartDataset, parseFeaturesCsv, parseStoresCsv, parseTrainCsv } from '../../../src/tools/walmart/walmart-data.js';

const fixture = fileURLToPath(new URL('../../fixtures/walmart-mini/', import.meta.url));

describe('parsers', () => {
  it('reads train rows and puts each Friday in the week bucket it labels', () => {
    const rows = parseTrainCsv('Store,Dept,Date,Weekly_Sales,IsHoliday\n1,1,2010-02-05,24924.5,FALSE\n1,1,2010-02-12,-46.5,TRUE\n');
    expect(rows.map((r) => [r.store, r.dept, r.weeklySales, r.isHoliday])).toEqual([['1', '1', 24924.5, false], ['1', '1', -46.5, true]]);
    expect(rows.map((r) => bucketLabel(r.week, 'week'))).toEqual(['2010-02-05', '2010-02-12']);
  });

  it('sums MarkDown1..5 with NA as 0 and keeps a missing temperature as null', () => {
    const head = 'Store,Date,Temperature,Fuel_Price,MarkDown1,MarkDown2,MarkDown3,MarkDown4,MarkDown5,CPI,Unemployment,IsHoliday';
    const rows = parseFeaturesCsv(`${head}\n1,2011-11-11,59.11,3.297,10382.9,6115.67,215.07,2406.62,6551.42,217.99,7.866,FALSE\n1,2010-02-05,NA,2.572,NA,NA,NA,NA,NA,211.09,8.106,FALSE\n`);
    expect(rows[0]!.markdown).toBeCloseTo(10382.9 + 6115.67 + 215.07 + 2406.62 + 6551.42, 6);
    expect(rows[1]!.markdown).toBe(0);
    expect(rows[1]!.temperatureF).toBeNull();
  });

  it('reads stores.csv with CR line endings', () => {
    expect(parseStoresCsv('Store,Type,Size\r1,A,151315\r35,B,103681\r')).toEqual([
      { store: '1', type: 'A', size: 151315 },
      { store: '35', type: 'B', size: 103681 },
    ]);
  });

  it('names the file and column that is missing', () => {
    expect(() => parseTrainCsv('Store,Dept,Date\n1,1,2010-02-05\n')).toThrow(/train.csv: missing column 'Weekly_Sales'/);
  });
});

describe('WalmartDataset.snapshotAt', async () => {
  const data = await WalmartDataset.load(fixture);
  const origin = data.firstWeek + 80;

  it('holds only sales up to the origin, with the region from stores.csv', () => {
    const snap = data.snapshotAt('35-7', origin);
    expect(Math.max(...snap.sales.keys())).toBeLessThanOrEqual(origin);
    expect(snap.lastSalesBucket).toBe(origin);
    expect(snap.sales.get(origin)).toBe(data.actual('35-7', origin));
    expect(data.actual('35-7', origin + 1)).toBeDefined();
    expect(snap.sales.has(origin + 1)).toBe(false);
    expect([snap.store, snap.item, snap.category, snap.region]).toEqual(['35', '7', '7', 'B']);
  });

  it('maps markdowns to week-long promotions and °F to °C', () => {
    const snap = data.snapshotAt('1-1', origin);
    const next = snap.promotions.find((p) => p.startMs === bucketStartMs(origin + 1, 'week'));
    expect(next).toBeDefined();
    expect(next!.endMs - next!.startMs).toBe(7 * 86_400_000);
    expect(next!.depth).toBe(0);
    const t = snap.weather.get(origin + 1);
    expect(t?.precipitationMm).toBeNull();
    expect(t?.temperatureC).toBeGreaterThan(-40);
    expect(t?.temperatureC).toBeLessThan(45);
  });

  it('orders series by store, then dept, numerically', () => {
    expect(data.seriesIds.slice(0, 3)).toEqual(['1-1', '1-7', '1-27']);
  });
});
