import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../../src/cli/commands/catalog.js';

describe('catalog load parsing', () => {
  it('reads CSV with an optional department column (dept or department) and JSON alike', () => {
    const csv = parseCatalog('store,item,category,region,dept\nCA_1,FOODS_1_002,FOODS,CA,FOODS_1\nS2,I9,C,R,\n', 'c.csv');
    expect(csv).toEqual([
      { seriesId: 'CA_1-FOODS_1_002', store: 'CA_1', item: 'FOODS_1_002', category: 'FOODS', region: 'CA', department: 'FOODS_1' },
      { seriesId: 'S2-I9', store: 'S2', item: 'I9', category: 'C', region: 'R' },
    ]);
    const json = parseCatalog(JSON.stringify([{ store: 'S', item: 'I', category: 'C', region: 'R', department: 'D' }]), 'c.json');
    expect(json[0]!.department).toBe('D');
  });

  it('reads the regular price and the listing date, and writes the catalog topic record the processor reads', async () => {
    const rows = parseCatalog('store,item,category,region,department,regularPrice,listedDate\nCA_3,NEW_1,FOODS,CA,FOODS_3,2.5,2014-07-05\n', 'c.csv');
    expect(rows[0]).toMatchObject({ seriesId: 'CA_3-NEW_1', regularPrice: 2.5, listedDate: '2014-07-05' });
    const { catalogRecord } = await import('../../../src/cli/commands/catalog.js');
    expect(catalogRecord(rows[0]!, 1)).toEqual({ store: 'CA_3', item: 'NEW_1', category: 'FOODS', department: 'FOODS_3', region: 'CA', regularPrice: 2.5, listedDate: '2014-07-05', eventTime: 1 });
    expect(() => parseCatalog('store,item,category,region,regularPrice\nS,I,C,R,free\n', 'c.csv')).toThrow(/row 1: 'regularPrice' must be a price > 0/);
    expect(() => parseCatalog('store,item,category,region,listedDate\nS,I,C,R,5 July\n', 'c.csv')).toThrow(/row 1: 'listedDate' must be YYYY-MM-DD/);
  });

  it('names the missing column and the row', () => {
    expect(() => parseCatalog('store,item,region\nS,I,R\n', 'c.csv')).toThrow(/c.csv: row 1: 'category' is missing/);
  });
});
