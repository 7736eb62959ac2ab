/**
 * Chaos (make chaos): a 10x flood — a backlog of 200,000 sales over 2,000 series produced at
 * once — into `forecast-stream run` with the Helm chart's V8 heap bounds (values.yaml
 * nodeOptions); then SIGTERM while it is still working through it, and a restart. Checked:
 * peak RSS stays under the chart's memory limit (768 MiB), the sales sent after the backlog
 * are all covered by later forecasts of their series (nothing lost across the SIGTERM and the
 * restart), and the SIGTERM exits 0 within the shutdown deadline.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { startChildProcessor } from '../support/child-processor.js';
import { FaultChecker, ReadyzSampler, sleep } from '../support/fault-checker.js';
import { testConfig } from '../support/real-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
});

const values = readFileSync(`${ROOT}/helm/forecast-stream/values.yaml`, 'utf8');
const NODE_OPTIONS = /^nodeOptions:\s*"([^"]+)"/m.exec(values)![1]!;
const LIMIT_MIB = Number(/limits:[\s\S]*?memory:\s*(\d+)Mi/.exec(values)![1]);

describe('chaos: a 10x flood, SIGTERM in the middle of it, restart', () => {
  it('bounded memory, nothing lost', async () => {
    const c = testConfig({ batchMaxDelayMs: 20 });
    const catalog: SeriesInfo[] = [];
    for (let s = 0; s < 20; s++) for (let i = 0; i < 100; i++) catalog.push({ seriesId: `F${s}-I${i}`, store: `F${s}`, item: `I${i}`, category: `C${i % 4}`, region: 'R' });
    const check = await FaultChecker.create(c, catalog);
    const encode = await check.salesEncoder();
    const producer = check.kafka.producer();
    await producer.connect();
    const weeks = 100;
    const now = Date.now();
    // 100 weekly sales per series (the window keeps 60: the oldest ones are dropped as too old by design)
    for (let w = 0; w < weeks; w++) {
      const messages = catalog.map((s, k) => ({ key: s.seriesId, value: encode({ eventId: `f-${w}-${k}`, store: s.store, item: s.item, eventTime: now - (weeks - w) * 7 * 86_400_000 + 3_600_000, quantity: 1 + ((w + k) % 5), unitPrice: null }) }));
      await producer.send({ topic: c.topicSales, messages, acks: -1 });
    }
    // the last week's sale per series, one by one: their offsets are what the forecasts must reach
    for (const [k, s] of catalog.entries()) {
      if (k % 10 !== 0) continue;
      const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: s.seriesId, value: encode({ eventId: `f-last-${k}`, store: s.store, item: s.item, eventTime: now - 3_600_000, quantity: 2, unitPrice: null }) }], acks: -1 });
      check.acked.push({ seriesId: s.seriesId, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), quantity: 2 });
    }
    await producer.disconnect();
    const env = { NODE_OPTIONS };
    const first = await startChildProcessor(c, env);
    children.push(first.child);
    const readyz = new ReadyzSampler(first.httpPort).start();
    readyz.phase('flood');
    const rssOf = (p: ChildProcess) => {
      try {
        return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
      } catch {
        return 0;
      }
    };
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, ...children.filter((ch) => ch.exitCode === null).map(rssOf))), 100);
    await sleep(8_000);
    const termAt = Date.now();
    readyz.phase('sigterm');
    first.child.kill('SIGTERM');
    await new Promise((r) => first.child.once('exit', r));
    const exitMs = Date.now() - termAt;
    const restartAt = Date.now();
    const second = await startChildProcessor(c, env);
    children.push(second.child);
    readyz.phase('restarted, backlog', second.httpPort);
    const lost = await check.waitCovered(240_000);
    const recoverMs = Date.now() - restartAt;
    clearInterval(sampler);
    readyz.phase('after');
    await sleep(2_000);
    const readyzCounts = readyz.stop();
    const clean = await check.compareWithCleanRun();
    console.info(JSON.stringify({ scenario: 'flood-10x-sigterm-restart', events: weeks * catalog.length + check.acked.length, series: catalog.length, nodeOptions: NODE_OPTIONS, peakRssMb: peak, limitMib: LIMIT_MIB, sigtermExitMs: exitMs, firstExitCode: first.child.exitCode, lost: lost.length, backlogDoneAfterRestartMs: recoverMs, stateVsCleanRun: { keys: clean.keys, differing: clean.differing.length, records: clean.records }, duplicateForecasts: check.duplicates, forecastsRead: check.forecasts, readyz: readyzCounts }));
    expect(lost).toEqual([]);
    expect(clean.differing).toEqual([]);
    expect(clean.keys).toBeGreaterThanOrEqual(2 * catalog.length);
    expect(Object.keys(readyzCounts.after ?? {}), JSON.stringify(readyzCounts)).toEqual(['200']);
    expect(first.child.exitCode).toBe(0);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(LIMIT_MIB);
    await check.close();
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 400_000);
});
