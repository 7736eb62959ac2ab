import { pino } from 'pino';
import { Processor } from '../../main/processor.js';
import type { Config } from '../../ops/config.js';
import { play } from '../stream-player.js';
import { catalogOf, latency, prepare, weeklyHistory, type BenchContext, type ScenarioResult } from './pipeline-bench.js';

/** A pre-produced backlog drained by an in-process processor: seconds until the group has committed every input offset. */
async function drainCommitted(ctx: BenchContext, overrides: Partial<Config>, series: number, weeks: number): Promise<Record<string, unknown>> {
  const c = ctx.config(overrides);
  const catalog = catalogOf(Math.ceil(series / 100), 100, c.exactlyOnce ? 'eo' : 'al');
  const { input, close } = await prepare(ctx, c, catalog);
  const total = catalog.length * weeks;
  await play(weeklyHistory(catalog, weeks), input, { rate: 0, chunk: 5_000 });
  await close();
  const admin = ctx.kafka.admin();
  await admin.connect();
  const processor = new Processor({ config: c, log: pino({ level: 'warn' }) });
  let forecasts = 0;
  processor.events.publish.on('forecasts-published', ({ count }) => (forecasts += count));
  const started = Date.now();
  await processor.start();
  let committed = 0;
  while (committed < total && Date.now() - started < 300_000) {
    await new Promise((r) => setTimeout(r, 50));
    const offsets = await admin.fetchOffsets({ groupId: c.groupId, topics: [c.topicSales] }).catch(() => []);
    committed = offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  }
  const seconds = (Date.now() - started) / 1000;
  await processor.stop();
  await admin.disconnect();
  return { events: total, completed: committed >= total, seconds, eventsPerSecond: Math.round(total / seconds), forecastsPublished: forecasts };
}

/**
 * FS_EXACTLY_ONCE against at-least-once, same run, interleaved (at-least-once, exactly-once,
 * twice): a 180k backlog drained until the group has committed every offset (start-up included),
 * then event-to-forecast latency at 2,000 events/s read by a read_committed consumer (kafkajs'
 * default), whose forecasts under exactly-once are visible only once their epoch commits.
 */
export async function exactlyOnceCost(ctx: BenchContext, series = 3_000, weeks = 60): Promise<ScenarioResult> {
  const modes = { atLeastOnce: { exactlyOnce: false }, exactlyOnce: { exactlyOnce: true } } as const;
  const drain: Record<string, Array<Record<string, unknown>>> = { atLeastOnce: [], exactlyOnce: [] };
  for (let k = 0; k < 2; k++) {
    for (const [name, o] of Object.entries(modes)) {
      ctx.log(`exactly-once: backlog, ${name}, run ${k + 1}`);
      drain[name]!.push(await drainCommitted(ctx, o, series, weeks));
    }
  }
  const lat: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(modes)) {
    ctx.log(`exactly-once: latency at 2,000 events/s, ${name}`);
    const r = await latency(ctx, 2_000, 15, 20_000, o);
    lat[name] = { p50Ms: r.p50Ms, p90Ms: r.p90Ms, p99Ms: r.p99Ms, maxMs: r.maxMs, measured: r.measured };
  }
  const eps = (name: string) => drain[name]!.map((r) => r.eventsPerSecond as number);
  return {
    scenario: 'exactly-once',
    // flattened for the trend file: the runs' events/s, then the latencies
    backlog: Object.fromEntries(Object.keys(modes).map((n) => [n, Object.fromEntries(eps(n).map((v, i) => [`run${i + 1}EventsPerSecond`, v]))])),
    backlogRuns: drain,
    latency2000: lat,
    note: 'in-process processor on the weekly model; backlog: 180,000 sales until every offset is committed (start-up included); latency: 15 s at 2,000 events/s, send to arrival at a read_committed consumer; the commit interval (FS_COMMIT_INTERVAL_MS, 200 ms) is also the exactly-once epoch',
  };
}
