import { describe, expect, it } from 'vitest';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { loadSchema } from '../../src/core/schemas.js';
import type { InputRecord } from '../../src/tools/input-producer.js';
import type { ForecastView, PipelineDriver } from './pipeline-driver.js';
import { promotion, sale, salesHistory, scenarioCatalog, weather } from './scenario-data.js';

function expectSaneQuantiles(f: ForecastView): void {
  expect(f.horizons.length).toBeGreaterThan(0);
  for (const h of f.horizons) {
    for (const v of [h.p10, h.p50, h.p90]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(h.p10).toBeLessThanOrEqual(h.p50 + 1e-6);
    expect(h.p50).toBeLessThanOrEqual(h.p90 + 1e-6);
  }
}

/**
 * The pipeline's acceptance scenarios, written once against PipelineDriver and run by
 * the in-memory harness (unit) and by the real stack (integration).
 */
export function definePipelineScenarios(name: string, makeDriver: () => Promise<PipelineDriver>, timeoutMs = 60_000): void {
  const setup = async (tag: string) => {
    const driver = await makeDriver();
    const catalog = scenarioCatalog(tag);
    await driver.loadCatalog(catalog);
    return { driver, catalog };
  };
  const forecastsFor = (all: ForecastView[], ids: Set<string>) => all.filter((f) => ids.has(f.seriesId));

  describe(`pipeline scenarios (${name})`, () => {
    it('a sales event produces a forecast for its series with sane quantiles', async () => {
      const { driver, catalog } = await setup('a');
      try {
        const s = catalog[0]!;
        await driver.send(salesHistory([s]).map((value) => ({ topic: 'sales', value }) as InputRecord));
        await driver.send([{ topic: 'sales', value: sale(s, 'a-sale-1', 17) }]);
        const all = await driver.waitForForecasts((fs) => fs.some((f) => f.seriesId === s.seriesId && f.triggers.length > 0), timeoutMs);
        const mine = all.filter((f) => f.seriesId === s.seriesId);
        expect(mine.length).toBeGreaterThan(0);
        for (const f of mine) expectSaneQuantiles(f);
        expect(mine.at(-1)!.horizons.map((h) => h.horizon)).toEqual([1, 2, 3, 4]);
        expect(mine.at(-1)!.store).toBe(s.store);
      } finally {
        await driver.close();
      }
    }, timeoutMs * 2);

    it('a promotion covering N series produces exactly N forecasts, one per series', async () => {
      const { driver, catalog } = await setup('b');
      try {
        const stores = [catalog[0]!.store, catalog[4]!.store];
        const covered = new Set(catalog.filter((s: SeriesInfo) => stores.includes(s.store) && s.category === 'CA').map((s) => s.seriesId));
        expect(covered.size).toBe(4);
        await driver.send([{ topic: 'promotions', value: promotion('b-promo-1', stores, ['CA']) }]);
        await driver.waitForForecasts((fs) => forecastsFor(fs, covered).length >= covered.size, timeoutMs);
        await driver.quiesce();
        const all = driver.forecasts();
        expect(all.length).toBe(covered.size);
        expect(new Set(all.map((f) => f.seriesId))).toEqual(covered);
        for (const f of all) expectSaneQuantiles(f);
      } finally {
        await driver.close();
      }
    }, timeoutMs * 2);

    it('a weather report re-forecasts every series of its store when the model reads weather, and none when it learned no weather effect', async () => {
      const { driver, catalog } = await setup('c');
      try {
        const store = catalog[8]!.store;
        const ofStore = new Set(catalog.filter((s) => s.store === store).map((s) => s.seriesId));
        await driver.send([{ topic: 'weather', value: weather(store, 'c-wx-1') }]);
        if (driver.modelInputs().includes('weather')) {
          const all = await driver.waitForForecasts((fs) => forecastsFor(fs, ofStore).length >= ofStore.size, timeoutMs);
          expect(new Set(all.map((f) => f.seriesId))).toEqual(ofStore);
        } else {
          // stored (a later model may read it), but no forecast pretends to react to it
          await driver.waitForState((dump) => JSON.stringify(dump).includes('temperatureC'), timeoutMs);
          await driver.quiesce();
          expect(forecastsFor(driver.forecasts(), ofStore)).toEqual([]);
        }
      } finally {
        await driver.close();
      }
    }, timeoutMs * 2);

    it('bad records go to the dead-letter topic with a reason and the next good record is processed', async () => {
      const { driver, catalog } = await setup('d');
      try {
        const s = catalog[1]!;
        const salesSchema = loadSchema('sales');
        const garbage = Buffer.concat([Buffer.from([1, 0xff]), Buffer.from('not avro at all')]);
        await driver.sendRaw('sales', garbage);
        await driver.sendRaw('sales', Buffer.from([0, 0x7f, 0xff, 0xff, 0x01, 1, 2, 3]));
        await driver.sendRaw('sales', await driver.encodeWith('sales', salesSchema, { ...sale(s, 'd-nan', 1), quantity: Number.NaN }));
        await driver.sendRaw('sales', await driver.encodeWith('sales', salesSchema, { ...sale(s, 'd-unknown', 1), store: 'NO-SUCH-STORE' }));
        await driver.send([{ topic: 'sales', value: sale(s, 'd-good', 5) }]);
        const dead = await driver.waitForDeadLetters(4, timeoutMs);
        expect(dead.length).toBe(4);
        const reasons = dead.map((d) => `${d.headers['x-error-code']}: ${d.headers['x-error-reason']}`);
        expect(reasons[0]).toMatch(/DECODE_FAILED: .*wire format/);
        expect(reasons[1]).toMatch(/DECODE_FAILED: .*unknown schema id/);
        expect(reasons[2]).toMatch(/VALIDATION_FAILED: quantity: must be a finite number/);
        expect(reasons[3]).toMatch(/UNKNOWN_STORE: store: 'NO-SUCH-STORE'/);
        expect(dead[0]!.value.equals(garbage)).toBe(true);
        const all = await driver.waitForForecasts((fs) => fs.some((f) => f.seriesId === s.seriesId), timeoutMs);
        expect(all.filter((f) => f.seriesId === s.seriesId).length).toBeGreaterThan(0);
      } finally {
        await driver.close();
      }
    }, timeoutMs * 2);

    it('replaying the same input twice leaves the state identical to replaying it once', async () => {
      const { driver, catalog } = await setup('e');
      try {
        const input: InputRecord[] = [
          ...salesHistory(catalog, 6).map((value) => ({ topic: 'sales', value }) as InputRecord),
          { topic: 'promotions', value: promotion('e-promo', [catalog[0]!.store], ['CB']) },
          { topic: 'weather', value: weather(catalog[0]!.store, 'e-wx') },
          { topic: 'sales', value: sale(catalog[2]!, 'e-late', 3) },
        ];
        await driver.send(input);
        await driver.quiesce();
        const once = await driver.dumpState();
        await driver.send(input);
        await driver.quiesce();
        const twice = await driver.dumpState();
        expect(twice).toEqual(once);
        expect(JSON.stringify(once)).toContain('e-promo');
      } finally {
        await driver.close();
      }
    }, timeoutMs * 2);
  });
}
