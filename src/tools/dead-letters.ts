import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { nextGroupJoin } from '../core/group-join.js';
import type { Config } from '../ops/config.js';

export interface Letter {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface DeadLetterRow {
  offset: string;
  partition: number;
  code: string;
  field: string;
  reason: string;
  source: string;
  bytes: number;
}

/**
 * Reads the whole dead-letter topic with a throwaway consumer group (commits nothing that
 * matters), in partition order, newest last.
 */
export async function readDeadLetters(kafka: Kafka, config: Config): Promise<Letter[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(config.topicDeadLetter);
  await admin.disconnect();
  const total = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const letters: Letter[] = [];
  if (total === 0) return letters;
  const consumer = kafka.consumer({ groupId: `forecast-stream-dlq-reader-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic: config.topicDeadLetter, fromBeginning: true });
  const joined = nextGroupJoin(consumer);
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
        letters.push({ partition, offset: message.offset, key: message.key, value: message.value, headers });
        if (letters.length >= total) resolve();
      },
    });
  });
  await joined;
  const timedOut = await Promise.race([done.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 15_000))]);
  await consumer.disconnect();
  if (timedOut) process.stderr.write(`forecast-stream: read ${letters.length} of ${total} dead letters in 15 s; the rest are not shown\n`);
  return letters;
}

export interface ReplayResult {
  matched: number;
  replayed: number;
  /** Matched but not replayable: original not copied (too large) or not from an input topic. */
  skipped: number;
}

/**
 * Sends the dead letters with these codes back to their source topics, key and bytes as they
 * came, with an `x-replayed-from` header. The input topics' updates are idempotent (eventIds),
 * so replaying twice changes nothing.
 */
export async function replayDeadLetters(kafka: Kafka, config: Config, codes: ReadonlySet<string>, dryRun = false): Promise<ReplayResult> {
  const letters = (await readDeadLetters(kafka, config)).filter((l) => codes.has(l.headers['x-error-code'] ?? ''));
  const inputs = new Set([config.topicSales, config.topicPrices, config.topicPromotions, config.topicWeather, config.topicCatalog]);
  const replayable = letters.filter((l) => l.headers['x-original-bytes'] === undefined && inputs.has(l.headers['x-source-topic'] ?? '') && l.value && l.value.length > 0);
  if (!dryRun && replayable.length > 0) {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const byTopic = new Map<string, Array<{ key: Buffer | null; value: Buffer; headers: Record<string, string> }>>();
      for (const l of replayable) {
        const topic = l.headers['x-source-topic']!;
        const list = byTopic.get(topic) ?? [];
        list.push({ key: l.key, value: l.value!, headers: { 'x-replayed-from': `${config.topicDeadLetter}[${l.partition}]@${l.offset}` } });
        byTopic.set(topic, list);
      }
      for (const [topic, messages] of byTopic) {
        for (let i = 0; i < messages.length; i += 1_000) await producer.send({ topic, messages: messages.slice(i, i + 1_000), acks: -1 });
      }
    } finally {
      await producer.disconnect();
    }
  }
  return { matched: letters.length, replayed: dryRun ? 0 : replayable.length, skipped: letters.length - replayable.length };
}
