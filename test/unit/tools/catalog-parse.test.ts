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

  it('names the missing column and the row', () => {
    expect(() => parseCatalog('store,item,region\nS,I,R\n', 'c.csv')).toThrow(/c.csv: row 1: 'category' is missing/);
  });
});
