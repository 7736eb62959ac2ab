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

  it("with policy 'fail', bad input stops processing with the record's position and reason", async () => {
    const d = new HarnessDriver();
    const { RecordProcessor } = await import('../../../src/ingest/record-processor.js');
    const { parseSchema } = await import('../../../src/core/schema-codec.js');
    const { loadSchema } = await import('../../../src/core/schemas.js');
    const failing = new RecordProcessor({
      codec: d.codec,
      readers: { sales: parseSchema(loadSchema('sales')), promotion: parseSchema(loadSchema('promotion')), weather: parseSchema(loadSchema('weather')), price: parseSchema(loadSchema('price')) },
      topics: { sales: 'sales', promotions: 'promotions', weather: 'weather', prices: 'prices' },
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
});
