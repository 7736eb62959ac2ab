import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { parseSchema, RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { bucketOf } from '../../src/inference/features/bucket-clock.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { InputProducer, inputTopics, type InputRecord } from '../../src/tools/input-producer.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { startChildProcessor } from '../support/child-processor.js';
import { testConfig, testKafka, testRedis } from '../support/real-stack.js';

const DAY_MS = 86_400_000;
// a short session timeout: the killed member's partitions move to the restarted one sooner
const c = testConfig({ batchMaxDelayMs: 20, kafkaSessionTimeoutMs: 8_000 });
const children: ChildProcess[] = [];

afterAll(() => {
  for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
});

describe('crash recovery', () => {
  it('SIGKILL mid-stream, restart: every input is in state once, every series got a forecast after its last input', async () => {
    const kafka = testKafka(c);
    const codec = RegistrySchemaCodec.fromSettings(c);
    await setupTopicsWith(kafka, codec, c);

    const catalog: SeriesInfo[] = [];
    for (let s = 1; s <= 10; s++) for (let i = 1; i <= 20; i++) catalog.push({ seriesId: `K${s}-I${i}`, store: `K${s}`, item: `I${i}`, category: `C${i % 3}`, region: 'R' });
    const redis = await testRedis(c);
    const store = new RedisStateStore({ client: redis as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * DAY_MS });
    await store.putCatalog(catalog);

    // forecasts seen by a downstream consumer, with the time they arrived
    const reader = parseSchema(loadSchema('forecast-updated'));
    const lastForecastAt = new Map<string, number>();
    const watcher = kafka.consumer({ groupId: `${c.groupId}-watch` });
    await watcher.connect();
    await watcher.subscribe({ topic: c.topicForecasts, fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ message }) => {
        const f = (await codec.decode(message.value!, reader)) as { seriesId: string; issuedAt: number };
        lastForecastAt.set(f.seriesId, Math.max(lastForecastAt.get(f.seriesId) ?? 0, f.issuedAt));
      },
    });

    const first = await startChildProcessor(c);
    children.push(first.child);

    const producer = kafka.producer();
    await producer.connect();
    const input = new InputProducer(producer, codec, inputTopics(c));
    const now = Date.now();
    const expected = new Map<string, number>(); // seriesId|bucket -> quantity
    const lastSentAt = new Map<string, number>();
    let killed = false;
    const total = 4_000;
    for (let n = 0; n < total; n += 100) {
      const chunk: InputRecord[] = [];
      for (let k = n; k < n + 100; k++) {
        const s = catalog[k % catalog.length]!;
        const eventTime = now - (1 + (k % 30)) * DAY_MS;
        const qty = 1 + (k % 7);
        chunk.push({ topic: 'sales', value: { eventId: `kill-${k}`, store: s.store, item: s.item, eventTime, quantity: qty, unitPrice: null } });
        const key = `${s.seriesId}|${bucketOf(eventTime, 'week')}`;
        expected.set(key, (expected.get(key) ?? 0) + qty);
      }
      await input.send(chunk);
      const sentAt = Date.now();
      for (const r of chunk) if (r.topic === 'sales') lastSentAt.set(`${r.value.store}-${r.value.item}`, sentAt);
      if (!killed && n >= total / 2) {
        first.child.kill('SIGKILL');
        await new Promise((r) => first.child.once('exit', r));
        killed = true;
      }
    }
    await producer.disconnect();
    expect(killed).toBe(true);

    const second = await startChildProcessor(c);
    children.push(second.child);

    // wait until every series has a forecast issued after its last input was acknowledged
    const deadline = Date.now() + 90_000;
    const behind = () => catalog.filter((s) => (lastForecastAt.get(s.seriesId) ?? 0) < lastSentAt.get(s.seriesId)!);
    while (behind().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(behind().map((s) => s.seriesId)).toEqual([]);

    // every input event is reflected in state exactly once (replayed events were not double counted)
    const snaps = await store.readSnapshots(catalog);
    const actual = new Map<string, number>();
    for (const snap of snaps) for (const [b, q] of snap.sales) actual.set(`${snap.seriesId}|${b}`, q);
    expect(Object.fromEntries([...actual].sort())).toEqual(Object.fromEntries([...expected].sort()));

    second.child.kill('SIGTERM');
    const code = await new Promise((r) => second.child.once('exit', r));
    expect(code).toBe(0);
    await watcher.disconnect();
    await redis.quit();
  }, 240_000);
});
