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
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import { scenarioCatalog } from '../scenarios/scenario-data.js';
import { startChildProcessor } from '../support/child-processor.js';
import { FaultChecker } from '../support/fault-checker.js';
import { testConfig, testRedis } from '../support/real-stack.js';

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
    const catalog = scenarioCatalog('ro');
    const check = await FaultChecker.create(c, catalog);
    const proc = await startChildProcessor(c, { FS_METRICS_PORT: String(HTTP_PORT) });
    procs.push(proc.child);
    const producer = check.kafka.producer();
    await producer.connect();
    const encode = await check.salesEncoder();
    const sent = check.acked;
    const send = async (round: number) => {
      for (const [k, s] of catalog.entries()) {
        const quantity = 1 + ((round * 5 + k) % 7);
        const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: s.seriesId, value: encode({ eventId: `ro-${round}-${s.seriesId}`, store: s.store, item: s.item, eventTime: Date.now() - 3_600_000, quantity, unitPrice: null }) }], acks: -1 });
        sent.push({ seriesId: s.seriesId, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), quantity });
      }
    };
    // one record per send: its offset is what a forecast's triggers must reach
    const readyz = async () => fetch(`http://127.0.0.1:${HTTP_PORT}/readyz`).then((r) => r.status).catch(() => 0);
    await send(0);
    expect(await check.waitCovered(30_000), 'forecasts before the outage').toEqual([]);
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

    const lost = await check.waitCovered(60_000);
    const recoverMs = Date.now() - upAt;
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
    // every sale is in state exactly once (sums per series match what was sent), and the whole
    // state is the one a run without the outage makes of the same records
    const mismatch = await check.stateMismatch();
    const clean = await check.compareWithCleanRun();
    // the figures of the run, for bench/results (chaos)
    console.info(JSON.stringify({ scenario: 'redis-stopped-20s', salesSent: sent.length, lost: lost.length, stateMismatch: mismatch.length, stateVsCleanRun: { keys: clean.keys, differing: clean.differing.length, records: clean.records }, duplicateForecasts: check.duplicates, forecastsRead: check.forecasts, recoverMs, readyzDuringOutage: { 503: during.filter((x) => x === 503).length, 200: during.filter((x) => x === 200).length, other: during.filter((x) => x !== 503 && x !== 200).length }, processExited: proc.child.exitCode !== null }));
    expect(mismatch).toEqual([]);
    expect(clean.differing).toEqual([]);
    expect(clean.keys).toBeGreaterThan(catalog.length);
    await producer.disconnect();
    await check.close();
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
    const catalog = scenarioCatalog('rt');
    const check = await FaultChecker.create(c, catalog);
    const first = await startChildProcessor(c, { FS_METRICS_PORT: String(HTTP_PORT + 1) });
    procs.push(first.child);
    redis.kill('SIGTERM');
    await new Promise((r) => redis.once('exit', r));
    const producer = check.kafka.producer();
    await producer.connect();
    const encode = await check.salesEncoder();
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
    const redisCheck = await testRedis(c);
    const store = new RedisStateStore({ client: redisCheck as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: 7 * DAY_MS });
    let total = 0;
    const end = Date.now() + 30_000;
    while (total !== 7 && Date.now() < end) {
      total = [...(await store.readSnapshots([s]))[0]!.sales.values()].reduce((t, q) => t + q, 0);
      if (total !== 7) await sleep(250);
    }
    await redisCheck.quit();
    await check.close();
    expect(total).toBe(7);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 180_000);
});
