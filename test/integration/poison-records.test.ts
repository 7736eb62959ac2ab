/**
 * Bad input of any size or value is dead-lettered and the partition keeps flowing (issue:
 * resilience, findings 1 and 2), on the real stack: a well-formed 900 KB sale for an item the
 * catalog does not know (its dead-letter copy with the reason quoting the value used to
 * exceed the broker's 1 MB limit and block the partition for good), and a quantity near
 * 1e308 (it used to pass validation and fail HINCRBYFLOAT in Redis, retried forever).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sale, salesHistory, scenarioCatalog } from '../scenarios/scenario-data.js';
import { compareWithCleanRun } from '../support/fault-checker.js';
import { StackDriver } from '../support/stack-driver.js';

describe('poison and oversized records (real stack)', () => {
  let driver: StackDriver;
  const catalog = scenarioCatalog('pz');

  beforeAll(async () => {
    // one input partition: a blocked partition would block every later sale
    driver = await StackDriver.create({ inputPartitions: 1 });
    await driver.loadCatalog(catalog);
    await driver.send(salesHistory(catalog, 3).map((value) => ({ topic: 'sales' as const, value })));
  }, 120_000);

  afterAll(async () => {
    await driver?.close();
  });

  it('a 900 KB sale (500 KB value, 400 KB key) for an unknown item is dead-lettered within the broker limit, and the sales after it are forecast', async () => {
    const s = catalog[0]!;
    await driver.send([{ topic: 'sales', value: { ...sale(s, 'pz-huge', 1), item: 'X'.repeat(400_000), eventId: 'E'.repeat(100_000) } }]);
    await driver.send(catalog.map((c, k) => ({ topic: 'sales' as const, value: sale(c, `pz-after-${k}`, 3 + k) })));
    const dead = await driver.waitForDeadLetters(1, 60_000);
    expect(dead.length).toBeGreaterThanOrEqual(1);
    // at least once: kafkajs may lose its group session on a record this large (~30 s) and the
    // chunk is processed again, so the same letter can arrive twice, never a different one
    expect(new Set(dead.map((d) => `${d.headers['x-source-topic']}:${d.headers['x-source-partition']}:${d.headers['x-source-offset']}`)).size).toBe(1);
    const h = dead[0]!.headers;
    expect(h['x-error-code']).toBe('VALIDATION_FAILED');
    expect(h['x-error-field']).toBe('eventId');
    expect(h['x-error-reason']!.length).toBeLessThanOrEqual(1_024);
    expect(h['x-error-reason']).toMatch(/at most 256 characters/);
    // the original is too large to copy: a reference (source offset) and its size instead
    expect(Number(h['x-original-bytes'])).toBeGreaterThan(500_000);
    expect(h['x-original-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(dead[0]!.value.length).toBe(0);
    const after = new Set(catalog.map((c) => c.seriesId));
    const fs = await driver.waitForForecasts((all) => [...after].every((id) => all.some((f) => f.seriesId === id && f.triggers.some((t) => Number(t.offset) > Number(h['x-source-offset'])))), 60_000);
    const lost = [...after].filter((id) => !fs.some((f) => f.seriesId === id && f.triggers.some((t) => Number(t.offset) > Number(h['x-source-offset']))));
    console.info(JSON.stringify({ scenario: 'poison-900kb-sale', goodSalesAfter: after.size, lost: lost.length, deadLetters: dead.length, distinctDeadLetters: 1, ready: driver.processor!.notReadyReason() === null, processExited: false }));
    expect(lost).toEqual([]);
  }, 150_000);

  it('a quantity near 1e308 is rejected by validation with the range, and the next sale of the series is forecast', async () => {
    const s = catalog[1]!;
    await driver.send([{ topic: 'sales', value: sale(s, 'pz-poison', 1.7e308) }, { topic: 'sales', value: sale(s, 'pz-good', 4) }]);
    // its own letter (the 900 KB one of the test before may arrive twice: at least once)
    const mine = async () => (await driver.waitForDeadLetters(0, 0)).filter((d) => d.headers['x-error-field'] === 'quantity');
    const end = Date.now() + 30_000;
    while ((await mine()).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const dead = await mine();
    expect(dead.length).toBeGreaterThanOrEqual(1);
    const h = dead.at(-1)!.headers;
    expect(h['x-error-code']).toBe('VALIDATION_FAILED');
    expect(h['x-error-field']).toBe('quantity');
    expect(h['x-error-reason']).toMatch(/between -1000000000 and 1000000000/);
    expect(dead.at(-1)!.value.length).toBeGreaterThan(0); // small: the original bytes travel as they were
    const fs = await driver.waitForForecasts((all) => all.some((f) => f.seriesId === s.seriesId && f.triggers.some((t) => Number(t.offset) > Number(h['x-source-offset']))), 30_000);
    expect(fs.some((f) => f.seriesId === s.seriesId && f.triggers.some((t) => Number(t.offset) > Number(h['x-source-offset'])))).toBe(true);
  }, 60_000);

  it('an oversized record on every other input topic (prices, promotions, weather, catalog) is dead-lettered and the good record after it is processed', async () => {
    const s = catalog[2]!;
    const now = Date.now();
    const big = 'Y'.repeat(300_000);
    const processed = new Map<string, number>();
    driver.processor!.events.ingest.on('records-processed', ({ topic, count }) => processed.set(topic, (processed.get(topic) ?? 0) + count));
    const c = driver.config;
    const price = (eventId: string) => ({ eventId, store: s.store, item: s.item, price: 2, regularPrice: null, effectiveDate: new Date(now + 86_400_000).toISOString().slice(0, 10), eventTime: now - 60_000 });
    const promo = (promotionId: string, items: string[]) => ({ promotionId, kind: 'flash', stores: [s.store], items, categories: [], startTime: now + 86_400_000, endTime: now + 2 * 86_400_000, discountDepth: 0.2, markdownAmount: null, eventTime: now - 60_000 });
    const wx = (eventId: string, location: string) => ({ eventId, scope: 'store' as const, location, date: new Date(now + 86_400_000).toISOString().slice(0, 10), kind: 'forecast' as const, temperatureC: 20, precipitationMm: 0, eventTime: now - 60_000 });
    const listing = (item: string) => ({ store: s.store, item, category: 'CA', department: null, region: null, regularPrice: 3, listedDate: null, eventTime: now - 60_000 });
    const deadBefore = (await driver.waitForDeadLetters(0, 0)).length;
    await driver.send([
      { topic: 'prices', value: price(big) },
      { topic: 'promotions', value: promo('pz-promo-big', Array.from({ length: 100_001 }, (_, i) => `I${i}`)) },
      { topic: 'weather', value: wx('pz-wx-big', big) },
      { topic: 'catalog', value: listing(big) },
    ]);
    await driver.send([
      { topic: 'prices', value: price('pz-price-ok') },
      { topic: 'promotions', value: promo('pz-promo-ok', [s.item]) },
      { topic: 'weather', value: wx('pz-wx-ok', s.store) },
      { topic: 'catalog', value: listing('PZ_NEW_1') },
    ]);
    const topics = [c.topicPrices, c.topicPromotions, c.topicWeather, c.topicCatalog];
    const end = Date.now() + 60_000;
    const letters = async () => (await driver.waitForDeadLetters(0, 0)).slice(deadBefore);
    while (Date.now() < end && !(topics.every((t) => (processed.get(t) ?? 0) >= 2) && new Set((await letters()).map((d) => d.headers['x-source-topic'])).size >= 4)) await new Promise((r) => setTimeout(r, 200));
    const dead = await letters();
    for (const t of topics) {
      const mine = dead.filter((d) => d.headers['x-source-topic'] === t);
      expect(mine.length, `dead letter from ${t}`).toBeGreaterThanOrEqual(1);
      expect(mine[0]!.headers['x-error-code']).toBe('VALIDATION_FAILED');
      expect(mine[0]!.headers['x-error-reason']!.length).toBeLessThanOrEqual(1_024);
      // the bad record and the good one after it were both consumed: the partition flows on
      expect(processed.get(t) ?? 0, t).toBeGreaterThanOrEqual(2);
    }
    expect(dead.find((d) => d.headers['x-source-topic'] === c.topicPromotions)!.headers['x-error-reason']).toMatch(/at most 100000 entries/);
    // and the good ones took effect: the listing is in the catalog, the price in state
    expect(driver.processor!.catalog.series(`${s.store}-PZ_NEW_1`)).toBeDefined();
    const [snap] = await driver.processor!.store.readSnapshots([s], { prices: true });
    expect(snap!.prices?.some((p) => p.price === 2)).toBe(true);
    console.info(JSON.stringify({ scenario: 'poison-oversized-every-topic', topics: topics.length, deadLetters: dead.length, goodRecordsProcessedAfter: Object.fromEntries([...processed].map(([t, k]) => [t.replace(/^t[0-9a-f]+-/, ''), k])), ready: driver.processor!.notReadyReason() === null, processExited: false }));
  }, 120_000);

  it('the state equals a clean run of the same input records', async () => {
    await driver.quiesce();
    const clean = await compareWithCleanRun(driver.config, catalog);
    console.info(JSON.stringify({ scenario: 'poison-records-vs-clean-run', keys: clean.keys, differing: clean.differing.length, records: clean.records }));
    expect(clean.differing).toEqual([]);
    expect(clean.keys).toBeGreaterThan(catalog.length);
  }, 240000);
});
