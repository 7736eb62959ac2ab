/**
 * Online accuracy equals offline `evaluate` on the same pairs: the Walmart-format fixture is
 * replayed through the whole pipeline (the replay command, Kafka, Redis, the walmart-mlp model);
 * every published forecast is kept until its week closes and scored against the actual the state
 * holds. `evaluate` scores the same model on the same files by the README protocol. On the pairs
 * both have (series, target week, horizon), online and offline WAPE agree within 0.5%, and the
 * forecasts kept in Redis carry a TTL.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ScoredPair } from '../../src/accuracy/online-accuracy.js';
import { RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { bucketLabel } from '../../src/inference/features/bucket-clock.js';
import { Processor } from '../../src/main/processor.js';
import { deleteTopicsWith, setupTopicsWith } from '../../src/tools/setup-topics.js';
import { envFor } from '../support/child-processor.js';
import { testConfig, testKafka, testRedis } from '../support/real-stack.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const MINI = fileURLToPath(new URL('../fixtures/walmart-mini', import.meta.url));
const MODEL = fileURLToPath(new URL('../../engines/walmart-mlp/3-2012-04-27', import.meta.url));
const FROM = '2011-06-03';
const TO = '2012-04-27';

describe('online accuracy against actuals (real stack, replayed Walmart data)', () => {
  it('equals offline evaluate on the same pairs within 0.5%', async () => {
    const c = testConfig({ modelName: 'walmart-mlp', modelVersion: '3-2012-04-27', accuracyCloseDelay: 0, modelWatchMs: 0 });
    const kafka = testKafka(c);
    await setupTopicsWith(kafka, RegistrySchemaCodec.fromSettings(c), c);
    const dir = mkdtempSync(join(tmpdir(), 'fs-acc-'));
    const run = promisify(execFile);
    try {
      // the processor runs while the replay plays week after week (a backlog read at once would
      // forecast each series from its newest week only), paced so each week is forecast
      const processor = new Processor({ config: c, log: pino({ level: 'error' }) });
      const pairs: ScoredPair[] = [];
      processor.events.accuracy.on('scored', (e) => pairs.push(...e.pairs));
      await processor.start();
      await run(process.execPath, [CLI, 'replay', '--dataset', 'walmart', '--data', MINI, '--to', TO, '--rate', '400'], { env: envFor(c) });
      // quiet: no new pairs for 4 s (the whole backlog consumed and scored)
      let seen = -1;
      let quietSince = Date.now();
      const end = Date.now() + 120_000;
      while (Date.now() - quietSince < 4_000) {
        if (Date.now() > end) throw new Error(`the replay did not settle: ${pairs.length} pairs`);
        if (pairs.length !== seen) [seen, quietSince] = [pairs.length, Date.now()];
        await new Promise((r) => setTimeout(r, 200));
      }
      await processor.accuracy!.settled();
      const status = processor.status() as { accuracy: Array<{ version: string; pairs: number; wape: number; byHorizon: unknown[] }> };
      // forecasts still awaiting their week are in Redis with a TTL
      const redis = await testRedis(c);
      const keys = await redis.keys(`${c.redisPrefix}:*:fc:*`);
      expect(keys.length).toBeGreaterThan(0);
      const ttl = await redis.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(7 * 7 * 86_400_000);
      await redis.quit();
      await processor.stop();

      await run(process.execPath, [CLI, 'evaluate', '--dataset', 'walmart', '--data', MINI, '--from', FROM, '--to', TO, '--horizons', '4', '--model', MODEL, '--predictions', join(dir, 'pred.csv'), '--out', join(dir, 'report.json'), '--bench-batch', '0'], { env: envFor(c) });
      const offline = new Map<string, { actual: number; p50: number }>();
      for (const line of readFileSync(join(dir, 'pred.csv'), 'utf8').trim().split('\n').slice(1)) {
        const [store, dept, , target, horizon, actual, , p50] = line.split(',');
        offline.set(`${store}-${dept}|${target}|${horizon}`, { actual: Number(actual), p50: Number(p50) });
      }
      const online = new Map<string, ScoredPair>();
      for (const p of pairs) if (p.source === 'primary') online.set(`${p.seriesId}|${bucketLabel(p.target, 'week')}|${p.horizon}`, p);
      const common = [...online.keys()].filter((k) => offline.has(k));
      expect(common.length).toBeGreaterThan(500);
      let onAbs = 0;
      let offAbs = 0;
      let onAct = 0;
      let offAct = 0;
      for (const k of common) {
        const on = online.get(k)!;
        const off = offline.get(k)!;
        onAbs += Math.abs(on.actual - on.p50);
        onAct += on.actual;
        offAbs += Math.abs(off.actual - off.p50);
        offAct += off.actual;
      }
      // the actuals are the same numbers (the state holds what the replay sent)
      expect(Math.abs(onAct - offAct) / offAct).toBeLessThan(1e-6);
      const onWape = onAbs / onAct;
      const offWape = offAbs / offAct;
      console.log(`online accuracy: ${common.length} common pairs of ${online.size} online / ${offline.size} offline; online WAPE ${onWape.toFixed(5)}, offline ${offWape.toFixed(5)}`);
      expect(Math.abs(onWape - offWape) / offWape).toBeLessThan(0.005);
      // /status says the same per version
      expect(status.accuracy.find((a) => a.version === '3-2012-04-27')?.pairs).toBeGreaterThanOrEqual(common.length);
    } finally {
      await deleteTopicsWith(kafka, c).catch(() => undefined);
    }
  }, 240_000);
});
