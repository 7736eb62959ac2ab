import { cpus, totalmem } from 'node:os';
import { pino } from 'pino';
import type { Kafka } from 'kafkajs';
import { nextGroupJoin } from '../../core/group-join.js';
import { RegistrySchemaCodec, parseSchema } from '../../core/schema-codec.js';
import { loadSchema } from '../../core/schemas.js';
import { bucketEndMs, bucketOf } from '../../inference/features/bucket-clock.js';
import { Processor } from '../../main/processor.js';
import type { Config } from '../../ops/config.js';
import type { SeriesInfo, StateStore } from '../../state/state-types.js';
import { InputProducer, inputTopics, type InputRecord } from '../input-producer.js';
import { setupTopicsWith } from '../setup-topics.js';
import { play } from '../stream-player.js';

const DAY_MS = 86_400_000;

export interface BenchContext {
  kafka: Kafka;
  /** A fresh config (own topics, group, Redis prefix) per scenario. */
  config: (overrides?: Partial<Config>) => Config;
  store: (c: Config) => Promise<StateStore & { clearAll(): Promise<number> }>;
  log: (line: string) => void;
}

export interface ScenarioResult {
  scenario: string;
  [metric: string]: unknown;
}

export function catalogOf(stores: number, items: number, tag: string): SeriesInfo[] {
  const out: SeriesInfo[] = [];
  for (let s = 0; s < stores; s++) {
    for (let i = 0; i < items; i++) {
      out.push({ seriesId: `${tag}${s}-${i}`, store: `${tag}${s}`, item: String(i), category: `c${i % 10}`, region: `r${s % 4}` });
    }
  }
  return out;
}

/** Weekly totals stamped on each week's Friday, ending last week. */
export function* weeklyHistory(catalog: SeriesInfo[], weeks: number): Generator<InputRecord> {
  const lastWeek = bucketOf(Date.now(), 'week') - 1;
  for (let w = weeks - 1; w >= 0; w--) {
    const friday = bucketEndMs(lastWeek - w, 'week') - 12 * 3_600_000;
    for (const [k, s] of catalog.entries()) {
      yield { topic: 'sales', value: { eventId: `b-${s.seriesId}-${w}`, store: s.store, item: s.item, eventTime: friday, quantity: 20 + ((k * 13 + w * 7) % 17), unitPrice: null } };
    }
  }
}

export async function prepare(ctx: BenchContext, c: Config, catalog: SeriesInfo[]): Promise<{ codec: RegistrySchemaCodec; input: InputProducer; close: () => Promise<void> }> {
  const codec = RegistrySchemaCodec.fromSettings(c);
  await setupTopicsWith(ctx.kafka, codec, c);
  const store = await ctx.store(c);
  await store.putCatalog(catalog);
  await store.close();
  const producer = ctx.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const input = new InputProducer(producer, codec, inputTopics(c));
  return { codec, input, close: () => producer.disconnect() };
}

/** Watches forecast-updated; calls back with the series id and the arrival time. */
async function watch(ctx: BenchContext, c: Config, codec: RegistrySchemaCodec, onForecast: (seriesId: string, at: number) => void) {
  const reader = parseSchema(loadSchema('forecast-updated'));
  const consumer = ctx.kafka.consumer({ groupId: `${c.groupId}-watch`, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: c.topicForecasts, fromBeginning: true });
  const joined = nextGroupJoin(consumer);
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const at = Date.now();
      for (const m of batch.messages) {
        // the key is the series id: no need to decode the whole record for counting
        onForecast(m.key ? m.key.toString() : ((await codec.decode(m.value!, reader)) as { seriesId: string }).seriesId, at);
      }
    },
  });
  await joined;
  return consumer;
}

/** Approximate quantile (upper bucket bound) of a prom-client histogram. */
async function histogramQuantile(processor: Processor, name: string, q: number): Promise<number | null> {
  const metric = processor.metrics.registry.getSingleMetric(name);
  if (!metric) return null;
  const values = (await metric.get()).values.filter((v) => (v as { metricName?: string }).metricName === `${name}_bucket`);
  const total = values.at(-1)?.value ?? 0;
  if (total === 0) return null;
  const hit = values.find((v) => v.value >= q * total);
  const le = hit?.labels.le;
  return le === undefined || le === '+Inf' ? null : Number(le) * 1000;
}

function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** End to end: N pre-produced events consumed, applied, forecast and published. */
export async function throughput(ctx: BenchContext, series = 3_000, weeks = 60, overrides: Partial<Config> = {}): Promise<ScenarioResult> {
  const c = ctx.config(overrides);
  const catalog = catalogOf(Math.ceil(series / 100), 100, 'tp');
  const { input, close } = await prepare(ctx, c, catalog);
  const total = catalog.length * weeks;
  ctx.log(`throughput: producing ${total} events first`);
  await play(weeklyHistory(catalog, weeks), input, { rate: 0, chunk: 5_000 });
  await close();
  const processor = new Processor({ config: c, log: pino({ level: 'warn' }) });
  let processed = 0;
  let forecasts = 0;
  processor.events.ingest.on('records-processed', ({ count }) => (processed += count));
  processor.events.publish.on('forecasts-published', ({ count }) => (forecasts += count));
  let peakRss = rssMb();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb())), 250);
  const started = Date.now();
  await processor.start();
  const ok = await until(() => processed >= total && (processor.status() as { batcher: { pending: number; inFlight: number } }).batcher.pending === 0, 300_000);
  await until(() => (processor.status() as { batcher: { inFlight: number } }).batcher.inFlight === 0, 30_000);
  const secs = (Date.now() - started) / 1000;
  clearInterval(sampler);
  await processor.stop();
  return { scenario: 'throughput', events: total, series: catalog.length, seconds: secs, eventsPerSecond: Math.round(total / secs), forecastsPublished: forecasts, completed: ok, peakRssMb: peakRss, note: 'includes consumer group join and model load (a few seconds)' };
}

/** Event-to-forecast latency at a steady input rate, one series per event in rotation. */
export async function latency(ctx: BenchContext, rate = 2_000, seconds = 20, series = 20_000, overrides: Partial<Config> = {}): Promise<ScenarioResult> {
  const c = ctx.config(overrides);
  const catalog = catalogOf(series / 200, 200, 'lt');
  const { codec, input, close } = await prepare(ctx, c, catalog);
  const processor = new Processor({ config: c, log: pino({ level: 'warn' }) });
  await processor.start();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const watcher = await watch(ctx, c, codec, (id, at) => {
    const t = sentAt.get(id);
    if (t !== undefined) {
      latencies.push(at - t);
      sentAt.delete(id);
    }
  });
  const friday = bucketEndMs(bucketOf(Date.now(), 'week') - 1, 'week') - 12 * 3_600_000;
  let n = 0;
  const total = rate * seconds;
  function* events(): Generator<InputRecord> {
    for (; n < total; n++) {
      const s = catalog[n % catalog.length]!;
      sentAt.set(s.seriesId, Date.now());
      yield { topic: 'sales', value: { eventId: `lat-${n}`, store: s.store, item: s.item, eventTime: friday, quantity: 5, unitPrice: null } };
    }
  }
  let peakRss = rssMb();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb())), 250);
  await play(events(), input, { rate, chunk: Math.max(1, rate / 100) });
  await until(() => sentAt.size === 0, 30_000);
  clearInterval(sampler);
  const stages = {
    queueToPublishP50Ms: await histogramQuantile(processor, 'forecast_stream_queue_to_publish_seconds', 0.5),
    queueToPublishP99Ms: await histogramQuantile(processor, 'forecast_stream_queue_to_publish_seconds', 0.99),
    batchP99Ms: await histogramQuantile(processor, 'forecast_stream_batch_seconds', 0.99),
    inferenceP99Ms: await histogramQuantile(processor, 'forecast_stream_inference_seconds', 0.99),
  };
  await watcher.disconnect();
  await close();
  await processor.stop();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? null;
  return { scenario: 'latency', rate, seconds, events: total, measured: latencies.length, p50Ms: q(0.5), p90Ms: q(0.9), p99Ms: q(0.99), maxMs: latencies.at(-1) ?? null, stages, peakRssMb: peakRss, note: 'send time (producer side, before the send) to arrival at a downstream consumer; includes producer batching of ~10 ms' };
}

/** State for a synthetic catalog, written directly: `history` buckets of sales and (`prices`) a shelf price per series. */
async function seedState(ctx: BenchContext, c: Config, catalog: SeriesInfo[], history: number, size: 'day' | 'week', prices: boolean): Promise<void> {
  const store = await ctx.store(c);
  const last = bucketOf(Date.now(), size) - 1;
  for (let w = 0; w < history; w++) {
    for (let i = 0; i < catalog.length; i += 10_000) {
      const part = catalog.slice(i, i + 10_000);
      await store.applySales(part.map((s, k) => ({ seriesId: s.seriesId, eventId: `h${w}-${i + k}`, bucket: last - w, quantity: 3 + ((i + k) % 9), eventTimeMs: bucketEndMs(last - w, size) - 3_600_000 })));
    }
  }
  for (let i = 0; prices && i < catalog.length; i += 10_000) {
    await store.applyPrices(catalog.slice(i, i + 10_000).map((s, k) => ({ seriesId: s.seriesId, eventId: `p-${i + k}`, fromBucket: last - 400, price: 2 + ((i + k) % 7), regularPrice: null, eventTimeMs: 1 })));
  }
  await store.close();
}

/**
 * What-if against `forecast-stream run` as its own process (the client must not share the
 * server's event loop): rounds of `concurrent` simultaneous one-series questions (a 20% cut
 * for 14 days), then one question over `large` series (totals only). Latency = request sent
 * to answer parsed, per request.
 */
export async function whatIfBench(ctx: BenchContext, cliPath: string, env: (c: Config) => NodeJS.ProcessEnv, concurrent = 1_000, large = 20_000, rounds = 3): Promise<ScenarioResult> {
  const { spawn } = await import('node:child_process');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const c = ctx.config({ modelName: 'm5-daily-gbm' });
  const catalog = catalogOf(large / 200, 200, 'wi');
  const { close } = await prepare(ctx, c, catalog);
  await close();
  await seedState(ctx, c, catalog, 8, 'day', true);
  const child = spawn(process.execPath, [cliPath, 'run'], { env: { ...env(c), FS_METRICS_PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  const url = `http://127.0.0.1:${port}`;
  const ready = await (async () => {
    const end = Date.now() + 120_000;
    while (Date.now() < end) {
      const ok = await fetch(`${url}/readyz`).then((r) => r.ok).catch(() => false);
      if (ok) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  })();
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`what-if bench: the processor did not get ready on :${port} in 120 s:\n${stderr}`);
  }
  const from = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
  const to = new Date(Date.now() + 14 * DAY_MS).toISOString().slice(0, 10);
  const ask = async (body: unknown) => {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/what-if`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const doc = (await res.json()) as { seriesCount?: number; total?: { change: number | null }; error?: unknown };
    if (res.status !== 200) throw new Error(`what-if answered ${res.status}: ${JSON.stringify(doc.error)}`);
    return { ms: performance.now() - t0, doc };
  };
  const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  const roundsOut: Array<{ p50Ms: number; p99Ms: number; maxMs: number; wallMs: number }> = [];
  let change: number | null = null;
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: concurrent }, (_, k) => ask({ series: [catalog[(r * 7919 + k * 104_729) % catalog.length]!.seriesId], priceCut: { depth: 0.2, from, to } })),
    );
    const wallMs = performance.now() - t0;
    change = answers[0]!.doc.total?.change ?? null;
    const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
    // round 0 warms the model, the connections and the JIT
    if (r > 0) roundsOut.push({ p50Ms: round1(q(ms, 0.5)), p99Ms: round1(q(ms, 0.99)), maxMs: round1(ms.at(-1)!), wallMs: round1(wallMs) });
  }
  const larges: number[] = [];
  let largeChange: number | null = null;
  for (let r = 0; r < 2; r++) {
    const a = await ask({ series: catalog.map((s) => s.seriesId), priceCut: { depth: 0.2, from, to }, detail: 'total' });
    larges.push(round1(a.ms));
    largeChange = a.doc.total?.change ?? null;
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const all = roundsOut.map((r) => r.p99Ms).sort((a, b) => a - b);
  return {
    scenario: 'what-if',
    model: c.modelName,
    catalog: catalog.length,
    concurrent,
    rounds: roundsOut,
    p50Ms: roundsOut.map((r) => r.p50Ms).sort((a, b) => a - b)[Math.floor(roundsOut.length / 2)],
    p99Ms: all[Math.floor(all.length / 2)],
    oneSeriesChange: change,
    largeSeries: large,
    largeMs: larges,
    largeChange,
    note: `${concurrent} simultaneous one-series questions per round (median round reported; round 0 is warm-up), then one ${large}-series question (totals only), twice; the processor runs as its own process on the same 2 cores as the client, Kafka, the registry and Redis`,
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * One promotion over `series` series: time from send until every forecast arrived downstream.
 * `daily`: the daily SKU model (28 rows per series, prices in state), else the weekly one.
 */
export async function flashPromotion(ctx: BenchContext, series = 20_000, history = 8, daily = false): Promise<ScenarioResult> {
  const c = ctx.config(daily ? { modelName: 'm5-daily-gbm' } : {});
  const size = daily ? 'day' : 'week';
  const catalog = catalogOf(series / 200, 200, 'fp');
  const { codec, input, close } = await prepare(ctx, c, catalog);
  // state with some history, applied directly (the bench is about the promotion)
  await seedState(ctx, c, catalog, history, size, daily);
  const processor = new Processor({ config: c, log: pino({ level: 'warn' }) });
  await processor.start();
  const seen = new Set<string>();
  let lastAt = 0;
  const watcher = await watch(ctx, c, codec, (id, at) => {
    seen.add(id);
    lastAt = at;
  });
  const stores = [...new Set(catalog.map((s) => s.store))];
  const now = Date.now();
  const started = Date.now();
  await input.send([{ topic: 'promotions', value: { promotionId: 'flash-1', kind: 'flash', stores, items: [], categories: [], startTime: now + DAY_MS, endTime: now + 3 * DAY_MS, discountDepth: 0.3, markdownAmount: null, eventTime: now } }]);
  const ok = await until(() => seen.size >= catalog.length, 60_000);
  const ms = lastAt - started;
  await watcher.disconnect();
  await close();
  await processor.stop();
  return {
    scenario: daily ? 'flash-promotion-daily' : 'flash-promotion',
    model: c.modelName,
    series: catalog.length,
    forecastsReceived: seen.size,
    completed: ok,
    millis: ms,
    note: `promotion send -> last of its forecasts read by a downstream consumer; ${daily ? `daily model: 28 rows per series, ${history} days of history` : `weekly model, ${history} weeks of history`}`,
  };
}

/** Full refresh of every series from state. */
export async function fullRefresh(ctx: BenchContext, series = 50_000, historyWeeks = 13): Promise<ScenarioResult> {
  const c = ctx.config();
  const catalog = catalogOf(series / 250, 250, 'fr');
  const { close } = await prepare(ctx, c, catalog);
  await close();
  const store = await ctx.store(c);
  const lastWeek = bucketOf(Date.now(), 'week') - 1;
  for (let w = 0; w < historyWeeks; w++) {
    for (let i = 0; i < catalog.length; i += 10_000) {
      const part = catalog.slice(i, i + 10_000);
      await store.applySales(part.map((s, k) => ({ seriesId: s.seriesId, eventId: `h${w}-${i + k}`, bucket: lastWeek - w, quantity: 10 + (k % 9), eventTimeMs: bucketEndMs(lastWeek - w, 'week') - 43_200_000 })));
    }
  }
  await store.close();
  const processor = new Processor({ config: c, log: pino({ level: 'warn' }), consume: false });
  await processor.start();
  let peakRss = rssMb();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb())), 100);
  const started = Date.now();
  const n = await processor.refreshAll();
  const secs = (Date.now() - started) / 1000;
  clearInterval(sampler);
  await processor.stop();
  return { scenario: 'full-refresh', series: n, historyWeeks, seconds: secs, seriesPerSecond: Math.round(n / secs), peakRssMb: peakRss };
}

/** Peak RSS of the processor alone: `forecast-stream run` as its own process under the throughput load. */
export async function processorRss(ctx: BenchContext, cliPath: string, env: (c: Config) => NodeJS.ProcessEnv, series = 3_000, weeks = 60): Promise<ScenarioResult> {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const c = ctx.config();
  const catalog = catalogOf(Math.ceil(series / 100), 100, 'rs');
  const { input, close } = await prepare(ctx, c, catalog);
  const total = catalog.length * weeks;
  await play(weeklyHistory(catalog, weeks), input, { rate: 0, chunk: 5_000 });
  await close();
  const child = spawn(process.execPath, [cliPath, 'run'], { env: env(c), stdio: ['ignore', 'ignore', 'pipe'] });
  const rssOf = () => {
    try {
      return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
    } catch {
      return 0;
    }
  };
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf())), 100);
  // done when the group has committed every input offset
  const admin = ctx.kafka.admin();
  await admin.connect();
  const started = Date.now();
  let lag = total;
  while (lag > 0 && Date.now() - started < 300_000) {
    await new Promise((r) => setTimeout(r, 500));
    const offsets = await admin.fetchOffsets({ groupId: c.groupId, topics: [c.topicSales] }).catch(() => []);
    const committed = offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    lag = total - committed;
  }
  await admin.disconnect();
  const idle = rssOf();
  clearInterval(sampler);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { scenario: 'processor-rss', events: total, completed: lag === 0, seconds: (Date.now() - started) / 1000, peakRssMb: peak, rssAfterMb: idle, note: 'forecast-stream run as its own process, /proc VmRSS sampled every 100 ms' };
}

export function machine(): Record<string, unknown> {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, note: 'Kafka, the registry and Redis run on the same machine' };
}

