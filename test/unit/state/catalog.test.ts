import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../src/state/catalog.js';

describe('Catalog.upsert', () => {
  const a = { seriesId: 'S1-A', store: 'S1', item: 'A', category: 'food', region: 'north' };
  it('adds a new entry, reports an identical one as the same, and re-indexes a changed one', () => {
    const c = new Catalog();
    expect(c.upsert(a)).toBe('added');
    expect(c.upsert({ ...a })).toBe('same');
    expect(c.seriesOfStoreCategory('S1', 'food').map((s) => s.seriesId)).toEqual(['S1-A']);
    expect(c.upsert({ ...a, category: 'drinks', department: 'drinks_1', listedDate: '2024-01-01' })).toBe('changed');
    expect(c.size).toBe(1);
    expect(c.series('S1-A')).toMatchObject({ category: 'drinks', department: 'drinks_1', listedDate: '2024-01-01' });
    expect(c.seriesOfStoreCategory('S1', 'food')).toEqual([]);
    expect(c.seriesOfStoreCategory('S1', 'drinks').map((s) => s.seriesId)).toEqual(['S1-A']);
    expect(c.seriesOfStore('S1')).toHaveLength(1);
    expect(c.regionOfStore('S1')).toBe('north');
    expect(c.regionOfStore('S2')).toBeUndefined();
  });
});

describe('seriesIdOf', () => {
  it("keeps ids without '-' or '%' as they were, and tells apart ids that only differ in where the '-' is", async () => {
    const { seriesIdOf } = await import('../../../src/state/catalog.js');
    expect(seriesIdOf('CA_3', 'FOODS_3_090')).toBe('CA_3-FOODS_3_090');
    expect(seriesIdOf('1', '10')).toBe('1-10');
    expect(seriesIdOf('A', '1-2')).toBe('A-1%2D2');
    expect(seriesIdOf('A-1', '2')).toBe('A%2D1-2');
    expect(seriesIdOf('A', '1-2')).not.toBe(seriesIdOf('A-1', '2'));
    expect(seriesIdOf('A%2D1', '2')).not.toBe(seriesIdOf('A-1', '2'));
  });
});
