import { describe, expect, it } from 'vitest';
import { parseSchema, RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { testConfig } from '../support/real-stack.js';

const c = testConfig();

describe('schema evolution through the real registry', () => {
  const codec = RegistrySchemaCodec.fromSettings(c);
  const subject = `${c.topicSales}-value`;
  const v1 = loadSchema('sales') as { fields: object[] };
  const v2 = { ...v1, fields: [...v1.fields, { name: 'channel', type: ['null', 'string'], default: null }] };

  it('with BACKWARD compatibility, a consumer on the old schema reads records written with a new optional field', async () => {
    await codec.setCompatibility(subject, 'BACKWARD');
    await codec.encoder(subject, v1);
    const writeV2 = await codec.encoder(subject, v2);
    const record = { eventId: 'e-v2', store: '1', item: '9', eventTime: 1_700_000_000_000, quantity: 2, unitPrice: 1.25, channel: 'online' };
    const bytes = writeV2(record);
    const readAsV1 = (await codec.decode(bytes, parseSchema(v1))) as Record<string, unknown>;
    expect(readAsV1).toEqual({ eventId: 'e-v2', store: '1', item: '9', eventTime: 1_700_000_000_000, quantity: 2, unitPrice: 1.25 });
    expect('channel' in readAsV1).toBe(false);
    const readAsV2 = (await codec.decode(bytes, parseSchema(v2))) as Record<string, unknown>;
    expect(readAsV2.channel).toBe('online');
  });

  it('the registry refuses a change that breaks BACKWARD compatibility', async () => {
    const broken = { ...v1, fields: [...v1.fields, { name: 'required_new', type: 'string' }] };
    await expect(codec.encoder(subject, broken)).rejects.toThrow(/subject|409|incompatible/i);
  });

  it('forecast-updated v2 adds coldStart: the registry accepts it over v1, a v1 reader reads v2 records and a v2 reader v1 records', async () => {
    const fsubject = `${c.topicForecasts}-compat-${Date.now()}-value`;
    type Field = { name: string; type: unknown };
    const v2f = loadSchema('forecast-updated') as { fields: Field[] };
    expect(v2f.fields.at(-1)).toMatchObject({ name: 'coldStart', type: 'boolean', default: false });
    // v1 as it shipped: the same without coldStart
    const v1f = { ...v2f, fields: v2f.fields.filter((f) => f.name !== 'coldStart') };
    await codec.setCompatibility(fsubject, 'BACKWARD');
    const writeV1 = await codec.encoder(fsubject, v1f);
    const writeV2 = await codec.encoder(fsubject, v2f);
    const base = { seriesId: 'S-1', store: 'S', item: '1', issuedAt: 1, bucketSize: 'day', originDate: '2014-07-04', horizons: [{ horizon: 1, bucketDate: '2014-07-05', p10: 0, p50: 1, p90: 2 }], modelName: 'm', modelVersion: 'v', source: 'primary', featureAgeMs: null, triggers: [] };
    const cold = writeV2({ ...base, coldStart: true });
    expect(((await codec.decode(cold, parseSchema(v2f))) as { coldStart: boolean }).coldStart).toBe(true);
    // a consumer on v1 keeps reading: it sees a primary forecast, without the new field
    const asV1 = (await codec.decode(cold, parseSchema(v1f))) as Record<string, unknown>;
    expect(asV1.source).toBe('primary');
    expect('coldStart' in asV1).toBe(false);
    // a v2 consumer reading an old record gets the default
    expect(((await codec.decode(writeV1(base), parseSchema(v2f))) as { coldStart: boolean }).coldStart).toBe(false);
  });
});
