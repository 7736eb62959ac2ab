/**
 * Chaos (make chaos), #10 finding 9: `forecast-stream run` SIGKILLed and restarted at once;
 * how long until forecasting resumes, with the old 30 s session timeout and the new default,
 * in the same run. The dead member holds its partitions until its session expires (kafkajs
 * has no static membership and no KIP-848 protocol), so the session timeout is the lever.
 * Prints one JSON line per setting; asserts only that forecasting resumes and nothing is lost.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { parseSchema } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { configSchema } from '../../src/ops/config.js';
import { scenarioCatalog } from '../scenarios/scenario-data.js';
import { startChildProcessor } from '../support/child-processor.js';
import { FaultChecker, ReadyzSampler, sleep } from '../support/fault-checker.js';
import { testConfig } from '../support/real-stack.js';
const children: ChildProcess[] = [];
afterAll(() => {
  for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
});

const defaults = configSchema.parse({});

describe('chaos: SIGKILL and immediate restart', () => {
  for (const session of [30_000, defaults.kafkaSessionTimeoutMs]) {
    it(`forecasting resumes after the restart (session timeout ${session} ms)`, async () => {
      const c = testConfig({ batchMaxDelayMs: 20, kafkaSessionTimeoutMs: session });
      const catalog = scenarioCatalog('sk');
      const check = await FaultChecker.create(c, catalog);
      const { kafka, codec } = check;
      const reader = parseSchema(loadSchema('forecast-updated'));
      const arrivals: Array<{ at: number; triggers: string[] }> = [];
      const watcher = kafka.consumer({ groupId: `${c.groupId}-arrivals` }); // not the checker's group: it would split the partitions
      await watcher.connect();
      await watcher.subscribe({ topic: c.topicForecasts, fromBeginning: true });
      await watcher.run({
        eachMessage: async ({ message }) => {
          const f = (await codec.decode(message.value!, reader)) as { triggers: Array<{ partition: number; offset: string }> };
          arrivals.push({ at: Date.now(), triggers: f.triggers.map((t) => `${t.partition}@${t.offset}`) });
        },
      });
      const first = await startChildProcessor(c);
      children.push(first.child);
      const producer = kafka.producer();
      await producer.connect();
      const encode = await codec.encoder(`${c.topicSales}-value`, loadSchema('sales'));
      const send = async (id: string, k: number) => {
        const s = catalog[k % catalog.length]!;
        const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: s.seriesId, value: encode({ eventId: id, store: s.store, item: s.item, eventTime: Date.now() - 3_600_000, quantity: 1, unitPrice: null }) }], acks: -1 });
        check.acked.push({ seriesId: s.seriesId, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), quantity: 1 });
        return `${meta!.partition}@${meta!.baseOffset}`;
      };
      for (let k = 0; k < 12; k++) await send(`sk-a-${k}`, k);
      await sleep(3_000);
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      const restartAt = Date.now();
      const second = await startChildProcessor(c);
      children.push(second.child);
      const startedMs = Date.now() - restartAt;
      const readyz = new ReadyzSampler(second.httpPort, 250).start();
      readyz.phase('until resumed');
      // one sale per series right after the restart: when does the first of their forecasts arrive?
      const after: string[] = [];
      for (let k = 0; k < 12; k++) after.push(await send(`sk-b-${k}`, k));
      const end = Date.now() + 90_000;
      const firstAfter = () => arrivals.find((a) => a.triggers.some((t) => after.includes(t)));
      const allAfter = () => after.every((t) => arrivals.some((a) => a.triggers.includes(t)));
      while (!allAfter() && Date.now() < end) await sleep(100);
      const resumeMs = (firstAfter()?.at ?? Number.NaN) - restartAt;
      const allMs = Date.now() - restartAt;
      readyz.phase('after');
      const lost = await check.waitCovered(30_000);
      await sleep(1_000);
      const readyzCounts = readyz.stop();
      const mismatch = await check.stateMismatch();
      const clean = await check.compareWithCleanRun();
      console.info(JSON.stringify({ scenario: 'sigkill-immediate-restart', sessionTimeoutMs: session, salesAcked: check.acked.length, lost: lost.length, stateMismatch: mismatch.length, stateVsCleanRun: { keys: clean.keys, differing: clean.differing.length, records: clean.records }, duplicateForecasts: check.duplicates, processStartMs: startedMs, firstForecastAfterRestartMs: resumeMs, allForecastsAfterRestartMs: allMs, readyzRestarted: readyzCounts }));
      expect(allAfter()).toBe(true);
      expect(lost).toEqual([]);
      expect(mismatch).toEqual([]);
      expect(clean.differing).toEqual([]);
      expect(Object.keys(readyzCounts.after ?? {}), JSON.stringify(readyzCounts)).toEqual(['200']);
      await producer.disconnect();
      await watcher.disconnect();
      await check.close();
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }, 180_000);
  }
});
