import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { loadSchema } from '../../src/core/schemas.js';
import { testConfig, testKafka, testRedis } from '../support/real-stack.js';

// Issue 2 acceptance: the real servers of the local stack, no mocks.
const c = testConfig();
let kafka: Kafka;
let redis: Redis;

beforeAll(async () => {
  kafka = testKafka(c);
  redis = await testRedis(c);
});

afterAll(async () => {
  await redis?.quit();
});

describe('local stack', () => {
  it('Kafka: a message produced with kafkajs is consumed back', async () => {
    const topic = `${c.topicSales}-roundtrip`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k1', value: 'hello kafka' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${c.groupId}-roundtrip` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise<{ key: string; value: string }>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve({ key: String(message.key), value: String(message.value) }) });
    });
    await consumer.disconnect();
    expect(got).toEqual({ key: 'k1', value: 'hello kafka' });
  });

  it('Kafka: topics are not auto-created (the project creates its own)', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    await expect(producer.send({ topic: `${c.topicSales}-never-created`, messages: [{ value: 'x' }], acks: -1, timeout: 3000 })).rejects.toThrow();
    await producer.disconnect();
  });

  it('schema registry: an Avro schema from schemas/ registers and a record round-trips in the wire format', async () => {
    const registry = new SchemaRegistry({ host: c.schemaRegistryUrl });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(loadSchema('sales')) }, { subject: `${c.topicSales}-value` });
    expect(id).toBeGreaterThan(0);
    const value = { eventId: 'e1', store: '1', item: '2', eventTime: 1_700_000_000_000, quantity: 3.5, unitPrice: null };
    const bytes = await registry.encode(id, value);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(id);
    expect(await registry.decode(bytes)).toEqual(value);
  });

  it('Redis: runs a Lua script', async () => {
    const key = `${c.redisPrefix}:{lua}:counter`;
    const script = "redis.call('HINCRBY', KEYS[1], 'n', ARGV[1]); return redis.call('HGET', KEYS[1], 'n')";
    expect(await redis.eval(script, 1, key, 5)).toBe('5');
    expect(await redis.eval(script, 1, key, 2)).toBe('7');
    await redis.del(key);
  });
});
