/**
 * Redis stopped for 20 s under a steady stream, then started again (a real redis-server of
 * this test's own, with an append-only file so a restart keeps the state): the processor
 * (`forecast-stream run`, its own process) must stay up, say not-ready while Redis is down,
 * resume by itself, and lose nothing — every sale sent before, during and after the outage
 * is in state exactly once and every one of them is covered by a later forecast of its series.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSchema, RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { scenarioCatalog } from '../scenarios/scenario-data.js';
import { startChildProcessor } from '../support/child-processor.js';
import { testConfig, testKafka, testRedis } from '../support/real-stack.js';

const DAY_MS = 86_400_000;
let REDIS_PORT = 26_000 + Math.floor(Math.random() * 3_000);
const HTTP_PORT = 29_000 + Math.floor(Math.random() * 3_000);
let dir = mkdtempSync(join(tmpdir(), 'fs-redis-outage-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const procs: ChildProcess[] = [];

function startRedis(): ChildProcess {
  const p = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(REDIS_PORT), '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no', '--logfile', ''], { stdio: 'ignore' });
  procs.push(p);
  return p;
}

async function redisUp(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = new Redis(`redis://127.0.0.1:${REDIS_PORT}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined); // refused while it starts: expected, polled again
    try {
      await r.connect();
      await r.quit();
      return;
    } catch {
      r.disconnect();
      await sleep(100);
    }
  }
  throw new Error(`redis-server on ${REDIS_PORT} did not start`);
}

afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
});

describe('Redis outage (real redis-server stopped for 20 s)', () => {
  it('pauses, says not ready, resumes by itself, and loses nothing', async () => {
    let redis = startRedis();
    await redisUp();
    const c = testConfig({ redisUrl: `redis://127.0.0.1:${REDIS_PORT}`, batchMaxDelayMs: 20 });
    const kafka = testKafka(c);
    const codec = new RegistrySchemaCodec(c.schemaRegistryUrl);
    await setupTopicsWith(kafka, codec, c);
    const catalog = scenarioCatalog('ro');
    const client = await testRedis(c);
    await new RedisStateStore({ client: client as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * DAY_MS }).putCatalog(catalog);
    await client.quit();

    // a downstream consumer: the newest input offset each forecast says it covers, per series
    const reader = parseSchema(loadSchema('forecast-updated'));
    const covered = new Map<string, Map<number, bigint>>(); // seriesId -> partition -> max trigger offset
    const watcher = kafka.consumer({ groupId: `${c.groupId}-watch` });
    await watcher.connect();
    await watcher.subscribe({ topic: c.topicForecasts, fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ message }) => {
        const f = (await codec.decode(message.value!, reader)) as { seriesId: string; triggers: Array<{ topic: string; partition: number; offset: string }> };
        const m = covered.get(f.seriesId) ?? new Map<number, bigint>();
        for (const t of f.triggers) if (t.topic === c.topicSales && BigInt(t.offset) > (m.get(t.partition) ?? -1n)) m.set(t.partition, BigInt(t.offset));
        covered.set(f.seriesId, m);
      },
    });

    const proc = await startChildProcessor(c, { FS_METRICS_PORT: String(HTTP_PORT) });
    procs.push(proc.child);
    const producer = kafka.producer();
    await producer.connect();
    const encode = await codec.encoder(`${c.topicSales}-value`, loadSchema('sales'));
    const sent: Array<{ seriesId: string; partition: number; offset: bigint; quantity: number }> = [];
    const send = async (round: number) => {
      for (const [k, s] of catalog.entries()) {
        const quantity = 1 + ((round * 5 + k) % 7);
        const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: s.seriesId, value: encode({ eventId: `ro-${round}-${s.seriesId}`, store: s.store, item: s.item, eventTime: Date.now() - 3_600_000, quantity, unitPrice: null }) }], acks: -1 });
        sent.push({ seriesId: s.seriesId, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), quantity });
      }
    };
    // one record per send: its offset is what a forecast's triggers must reach
    const readyz = async () => fetch(`http://127.0.0.1:${HTTP_PORT}/readyz`).then((r) => r.status).catch(() => 0);
    const allCovered = () => sent.every((e) => (covered.get(e.seriesId)?.get(e.partition) ?? -1n) >= e.offset);

    await send(0);
    const end0 = Date.now() + 30_000;
    while (!allCovered() && Date.now() < end0) await sleep(100);
    expect(allCovered(), 'forecasts before the outage').toBe(true);
    expect(await readyz()).toBe(200);

    // stop Redis for 20 s while sales keep coming
    redis.kill('SIGTERM');
    await new Promise((r) => redis.once('exit', r));
    const downAt = Date.now();
    const during: number[] = [];
    let round = 1;
    while (Date.now() - downAt < 20_000) {
      if ((Date.now() - downAt) % 4_000 < 600 && round <= 4) await send(round++);
      during.push(await readyz());
      await sleep(500);
    }
    redis = startRedis();
    await redisUp();
    const upAt = Date.now();
    await send(round++);

    const end = Date.now() + 60_000;
    while (!allCovered() && Date.now() < end) await sleep(200);
    const recoverMs = Date.now() - upAt;
    const lost = sent.filter((e) => (covered.get(e.seriesId)?.get(e.partition) ?? -1n) < e.offset);
    expect(lost, `sales without a later forecast ${recoverMs} ms after Redis came back:\n${proc.log().slice(-3_000)}`).toEqual([]);
    // the process stayed up the whole time, and said it could not work while Redis was down
    expect(proc.child.exitCode, proc.log().slice(-3_000)).toBeNull();
    expect(during.filter((s) => s === 503).length, `readyz during the outage: ${during.join(',')}`).toBeGreaterThan(during.length / 2);
    let ready = 0;
    for (let i = 0; i < 40 && ready !== 200; i++) {
      ready = await readyz();
      if (ready !== 200) await sleep(250);
    }
    expect(ready).toBe(200);
    // the figures of the run, for bench/results (chaos)
    console.info(JSON.stringify({ scenario: 'redis-stopped-20s', salesSent: sent.length, lost: lost.length, recoverMs, readyzDuringOutage: { 503: during.filter((x) => x === 503).length, 200: during.filter((x) => x === 200).length, other: during.filter((x) => x !== 503 && x !== 200).length }, processExited: proc.child.exitCode !== null }));
    // every sale is in state exactly once (sums per series match what was sent)
    const check = await testRedis(c);
    const store = new RedisStateStore({ client: check as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * DAY_MS });
    const snaps = await store.readSnapshots(catalog);
    for (const s of snaps) {
      const want = sent.filter((e) => e.seriesId === s.seriesId).reduce((t, e) => t + e.quantity, 0);
      const got = [...s.sales.values()].reduce((t, q) => t + q, 0);
      expect(got, s.seriesId).toBe(want);
    }
    await check.quit();
    await producer.disconnect();
    await watcher.disconnect();
    proc.child.kill('SIGTERM');
    await new Promise((r) => proc.child.once('exit', r));
  }, 180_000);

  it('SIGTERM while Redis is down: the process exits within its shutdown deadline, and the waiting sale is applied after the restart', async () => {
    // a Redis of its own (the previous test's is still running on its port)
    REDIS_PORT += 1;
    dir = mkdtempSync(join(tmpdir(), 'fs-redis-outage-'));
    let redis = startRedis();
    await redisUp();
    const c = testConfig({ redisUrl: `redis://127.0.0.1:${REDIS_PORT}`, batchMaxDelayMs: 20 });
    const kafka = testKafka(c);
    const codec = new RegistrySchemaCodec(c.schemaRegistryUrl);
    await setupTopicsWith(kafka, codec, c);
    const catalog = scenarioCatalog('rt');
    const client = await testRedis(c);
    await new RedisStateStore({ client: client as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * DAY_MS }).putCatalog(catalog);
    await client.quit();
    const first = await startChildProcessor(c, { FS_METRICS_PORT: String(HTTP_PORT + 1) });
    procs.push(first.child);
    redis.kill('SIGTERM');
    await new Promise((r) => redis.once('exit', r));
    const producer = kafka.producer();
    await producer.connect();
    const encode = await codec.encoder(`${c.topicSales}-value`, loadSchema('sales'));
    const s = catalog[0]!;
    await producer.send({ topic: c.topicSales, messages: [{ key: s.seriesId, value: encode({ eventId: 'rt-1', store: s.store, item: s.item, eventTime: Date.now() - 3_600_000, quantity: 7, unitPrice: null }) }], acks: -1 });
    await producer.disconnect();
    // ingest is stalled on the sale now
    const stalledBy = Date.now() + 20_000;
    while (!first.log().includes('a dependency is down') && Date.now() < stalledBy) await sleep(200);
    expect(first.log(), first.log().slice(-3_000)).toContain('a dependency is down');
    const termAt = Date.now();
    first.child.kill('SIGTERM');
    const code = await Promise.race([new Promise<number | null>((r) => first.child.once('exit', (x) => r(x))), sleep(30_000).then(() => 'hung' as const)]);
    const exitMs = Date.now() - termAt;
    expect(code, `no exit ${exitMs} ms after SIGTERM:\n${first.log().slice(-2_000)}`).not.toBe('hung');
    console.info(JSON.stringify({ scenario: 'sigterm-while-redis-down', exitMs, exitCode: code }));
    // Redis back, a new processor: the sale that was waiting is applied (it was never committed)
    redis = startRedis();
    await redisUp();
    const second = await startChildProcessor(c, { FS_METRICS_PORT: String(HTTP_PORT + 2) });
    procs.push(second.child);
    const check = await testRedis(c);
    const store = new RedisStateStore({ client: check as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * DAY_MS });
    let total = 0;
    const end = Date.now() + 30_000;
    while (total !== 7 && Date.now() < end) {
      total = [...(await store.readSnapshots([s]))[0]!.sales.values()].reduce((t, q) => t + q, 0);
      if (total !== 7) await sleep(250);
    }
    await check.quit();
    expect(total).toBe(7);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 180_000);
});
