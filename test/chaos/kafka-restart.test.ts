/**
 * Chaos (make chaos): the stack's Kafka broker SIGKILLed under a steady stream and started
 * again by the project's own script, with `forecast-stream run` as its own process. Checked
 * by an independent reader of the forecast topic and of Redis: every acknowledged sale is in
 * state exactly once and is covered by a later forecast of its series; the processor stayed
 * up. Prints one JSON line with the figures (bench/chaos/run.sh collects them).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { parseSchema, RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { scenarioCatalog } from '../scenarios/scenario-data.js';
import { startChildProcessor } from '../support/child-processor.js';
import { testConfig, testKafka, testRedis } from '../support/real-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY_MS = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
});

describe('chaos: Kafka broker SIGKILLed and restarted', () => {
  it('loses nothing and the processor stays up', async () => {
    const c = testConfig({ batchMaxDelayMs: 20 });
    const kafka = testKafka(c);
    const codec = new RegistrySchemaCodec(c.schemaRegistryUrl);
    await setupTopicsWith(kafka, codec, c);
    const catalog = scenarioCatalog('kr');
    const redis = await testRedis(c);
    await new RedisStateStore({ client: redis as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * DAY_MS }).putCatalog(catalog);
    await redis.quit();
    const proc = await startChildProcessor(c);
    children.push(proc.child);

    const encode = await codec.encoder(`${c.topicSales}-value`, loadSchema('sales'));
    const reader = parseSchema(loadSchema('forecast-updated'));
    const covered = new Map<string, Map<number, bigint>>();
    const startWatcher = async () => {
      const w = kafka.consumer({ groupId: `${c.groupId}-watch`, retry: { retries: 100 } });
      await w.connect();
      await w.subscribe({ topic: c.topicForecasts, fromBeginning: true });
      await w.run({
        eachMessage: async ({ message }) => {
          const f = (await codec.decode(message.value!, reader)) as { seriesId: string; triggers: Array<{ topic: string; partition: number; offset: string }> };
          const m = covered.get(f.seriesId) ?? new Map<number, bigint>();
          for (const t of f.triggers) if (t.topic === c.topicSales && BigInt(t.offset) > (m.get(t.partition) ?? -1n)) m.set(t.partition, BigInt(t.offset));
          covered.set(f.seriesId, m);
        },
      });
      return w;
    };
    const watcher = await startWatcher();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30 } });
    await producer.connect();
    const acked: Array<{ seriesId: string; partition: number; offset: bigint; quantity: number }> = [];
    let n = 0;
    const sendOne = async (k: number) => {
      const s = catalog[k % catalog.length]!;
      const quantity = 1 + (n % 7);
      const value = encode({ eventId: `kr-${n++}`, store: s.store, item: s.item, eventTime: Date.now() - 3_600_000, quantity, unitPrice: null });
      // the same record until it is acknowledged (its eventId makes a duplicate write harmless)
      for (;;) {
        try {
          const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: s.seriesId, value }], acks: -1 });
          acked.push({ seriesId: s.seriesId, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), quantity });
          return;
        } catch {
          await sleep(500);
        }
      }
    };
    let stop = false;
    const stream = (async () => {
      for (let k = 0; !stop; k++) {
        await sendOne(k);
        await sleep(50);
      }
    })();
    await sleep(5_000);
    const pid = Number(readFileSync(`${ROOT}/.stack/run/kafka.pid`, 'utf8').trim());
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await sleep(5_000);
    execFileSync('bash', [`${ROOT}/stack/up.sh`], { stdio: 'ignore', timeout: 120_000 });
    const upAt = Date.now();
    await sleep(10_000);
    stop = true;
    await stream;
    const allCovered = () => acked.every((e) => (covered.get(e.seriesId)?.get(e.partition) ?? -1n) >= e.offset);
    const end = Date.now() + 90_000;
    while (!allCovered() && Date.now() < end) await sleep(250);
    const recoverMs = Date.now() - upAt;
    const lost = acked.filter((e) => (covered.get(e.seriesId)?.get(e.partition) ?? -1n) < e.offset);
    const check = await testRedis(c);
    const store = new RedisStateStore({ client: check as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * DAY_MS });
    const snaps = await store.readSnapshots(catalog);
    await check.quit();
    const stateMismatch = snaps.filter((s) => [...s.sales.values()].reduce((t, q) => t + q, 0) !== acked.filter((e) => e.seriesId === s.seriesId).reduce((t, e) => t + e.quantity, 0)).map((s) => s.seriesId);
    console.info(JSON.stringify({ scenario: 'kafka-sigkill-restart', salesAcked: acked.length, lost: lost.length, stateMismatch: stateMismatch.length, brokerDownMs: upAt - killedAt, recoverMs, processExited: proc.child.exitCode !== null }));
    expect(lost, proc.log().slice(-3_000)).toEqual([]);
    expect(stateMismatch).toEqual([]);
    expect(proc.child.exitCode).toBeNull();
    await producer.disconnect();
    await watcher.disconnect();
    proc.child.kill('SIGTERM');
    await new Promise((r) => proc.child.once('exit', r));
  }, 300_000);
});
