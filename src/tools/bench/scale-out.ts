import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Admin } from 'kafkajs';
import { bucketEndMs, bucketOf } from '../../inference/features/bucket-clock.js';
import type { Config } from '../../ops/config.js';
import type { SeriesInfo } from '../../state/state-types.js';
import type { InputRecord } from '../input-producer.js';
import { play } from '../stream-player.js';
import { catalogOf, prepare, weeklyHistory, type BenchContext, type ScenarioResult } from './pipeline-bench.js';

const PARTITIONS = 12;

/** Sales the group has committed on the sales topic (all partitions). */
async function committed(admin: Admin, c: Config): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId: c.groupId, topics: [c.topicSales] }).catch(() => []);
  return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

async function waitCommitted(admin: Admin, c: Config, total: number, timeoutMs: number, onPoll?: () => Promise<void>): Promise<{ done: boolean; at: number }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await onPoll?.();
    if ((await committed(admin, c)) >= total) return { done: true, at: Date.now() };
    if (Date.now() > end) return { done: false, at: Date.now() };
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Members of the group while it is Stable, else 0. */
async function stableMembers(admin: Admin, c: Config): Promise<number> {
  const { groups } = await admin.describeGroups([c.groupId]).catch(() => ({ groups: [] as Array<{ state: string; members: unknown[] }> }));
  return groups[0]?.state === 'Stable' ? groups[0].members.length : 0;
}

function rssMbOf(pid: number | undefined): number {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** One more week of sales per series, this week (new event ids). */
function* thisWeek(catalog: SeriesInfo[], tag: string): Generator<InputRecord> {
  const at = bucketEndMs(bucketOf(Date.now(), 'week'), 'week') - 36 * 3_600_000;
  for (const [k, s] of catalog.entries()) yield { topic: 'sales', value: { eventId: `${tag}-${s.seriesId}`, store: s.store, item: s.item, eventTime: Math.min(at, Date.now()), quantity: 10 + (k % 9), unitPrice: null } };
}

/**
 * 1, 2 and 3 `forecast-stream run` processes in one consumer group on a 12-partition input (on
 * 2 cores the point is correctness and the overhead per instance, not speed-up): a pre-produced
 * backlog drained from a cold start (time to the group's last commit, start-up included; also when the group
 * first became stable with all n members), the processes' summed peak RSS,
 * then — with 2 or more — one more week of sales while one member is SIGKILLed: seconds until
 * the survivors have committed all of it (the dead member's partitions move after the session
 * timeout). Exactly-once-while-stable and nothing-lost are asserted in
 * test/integration/multi-instance.test.ts, not here.
 */
export async function scaleOut(ctx: BenchContext, cliPath: string, env: (c: Config) => NodeJS.ProcessEnv, counts: readonly number[] = [1, 2, 3], series = 3_000, weeks = 20): Promise<ScenarioResult> {
  const runs: Array<Record<string, unknown>> = [];
  for (const n of counts) {
    const c = ctx.config({ inputPartitions: PARTITIONS, kafkaSessionTimeoutMs: 6_000 });
    const catalog = catalogOf(Math.ceil(series / 100), 100, `so${n}`);
    const { input, close } = await prepare(ctx, c, catalog);
    const total = catalog.length * weeks;
    ctx.log(`scale-out: ${n} instance(s), producing ${total} events first`);
    await play(weeklyHistory(catalog, weeks), input, { rate: 0, chunk: 5_000 });
    const admin = ctx.kafka.admin();
    await admin.connect();
    const children: ChildProcess[] = [];
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, children.reduce((sum, ch) => sum + rssMbOf(ch.pid), 0))), 100);
    const t0 = Date.now();
    for (let k = 0; k < n; k++) children.push(spawn(process.execPath, [cliPath, 'run'], { env: env(c), stdio: ['ignore', 'ignore', 'ignore'] }));
    // the first time all n processes are members of a stable group: start-up and the join
    let joinedAt: number | null = null;
    const drained = await waitCommitted(admin, c, total, 300_000, async () => {
      if (joinedAt === null && (await stableMembers(admin, c)) === n) joinedAt = Date.now();
    });
    const seconds = (drained.at - t0) / 1000;
    const run: Record<string, unknown> = {
      instances: n,
      events: total,
      completed: drained.done,
      seconds,
      eventsPerSecond: Math.round(total / seconds),
      // null: the backlog was drained before all n had joined (the group was never stable with n)
      groupStableSeconds: joinedAt === null ? null : (joinedAt - t0) / 1000,
      peakRssMbSum: peak,
    };
    if (n >= 2) {
      // one member dies while a week of sales arrives: the survivors take its partitions
      const more = catalog.length;
      const k0 = Date.now();
      await play(thisWeek(catalog, `so${n}w`), input, { rate: 0, chunk: 5_000 });
      children[0]!.kill('SIGKILL');
      const rec = await waitCommitted(admin, c, total + more, 120_000);
      run.recovery = { events: more, completed: rec.done, seconds: (rec.at - k0) / 1000, sessionTimeoutMs: c.kafkaSessionTimeoutMs };
    }
    clearInterval(sampler);
    await close();
    for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGTERM');
    await Promise.all(children.map((ch) => (ch.exitCode === null && ch.signalCode === null ? new Promise((r) => ch.once('exit', r)) : Promise.resolve())));
    await admin.disconnect();
    ctx.log(`scale-out: ${JSON.stringify(run)}`);
    runs.push(run);
  }
  return {
    scenario: 'scale-out',
    partitions: PARTITIONS,
    // keyed by instance count (the trend file flattens objects, not arrays)
    byInstances: Object.fromEntries(runs.map((r) => [`x${String(r.instances)}`, r])),
    note: 'forecast-stream run processes in one group, weekly model, backlog drained from a cold start; on 2 cores shared with Kafka, the registry and Redis more processes compete for the same CPU',
  };
}
