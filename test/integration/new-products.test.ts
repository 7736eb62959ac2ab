/**
 * New products on the real stack (Kafka, registry, Redis, the daily model's ONNX worker): an
 * item announced on the catalog topic is known at once and forecast before its first sale
 * (source cold_start, for its first 28 days on sale), its forecast follows its first days of
 * sales, and a sale for an item nobody listed is dead-lettered with the fix and, once the
 * item is listed, replayed by `dead-letters replay` without loss.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayDeadLetters } from '../../src/tools/dead-letters.js';
import type { CatalogRecord, InputRecord } from '../../src/tools/input-producer.js';
import { dateOf, dayOf, M5Dataset } from '../../src/tools/m5/m5-data.js';
import { loadM5Replay } from '../../src/tools/m5/m5-replay.js';
import type { ForecastView } from '../scenarios/pipeline-driver.js';
import { StackDriver } from '../support/stack-driver.js';

const SAMPLE = fileURLToPath(new URL('../../data/m5-sample', import.meta.url));
type Forecast = ForecastView & { issuedAt: number; modelName: string; coldStart?: boolean };
/** The forecast's branch as the record says it: source (primary | fallback), coldStart for the launch branch. */
const kind = (f: Forecast) => (f.coldStart ? (f.source === 'primary' ? 'cold_start' : `invalid: coldStart with ${f.source}`) : f.source);
const DAY_MS = 86_400_000;
const sumP50 = (f: Forecast) => f.horizons.reduce((s, h) => s + h.p50, 0);

describe('new products: catalog topic, cold start, unlisted sales', () => {
  let driver: StackDriver;
  const data = M5Dataset.load(SAMPLE);
  const LAST = '2014-06-30';
  const replay = loadM5Replay(data, dateOf(dayOf(LAST) - 59), LAST);
  const latest = (id: string) => (driver.forecasts() as Forecast[]).filter((f) => f.seriesId === id).at(-1);
  const listing = (item: string, listedDate: string, over: Partial<CatalogRecord> = {}): InputRecord => ({
    topic: 'catalog',
    value: { store: 'CA_3', item, category: 'FOODS', department: 'FOODS_3', region: null, regularPrice: 2.5, listedDate, eventTime: Date.now() - 60_000, ...over },
  });
  const dailySales = (item: string, from: string, perDay: number[]): InputRecord[] =>
    perDay.map((q, i) => {
      const date = dateOf(dayOf(from) + i);
      return { topic: 'sales', value: { eventId: `np-${item}-${date}`, store: 'CA_3', item, eventTime: Date.parse(`${date}T23:00:00Z`), quantity: q, unitPrice: null } };
    });

  beforeAll(async () => {
    driver = await StackDriver.create({ modelName: 'm5-daily-gbm' });
    await driver.loadCatalog(replay.catalog);
    const records: InputRecord[] = [...replay.records()];
    for (let i = 0; i < records.length; i += 5_000) await driver.send(records.slice(i, i + 5_000));
    // the replay's series are forecast from the data's last day (the processor's clock for items without sales)
    await driver.waitForForecasts((all) => all.filter((f) => f.originDate === LAST).length >= 100, 60_000);
  }, 120_000);

  afterAll(async () => {
    await driver?.close();
  });

  it('an item announced on the catalog topic gets a cold_start forecast for its first 28 days on sale, before its first sale', async () => {
    const item = 'NEW_FOODS_3_901';
    const before = driver.processor!.catalog.size;
    await driver.send([listing(item, '2014-07-05')]);
    const all = await driver.waitForForecasts((fs) => fs.some((f) => f.seriesId === `CA_3-${item}`), 30_000);
    const f = all.find((x) => x.seriesId === `CA_3-${item}`) as Forecast | undefined;
    expect(f, 'no forecast for the listed item').toBeDefined();
    expect(driver.processor!.catalog.size).toBe(before + 1);
    // the region came from the store (the record left it null)
    expect(driver.processor!.catalog.series(`CA_3-${item}`)).toMatchObject({ region: 'CA', department: 'FOODS_3', listedDate: '2014-07-05' });
    expect(kind(f!)).toBe('cold_start');
    expect(f!.modelName).toBe('m5-daily-gbm');
    // forecast from the day before its listing: days 1..28 are its first 28 days on sale
    expect(f!.originDate).toBe('2014-07-04');
    expect(f!.horizons[0]!.bucketDate).toBe('2014-07-05');
    expect(f!.horizons).toHaveLength(28);
    for (const h of f!.horizons) expect(h.p10 <= h.p50 && h.p50 <= h.p90).toBe(true);
    // the ramp of earlier FOODS_3 launches in CA_3 (the model's launch rows), not zero
    expect(sumP50(f!)).toBeGreaterThan(1);
  }, 60_000);

  it('its first week of sales moves the forecast their way, still cold_start, and a busy start forecasts more than a slow one', async () => {
    const busy = 'NEW_FOODS_3_902';
    const slow = 'NEW_FOODS_3_903';
    await driver.send([listing(busy, '2014-07-05'), listing(slow, '2014-07-05')]);
    await driver.waitForForecasts((fs) => [busy, slow].every((i) => fs.some((f) => f.seriesId === `CA_3-${i}`)), 30_000);
    const coldBusy = latest(`CA_3-${busy}`)!;
    const coldSlow = latest(`CA_3-${slow}`)!;
    // same attributes, same price, same day: the same cold-start forecast
    expect(sumP50(coldBusy)).toBeCloseTo(sumP50(coldSlow), 6);
    await driver.send([...dailySales(busy, '2014-07-05', [30, 26, 35, 28, 31, 40, 33]), ...dailySales(slow, '2014-07-05', [0, 0, 1, 0, 0, 0, 0])]);
    await driver.waitForForecasts(() => [busy, slow].every((i) => latest(`CA_3-${i}`)?.originDate === '2014-07-11'), 30_000);
    const b = latest(`CA_3-${busy}`)!;
    const s = latest(`CA_3-${slow}`)!;
    expect(b.originDate).toBe('2014-07-11');
    expect(s.originDate).toBe('2014-07-11');
    // seven days of history: still the model's launch branch
    expect(kind(b)).toBe('cold_start');
    expect(kind(s)).toBe('cold_start');
    // ~32 a day vs ~0: the forecasts follow the sales, well apart, each on its side of the cold start
    expect(sumP50(b)).toBeGreaterThan(sumP50(coldBusy));
    expect(sumP50(s)).toBeLessThan(sumP50(coldSlow));
    expect(sumP50(b)).toBeGreaterThan(5 * Math.max(sumP50(s), 1));
    // the busy item's next 28 days are forecast at a level of its own sales (tens a day), not the ramp
    expect(sumP50(b) / 28).toBeGreaterThan(10);
  }, 60_000);

  it('from 28 days of history on, the series is served by the regular model (source primary)', async () => {
    const item = 'NEW_FOODS_3_904';
    await driver.send([listing(item, '2014-06-01')]);
    await driver.send(dailySales(item, '2014-06-01', Array.from({ length: 27 }, (_, i) => 5 + (i % 3))));
    await driver.waitForForecasts(() => latest(`CA_3-${item}`)?.originDate === '2014-06-27', 30_000);
    expect(kind(latest(`CA_3-${item}`)!)).toBe('cold_start'); // 27 days
    await driver.send(dailySales(item, '2014-06-28', [6]));
    await driver.waitForForecasts(() => latest(`CA_3-${item}`)?.originDate === '2014-06-28', 30_000);
    expect(latest(`CA_3-${item}`)!.originDate).toBe('2014-06-28');
    expect(kind(latest(`CA_3-${item}`)!)).toBe('primary'); // 28 days
  }, 60_000);

  it('a sale for an item nobody listed is dead-lettered with the fix; listed, then replayed, it is applied once', async () => {
    const item = 'LATE_FOODS_3_905';
    const sales = dailySales(item, '2014-06-29', [4, 6]);
    const deadBefore = (await driver.waitForDeadLetters(0, 0)).length;
    await driver.send(sales);
    const dead = (await driver.waitForDeadLetters(deadBefore + 2, 30_000)).slice(deadBefore);
    expect(dead).toHaveLength(2);
    for (const d of dead) {
      expect(d.headers['x-error-code']).toBe('UNKNOWN_SERIES');
      expect(d.headers['x-error-field']).toBe('item');
      expect(d.headers['x-error-reason']).toContain('catalog topic');
      expect(d.headers['x-error-reason']).toContain('dead-letters replay --code UNKNOWN_SERIES');
    }
    // a listing made earlier, announced only now
    await driver.send([listing(item, '2014-06-29')]);
    await driver.waitForForecasts((fs) => fs.some((f) => f.seriesId === `CA_3-${item}`), 30_000);
    expect(kind(latest(`CA_3-${item}`)!)).toBe('cold_start'); // listed, no sales yet
    const r = await replayDeadLetters(driver.kafka, driver.config, new Set(['UNKNOWN_SERIES']));
    expect(r.replayed).toBeGreaterThanOrEqual(2);
    await driver.waitForForecasts(() => latest(`CA_3-${item}`)?.originDate === '2014-06-30' && (latest(`CA_3-${item}`)?.triggers.length ?? 0) > 0, 30_000);
    await driver.quiesce();
    const state = (await driver.dumpState()) as Record<string, Record<string, unknown>>;
    const key = Object.keys(state).find((k) => k.includes(`CA_3-${item}`) && k.endsWith(':sales'));
    expect(key, `no sales state for CA_3-${item}: ${Object.keys(state).filter((k) => k.includes(item)).join(', ')}`).toBeDefined();
    // both days applied exactly once; replaying again changes nothing
    const total = () => Object.entries(state[key!]!).filter(([b]) => /^\d+$/.test(b)).reduce((t, [, v]) => t + Number(v), 0);
    expect(total()).toBe(10);
    await replayDeadLetters(driver.kafka, driver.config, new Set(['UNKNOWN_SERIES']));
    await driver.quiesce();
    const again = (await driver.dumpState()) as Record<string, Record<string, unknown>>;
    expect(again[key!]).toEqual(state[key!]);
  }, 90_000);

  it('a catalog record for a new store without its region is dead-lettered naming the field', async () => {
    const deadBefore = (await driver.waitForDeadLetters(0, 0)).length;
    await driver.send([listing('X_1', '2014-07-01', { store: 'ZZ_9' })]);
    const dead = (await driver.waitForDeadLetters(deadBefore + 1, 30_000)).slice(deadBefore);
    expect(dead[0]?.headers['x-error-code']).toBe('VALIDATION_FAILED');
    expect(dead[0]?.headers['x-error-field']).toBe('region');
    expect(dead[0]?.headers['x-source-topic']).toBe(driver.config.topicCatalog);
    expect(driver.processor!.catalog.series('ZZ_9-X_1')).toBeUndefined();
  }, 60_000);

  it('the replay announces launches on the catalog topic a week before their first price', () => {
    const all = loadM5Replay(data);
    expect(all.launches.length).toBeGreaterThan(10);
    const recs = [...all.records()];
    for (const l of all.launches.slice(0, 10)) {
      const i = recs.findIndex((r) => r.topic === 'catalog' && `${r.value.store}-${r.value.item}` === l.seriesId);
      const p = recs.findIndex((r) => r.topic === 'prices' && `${r.value.store}-${r.value.item}` === l.seriesId);
      const s = recs.findIndex((r) => r.topic === 'sales' && `${r.value.store}-${r.value.item}` === l.seriesId);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(p).toBeGreaterThan(i);
      if (s >= 0) expect(s).toBeGreaterThan(p);
      const cat = recs[i]!.value as CatalogRecord;
      expect(cat.listedDate).toBe(l.listedDate);
      expect((recs[p]!.value as { eventTime: number }).eventTime - cat.eventTime).toBeGreaterThanOrEqual(7 * DAY_MS - 2 * 3_600_000);
    }
  });
});
