import { describe, expect, it } from 'vitest';
import { parseSchema, RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { testConfig } from '../support/real-stack.js';

const c = testConfig();

describe('schema evolution through the real registry', () => {
  const codec = new RegistrySchemaCodec(c.schemaRegistryUrl);
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
});
