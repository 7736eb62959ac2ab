/**
 * Series ids are unambiguous (#10 finding 10): catalog rows (A, 1-2) and (A-1, 2) used to
 * become one series `A-1-2`, so a sale of one moved the other's forecast and came out
 * labelled with the wrong store. On the real stack they are two series with their own state
 * and forecasts.
 */
import { describe, expect, it } from 'vitest';
import { seriesIdOf } from '../../src/state/catalog.js';
import { sale } from '../scenarios/scenario-data.js';
import { StackDriver } from '../support/stack-driver.js';

describe('series ids with a dash in the store or item', () => {
  it('keep (A, 1-2) and (A-1, 2) apart in state and in their forecasts', async () => {
    const driver = await StackDriver.create();
    try {
      const one = { seriesId: seriesIdOf('A', '1-2'), store: 'A', item: '1-2', category: 'C', region: 'R' };
      const two = { seriesId: seriesIdOf('A-1', '2'), store: 'A-1', item: '2', category: 'C', region: 'R' };
      expect(one.seriesId).not.toBe(two.seriesId);
      await driver.loadCatalog([one, two]);
      expect(driver.processor!.catalog.size).toBe(2);
      await driver.send([{ topic: 'sales', value: sale(one, 'sid-1', 3) }, { topic: 'sales', value: sale(two, 'sid-2', 40) }]);
      await driver.waitForForecasts((fs) => [one, two].every((s) => fs.some((f) => f.seriesId === s.seriesId)), 30_000);
      const f1 = driver.forecasts().find((f) => f.seriesId === one.seriesId)!;
      const f2 = driver.forecasts().find((f) => f.seriesId === two.seriesId)!;
      expect([f1.store, f1.item]).toEqual(['A', '1-2']);
      expect([f2.store, f2.item]).toEqual(['A-1', '2']);
      const snaps = await driver.processor!.store.readSnapshots([one, two]);
      expect([...snaps[0]!.sales.values()]).toEqual([3]);
      expect([...snaps[1]!.sales.values()]).toEqual([40]);
    } finally {
      await driver.close();
    }
  }, 60_000);
});
