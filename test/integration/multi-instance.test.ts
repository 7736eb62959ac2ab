import type { ChildProcess } from 'node:child_process';
import { AssignerProtocol, type Admin } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { InputProducer, inputTopics } from '../../src/tools/input-producer.js';
import { sale, salesHistory } from '../scenarios/scenario-data.js';
import { startChildProcessor } from '../support/child-processor.js';
import { testConfig, testKafka } from '../support/real-stack.js';
import { countSalesTriggers, setupWithCatalog, smallCatalog } from '../support/trigger-counts.js';

// Several processor processes in one consumer group on a 12-partition input: members leave
// (SIGKILL) and join while sales stream in. Nothing is lost at any time; a sale read and
// committed while the group is stable is in exactly one forecast (no series forecast twice for
// the same event); only what is uncommitted when a rebalance starts is read again.
const PARTITIONS = 12;
const c = testConfig({ inputPartitions: PARTITIONS, triggersPerForecast: 100, batchMaxDelayMs: 20, kafkaSessionTimeoutMs: 6_000 });
const children: ChildProcess[] = [];

afterAll(() => {
  for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
});

/** The group's members and the sales partitions each holds, once the group is stable. */
async function assignment(admin: Admin): Promise<number[][] | null> {
  const { groups } = await admin.describeGroups([c.groupId]);
  const g = groups[0];
  if (!g || g.state !== 'Stable') return null;
  return g.members.map((m) => {
    const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    return [...(a?.assignment[c.topicSales] ?? [])].sort((x, y) => x - y);
  });
}

/** Waits until `members` processes share all partitions, each one once. */
async function settled(admin: Admin, members: number, timeoutMs: number): Promise<number[][]> {
  const end = Date.now() + timeoutMs;
  let last: number[][] | null = null;
  while (Date.now() < end) {
    last = await assignment(admin).catch(() => null);
    const all = last?.flat().sort((x, y) => x - y) ?? [];
    if (last && last.length === members && all.length === PARTITIONS && new Set(all).size === PARTITIONS && last.every((p) => p.length > 0)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the group did not settle on ${members} members in ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

describe('several processor instances in one group', () => {
  it('loses nothing while members leave and join, and forecasts each sale once outside a rebalance', async () => {
    const t0 = Date.now();
    const kafka = testKafka(c);
    const codec = RegistrySchemaCodec.fromSettings(c);
    const catalog = smallCatalog('MI', 12, 10);
    const { redis } = await setupWithCatalog(kafka, codec, c, catalog);
    const admin = kafka.admin();
    await admin.connect();
    // every sale's (partition, offset) as forecast triggers, counted
    const { seen, consumer: watcher } = await countSalesTriggers(kafka, codec, c, 'watch');
    const producer = kafka.producer();
    await producer.connect();
    const input = new InputProducer(producer, codec, inputTopics(c));
    // history first, so the model forecasts from real windows
    await input.send(salesHistory(catalog, 8).map((value) => ({ topic: 'sales' as const, value })));

    const start = await Promise.all([0, 1, 2].map(() => startChildProcessor(c)));
    for (const s of start) children.push(s.child);
    const three = await settled(admin, 3, 60_000);

    // phases: [first offset, end offset) per partition of the sales sent in each
    const marks: Array<{ name: string; stable: boolean; from: Map<number, number>; to: Map<number, number> }> = [];
    const highs = async () => new Map((await admin.fetchTopicOffsets(c.topicSales)).map((p) => [p.partition, Number(p.high)]));
    let round = 0;
    const stream = async (name: string, stable: boolean, until: () => Promise<boolean> | boolean) => {
      const from = await highs();
      do {
        round++;
        await input.send(catalog.map((s, k) => ({ topic: 'sales' as const, value: sale(s, `mi-${round}-${k}`, 1 + ((round + k) % 5)) })));
        await new Promise((r) => setTimeout(r, 200));
      } while (!(await until()));
      marks.push({ name, stable, from, to: await highs() });
    };
    // a stable phase ends once the group has committed all of it: only then does the next
    // disruption come (what is uncommitted at a rebalance is read again: at least once)
    const committed = async () => {
      const to = marks.at(-1)!.to;
      const end = Date.now() + 60_000;
      for (;;) {
        const [t] = await admin.fetchOffsets({ groupId: c.groupId, topics: [c.topicSales] });
        if (t!.partitions.every((p) => Number(p.offset) >= (to.get(p.partition) ?? 0))) return;
        if (Date.now() > end) throw new Error(`offsets not committed in 60 s: ${JSON.stringify(t!.partitions)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const rounds = (n: number) => {
      const end = round + n;
      return () => round >= end;
    };

    await stream('three members', true, rounds(10));
    await committed();
    // one member dies without leaving: its partitions move after the session timeout
    start[1]!.child.kill('SIGKILL');
    let two: number[][] = [];
    await stream('after SIGKILL, until the group settles on two', false, async () => {
      two = await settled(admin, 2, 1).catch(() => []);
      return two.length === 2;
    });
    await stream('two members', true, rounds(10));
    await committed();
    // a new member joins
    const joining = startChildProcessor(c);
    let three2: number[][] = [];
    await stream('a fourth process joins, until the group settles on three', false, async () => {
      three2 = await settled(admin, 3, 1).catch(() => []);
      return three2.length === 3;
    });
    children.push((await joining).child);
    await stream('three members again', true, rounds(10));
    await producer.disconnect();

    // wait for every sale sent to be in a forecast
    const expected: Array<{ key: string; phase: string; stable: boolean }> = [];
    for (const m of marks) for (const [p, to] of m.to) for (let o = m.from.get(p) ?? 0; o < to; o++) expected.push({ key: `${p}:${o}`, phase: m.name, stable: m.stable });
    const end = Date.now() + 90_000;
    while (expected.some((e) => !seen.has(e.key)) && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
    const lost = expected.filter((e) => !seen.has(e.key));
    expect(lost.length, `sales never forecast: ${JSON.stringify(lost.slice(0, 5))}`).toBe(0);
    expect(expected.length).toBe(round * catalog.length);
    // outside a rebalance: exactly once; during one: at least once (re-reads of uncommitted chunks)
    const twiceWhenStable = expected.filter((e) => e.stable && seen.get(e.key)! > 1);
    expect(twiceWhenStable, 'a sale forecast twice while the group was stable').toEqual([]);
    const byPhase = marks.map((m) => {
      const es = expected.filter((e) => e.phase === m.name);
      return { phase: m.name, sales: es.length, forecastTwice: es.filter((e) => seen.get(e.key)! > 1).length };
    });
    console.log(`multi-instance (${Math.round((Date.now() - t0) / 1000)} s): assignments 3 ${JSON.stringify(three)}, 2 ${JSON.stringify(two)}, 3 ${JSON.stringify(three2)}; ${JSON.stringify(byPhase)}`);
    expect(three.map((p) => p.length).sort()).toEqual([4, 4, 4]);
    expect(two.map((p) => p.length).sort()).toEqual([6, 6]);

    // the survivors stop cleanly (the SIGKILLed one is gone)
    const alive = children.filter((ch) => ch.exitCode === null && ch.signalCode === null);
    expect(alive.length).toBe(3);
    const codes = await Promise.all(alive.map((ch) => new Promise((r) => { ch.once('exit', r); ch.kill('SIGTERM'); })));
    expect(codes).toEqual([0, 0, 0]);
    await watcher.disconnect();
    await admin.disconnect();
    await redis.quit();
  }, 300_000);
});
