import { describe, expect, it } from 'vitest';
import { ForecastError } from '../../../src/core/errors.js';
import { HarnessDriver } from '../../support/harness-driver.js';
import { sale, scenarioCatalog } from '../../scenarios/scenario-data.js';

describe('RecordProcessor', () => {
  it('retries (throws) instead of dead-lettering when the registry is unreachable', async () => {
    const d = new HarnessDriver();
    const catalog = scenarioCatalog('r');
    await d.loadCatalog(catalog);
    const enc = await d.codec.encoder('sales-value', (await import('../../../src/core/schemas.js')).loadSchema('sales'));
    const value = enc(sale(catalog[0]!, 'r-1', 3));
    d.codec.decode = async () => {
      throw new ForecastError('DECODE_FAILED', 'schema registry unreachable', { retriable: true });
    };
    await expect(d.processor.process([{ topic: 'sales', partition: 0, offset: '0', key: null, value }])).rejects.toThrow(/unreachable/);
    expect(d.sent.get('dead-letter') ?? []).toHaveLength(0);
    await d.close();
  });

  it('a chunk retried after a dependency failure dead-letters and counts its bad record once', async () => {
    const d = new HarnessDriver();
    const catalog = scenarioCatalog('q');
    await d.loadCatalog(catalog);
    const enc = await d.codec.encoder('sales-value', (await import('../../../src/core/schemas.js')).loadSchema('sales'));
    const records = [
      { topic: 'sales', partition: 0, offset: '5', key: null, value: Buffer.from('junk') },
      { topic: 'sales', partition: 0, offset: '6', key: null, value: enc(sale(catalog[0]!, 'q-1', 3)) },
    ];
    let rejected = 0;
    d.events.ingest.on('record-rejected', () => rejected++);
    const real = d.store.applySales.bind(d.store);
    let calls = 0;
    d.store.applySales = async (u) => {
      if (calls++ === 0) throw new ForecastError('STATE_UNAVAILABLE', 'Redis down', { retriable: true });
      return real(u);
    };
    await expect(d.processor.process(records)).rejects.toThrow(/Redis down/);
    const r = await d.processor.process(records);
    expect(r.accepted).toBe(1);
    expect(rejected).toBe(1);
    expect(d.sent.get('dead-letter') ?? []).toHaveLength(1);
    await d.close();
  });

  it("with policy 'fail', bad input stops processing with the record's position and reason", async () => {
    const d = new HarnessDriver();
    const { RecordProcessor, inputReaders } = await import('../../../src/ingest/record-processor.js');
    const failing = new RecordProcessor({
      codec: d.codec,
      readers: inputReaders(),
      topics: { sales: 'sales', promotions: 'promotions', weather: 'weather', prices: 'prices', catalog: 'catalog' },
      catalog: d.catalog,
      store: d.store,
      deadLetters: { send: async () => undefined },
      policy: 'fail',
      bucketSize: 'week',
      maxFutureMs: 86_400_000,
      clock: d.clock,
      events: d.events.ingest,
    });
    await expect(failing.process([{ topic: 'sales', partition: 3, offset: '42', key: null, value: Buffer.from('junk') }])).rejects.toThrow(/sales\[3\]@42 with policy 'fail'/);
    await d.close();
  });

  it('stores every input but re-forecasts only for the kinds the model learned an effect from', async () => {
    const d = new HarnessDriver();
    const catalog = scenarioCatalog('k');
    await d.loadCatalog(catalog);
    const { RecordProcessor, inputReaders } = await import('../../../src/ingest/record-processor.js');
    const { loadSchema } = await import('../../../src/core/schemas.js');
    const { weather } = await import('../../scenarios/scenario-data.js');
    const make = (reforecastOn?: { prices: boolean; promotions: boolean; weather: boolean }) =>
      new RecordProcessor({
        codec: d.codec,
        readers: inputReaders(),
        topics: { sales: 'sales', promotions: 'promotions', weather: 'weather', prices: 'prices', catalog: 'catalog' },
        catalog: d.catalog, store: d.store, deadLetters: { send: async () => undefined }, policy: 'dlq', bucketSize: 'day',
        maxFutureMs: 86_400_000, clock: d.clock, events: d.events.ingest, ...(reforecastOn ? { reforecastOn } : {}),
      });
    const s = catalog[0]!;
    const wx = (await d.codec.encoder('weather-value', loadSchema('weather')))(weather(s.store, 'k-wx', d.clock.now()));
    const pr = (await d.codec.encoder('prices-value', loadSchema('price')))({
      eventId: 'k-p', store: s.store, item: s.item, price: 2, regularPrice: null, effectiveDate: new Date(d.clock.now() + 86_400_000).toISOString().slice(0, 10), eventTime: d.clock.now(),
    });
    const records = [
      { topic: 'weather', partition: 0, offset: '0', key: null, value: wx },
      { topic: 'prices', partition: 0, offset: '0', key: null, value: pr },
    ];
    const all = await make().process(records);
    expect(all.affected.has(s.seriesId)).toBe(true);
    expect(all.affected.size).toBe(catalog.filter((c) => c.store === s.store).length);
    const noWeather = await make({ prices: true, promotions: true, weather: false }).process(records);
    expect([...noWeather.affected.keys()]).toEqual([s.seriesId]); // the price change only
    expect(noWeather.accepted).toBe(2);
    const [snap] = await d.store.readSnapshots([s]);
    expect(snap!.prices).toEqual([{ fromBucket: Math.floor((d.clock.now() + 86_400_000) / 86_400_000), price: 2 }]);
    expect(snap!.weather.size).toBeGreaterThan(0);
    await d.close();
  });
});
