import type { Consumer, Kafka } from 'kafkajs';
import { parseSchema, type RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import type { Config } from '../../src/ops/config.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { testRedis } from './real-stack.js';

type Trigger = { topic: string; partition: number; offset: string };

/** `stores` x `items` series `<tag><s>-I<i>`, one category and region. */
export function smallCatalog(tag: string, stores: number, items: number): SeriesInfo[] {
  const out: SeriesInfo[] = [];
  for (let s = 1; s <= stores; s++) for (let i = 1; i <= items; i++) out.push({ seriesId: `${tag}${s}-I${i}`, store: `${tag}${s}`, item: `I${i}`, category: 'CA', region: 'R1' });
  return out;
}

/** Topics and schemas for `c`, and the catalog in its Redis (weekly state, 60 buckets). */
export async function setupWithCatalog(kafka: Kafka, codec: RegistrySchemaCodec, c: Config, catalog: SeriesInfo[]) {
  await setupTopicsWith(kafka, codec, c);
  const redis = await testRedis(c);
  const store = new RedisStateStore({ client: redis as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * 86_400_000 });
  await store.putCatalog(catalog);
  return { redis, store };
}

/**
 * Reads forecast-updated from the start (read_committed unless `readUncommitted`) and counts,
 * per sales record (`partition:offset`), the forecasts that name it among their triggers.
 */
export async function countSalesTriggers(kafka: Kafka, codec: RegistrySchemaCodec, c: Config, name: string, readUncommitted = false): Promise<{ seen: Map<string, number>; consumer: Consumer }> {
  const reader = parseSchema(loadSchema('forecast-updated'));
  const seen = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `${c.groupId}-${name}`, readUncommitted });
  await consumer.connect();
  await consumer.subscribe({ topic: c.topicForecasts, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const f = (await codec.decode(message.value!, reader)) as { triggers: Trigger[] };
      for (const t of f.triggers) if (t.topic === c.topicSales) seen.set(`${t.partition}:${t.offset}`, (seen.get(`${t.partition}:${t.offset}`) ?? 0) + 1);
    },
  });
  return { seen, consumer };
}
