/**
 * Chaos (make chaos): three `forecast-stream run` instances in one consumer group under a
 * steady stream; one is SIGKILLed and a fourth added mid-stream. An independent reader of the
 * forecast topic and of Redis checks that every acknowledged sale is in state exactly once and
 * covered by a later forecast of its series, and counts forecasts per input offset (a replay
 * after the kill may forecast a series twice: at least once, never lost).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { startChildProcessor } from '../support/child-processor.js';
import { FaultChecker, ReadyzSampler, sleep } from '../support/fault-checker.js';
import { testConfig } from '../support/real-stack.js';
const children: ChildProcess[] = [];
afterAll(() => {
  for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
});

describe('chaos: three instances in one group, one killed, one added', () => {
  it('loses nothing', async () => {
    const c = testConfig({ batchMaxDelayMs: 20, inputPartitions: 6 });
    const catalog: SeriesInfo[] = [];
    for (let s = 0; s < 6; s++) for (let i = 0; i < 20; i++) catalog.push({ seriesId: `G${s}-I${i}`, store: `G${s}`, item: `I${i}`, category: 'C', region: 'R' });
    const check = await FaultChecker.create(c, catalog);
    const procs = [];
    for (let k = 0; k < 3; k++) {
      const p = await startChildProcessor(c);
      children.push(p.child);
      procs.push(p);
    }
    // a survivor's probe, through the kill and the join
    const readyz = new ReadyzSampler(procs[1]!.httpPort).start();
    const producer = check.kafka.producer();
    await producer.connect();
    const encode = await check.salesEncoder();
    const acked = check.acked;
    let n = 0;
    let stop = false;
    const stream = (async () => {
      while (!stop) {
        const s = catalog[n % catalog.length]!;
        const quantity = 1 + (n % 4);
        const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: s.seriesId, value: encode({ eventId: `g-${n++}`, store: s.store, item: s.item, eventTime: Date.now() - 3_600_000, quantity, unitPrice: null }) }], acks: -1 });
        acked.push({ seriesId: s.seriesId, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), quantity });
        await sleep(20);
      }
    })();
    await sleep(6_000);
    readyz.phase('one killed');
    procs[0]!.child.kill('SIGKILL');
    await sleep(4_000);
    readyz.phase('one added');
    const added = await startChildProcessor(c);
    children.push(added.child);
    await sleep(8_000);
    stop = true;
    await stream;
    const stoppedAt = Date.now();
    const lost = await check.waitCovered(60_000);
    const coveredMs = Date.now() - stoppedAt;
    readyz.phase('after');
    await sleep(2_000);
    const readyzCounts = readyz.stop();
    const mismatch = await check.stateMismatch();
    const alive = [...procs.slice(1), added].filter((p) => p.child.exitCode === null).length;
    const clean = await check.compareWithCleanRun();
    console.info(JSON.stringify({ scenario: 'group-3-kill-1-add-1', salesAcked: acked.length, lost: lost.length, stateMismatch: mismatch.length, stateVsCleanRun: { keys: clean.keys, differing: clean.differing.length, records: clean.records }, duplicateForecasts: check.duplicates, forecastsRead: check.forecasts, coveredAfterStreamMs: coveredMs, survivorsAlive: alive, readyzSurvivor: readyzCounts }));
    expect(lost).toEqual([]);
    expect(mismatch).toEqual([]);
    expect(clean.differing).toEqual([]);
    expect(clean.keys).toBeGreaterThan(catalog.length);
    expect(alive).toBe(3);
    expect(Object.keys(readyzCounts.after ?? {}), JSON.stringify(readyzCounts)).toEqual(['200']);
    await producer.disconnect();
    await check.close();
    for (const p of [...procs.slice(1), added]) p.child.kill('SIGTERM');
    await Promise.all([...procs.slice(1), added].map((p) => new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.once('exit', r)))));
  }, 240_000);
});
