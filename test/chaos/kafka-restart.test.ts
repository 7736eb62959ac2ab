/**
 * Chaos (make chaos): the stack's Kafka broker SIGKILLed under a steady stream and started
 * again by the project's own script, with `forecast-stream run` as its own process. Checked
 * by an independent reader of the forecast topic and of Redis: every acknowledged sale is in
 * state exactly once and is covered by a later forecast of its series; the processor stayed
 * up. Prints one JSON line with the figures (bench/chaos/run.sh collects them).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { scenarioCatalog } from '../scenarios/scenario-data.js';
import { startChildProcessor } from '../support/child-processor.js';
import { FaultChecker, ReadyzSampler, sleep } from '../support/fault-checker.js';
import { testConfig } from '../support/real-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
});

describe('chaos: Kafka broker SIGKILLed and restarted', () => {
  it('loses nothing and the processor stays up', async () => {
    const c = testConfig({ batchMaxDelayMs: 20 });
    const catalog = scenarioCatalog('kr');
    const check = await FaultChecker.create(c, catalog);
    const proc = await startChildProcessor(c);
    children.push(proc.child);
    const readyz = new ReadyzSampler(proc.httpPort).start();
    const encode = await check.salesEncoder();
    const producer = check.kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30 } });
    await producer.connect();
    let n = 0;
    const sendOne = async (k: number) => {
      const s = catalog[k % catalog.length]!;
      const quantity = 1 + (n % 7);
      const value = encode({ eventId: `kr-${n++}`, store: s.store, item: s.item, eventTime: Date.now() - 3_600_000, quantity, unitPrice: null });
      // the same record until it is acknowledged (its eventId makes a duplicate write harmless)
      for (;;) {
        try {
          const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: s.seriesId, value }], acks: -1 });
          check.acked.push({ seriesId: s.seriesId, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), quantity });
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
    readyz.phase('broker down');
    process.kill(pid, 'SIGKILL');
    await sleep(5_000);
    // asynchronously, so the stream and the probe sampler keep running while the broker starts
    await promisify(execFile)('bash', [`${ROOT}/stack/up.sh`], { timeout: 120_000 });
    const upAt = Date.now();
    readyz.phase('broker back');
    await sleep(10_000);
    stop = true;
    await stream;
    const lost = await check.waitCovered(90_000);
    const recoverMs = Date.now() - upAt;
    readyz.phase('after');
    await sleep(2_000);
    const readyzCounts = readyz.stop();
    const stateMismatch = await check.stateMismatch();
    const clean = await check.compareWithCleanRun();
    console.info(JSON.stringify({ scenario: 'kafka-sigkill-restart', salesAcked: check.acked.length, lost: lost.length, stateMismatch: stateMismatch.length, stateVsCleanRun: { keys: clean.keys, differing: clean.differing.length, records: clean.records }, duplicateForecasts: check.duplicates, forecastsRead: check.forecasts, brokerDownMs: upAt - killedAt, recoverMs, processExited: proc.child.exitCode !== null, readyz: readyzCounts }));
    expect(lost, proc.log().slice(-3_000)).toEqual([]);
    expect(stateMismatch).toEqual([]);
    expect(clean.differing).toEqual([]);
    expect(clean.keys).toBeGreaterThan(catalog.length);
    expect(proc.child.exitCode).toBeNull();
    expect(readyzCounts.before?.['200'], JSON.stringify(readyzCounts)).toBeGreaterThan(0);
    expect(Object.keys(readyzCounts.after ?? {}), JSON.stringify(readyzCounts)).toEqual(['200']);
    // while the broker was down the probe said so (a lag poll failing or unanswered within 4 s)
    expect(readyzCounts['broker down']?.['503'] ?? 0, JSON.stringify(readyzCounts)).toBeGreaterThan(0);
    await producer.disconnect();
    await check.close();
    proc.child.kill('SIGTERM');
    await new Promise((r) => proc.child.once('exit', r));
  }, 300_000);
});
