/**
 * The independent checker of the fault scenarios: topics and a catalog for a test config, a
 * reader of the forecast topic that keeps, per series, the newest input offset its forecasts
 * say they cover, and the checks every scenario makes: every acknowledged sale covered by a
 * later forecast of its series, in state exactly once, and the whole state equal to a clean
 * run's (the same input records replayed into fresh topics and a fresh prefix by a processor
 * that meets no fault); duplicate forecasts counted; `/readyz` sampled through the fault.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { parseSchema, RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import type { Config } from '../../src/ops/config.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { startChildProcessor } from './child-processor.js';
import { privateNames, testKafka, testRedis } from './real-stack.js';

const WEEK_MS = 7 * 86_400_000;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sale the broker acknowledged: where it is, and how many units it carries. */
export interface AckedSale {
  seriesId: string;
  partition: number;
  offset: bigint;
  quantity: number;
}

export class FaultChecker {
  readonly kafka: Kafka;
  readonly codec: RegistrySchemaCodec;
  readonly acked: AckedSale[] = [];
  /** Forecasts read from the topic. */
  forecasts = 0;
  /** Forecasts of a series for exactly the same input offsets as an earlier one (re-published after a replay). */
  duplicates = 0;
  readonly #seen = new Set<string>();
  readonly #covered = new Map<string, Map<number, bigint>>();
  #watcher: Consumer | null = null;

  private constructor(
    readonly config: Config,
    readonly catalog: SeriesInfo[],
  ) {
    this.kafka = testKafka(config);
    this.codec = RegistrySchemaCodec.fromSettings(config);
  }

  /** Topics, schemas, the catalog in Redis, and the forecast reader running. */
  static async create(config: Config, catalog: SeriesInfo[]): Promise<FaultChecker> {
    const f = new FaultChecker(config, catalog);
    await setupTopicsWith(f.kafka, f.codec, config);
    const redis = await testRedis(config);
    await new RedisStateStore({ client: redis as never, prefix: config.redisPrefix, windowBuckets: 60, bucketMs: WEEK_MS }).putCatalog(catalog);
    await redis.quit();
    const reader = parseSchema(loadSchema('forecast-updated'));
    const w = f.kafka.consumer({ groupId: `${config.groupId}-watch`, retry: { retries: 100 } });
    await w.connect();
    await w.subscribe({ topic: config.topicForecasts, fromBeginning: true });
    await w.run({
      eachMessage: async ({ message }) => {
        f.forecasts++;
        const v = (await f.codec.decode(message.value!, reader)) as { seriesId: string; triggers: Array<{ topic: string; partition: number; offset: string }> };
        const id = `${v.seriesId}|${v.triggers.map((t) => `${t.topic}:${t.partition}@${t.offset}`).sort().join(',')}`;
        if (f.#seen.has(id)) f.duplicates++;
        else f.#seen.add(id);
        const m = f.#covered.get(v.seriesId) ?? new Map<number, bigint>();
        for (const t of v.triggers) if (t.topic === config.topicSales && BigInt(t.offset) > (m.get(t.partition) ?? -1n)) m.set(t.partition, BigInt(t.offset));
        f.#covered.set(v.seriesId, m);
      },
    });
    f.#watcher = w;
    return f;
  }

  /** The sales encoder of the test's topic (the registry's, as any producer's). */
  salesEncoder(): Promise<(v: unknown) => Buffer> {
    return this.codec.encoder(`${this.config.topicSales}-value`, loadSchema('sales'));
  }

  /** Acknowledged sales no forecast of their series covers yet. */
  lost(): AckedSale[] {
    return this.acked.filter((e) => (this.#covered.get(e.seriesId)?.get(e.partition) ?? -1n) < e.offset);
  }

  /** Wait until every acknowledged sale is covered (or the timeout); the ones still not covered. */
  async waitCovered(timeoutMs: number): Promise<AckedSale[]> {
    const end = Date.now() + timeoutMs;
    while (this.lost().length > 0 && Date.now() < end) await sleep(200);
    return this.lost();
  }

  /** Series whose units in state differ from the acknowledged sales' (each counted once). */
  async stateMismatch(): Promise<string[]> {
    const redis = await testRedis(this.config);
    const snaps = await new RedisStateStore({ client: redis as never, prefix: this.config.redisPrefix, windowBuckets: 60, bucketMs: WEEK_MS }).readSnapshots(this.catalog);
    await redis.quit();
    return snaps
      .filter((s) => [...s.sales.values()].reduce((t, q) => t + q, 0) !== this.acked.filter((e) => e.seriesId === s.seriesId).reduce((t, e) => t + e.quantity, 0))
      .map((s) => s.seriesId);
  }

  /** The clean run of this scenario's input (see compareWithCleanRun below). */
  compareWithCleanRun(): Promise<CleanRunComparison> {
    return compareWithCleanRun(this.config, this.catalog, this.kafka);
  }

  async close(): Promise<void> {
    await this.#watcher?.disconnect();
  }
}

/** Every key of a config's Redis prefix, the prefix stripped, with its canonical content. */
async function stateDump(c: Config): Promise<Map<string, string>> {
  const redis = await testRedis(c);
  const store = new RedisStateStore({ client: redis as never, prefix: c.redisPrefix, windowBuckets: 60, bucketMs: WEEK_MS });
  const dump = await store.dump();
  await redis.quit();
  return new Map(Object.entries(dump).map(([k, v]) => [k.slice(c.redisPrefix.length), JSON.stringify(v)]));
}

export interface CleanRunComparison {
  /** Keys compared (the union of both prefixes, prefix stripped). */
  keys: number;
  differing: string[];
  /** Input records replayed into the clean run. */
  records: number;
}

/**
 * The clean run: every record of the run's five input topics (duplicates written by retried
 * sends included: the same input), copied partition by partition in offset order into fresh
 * topics, with the same catalog in a fresh Redis prefix, processed by a `forecast-stream run`
 * that meets no fault until its group has committed every record and no forecast arrived for
 * 1.5 s;
 * then both Redis states compared key by key.
 */
export async function compareWithCleanRun(c: Config, catalog: SeriesInfo[], kafka: Kafka = testKafka(c)): Promise<CleanRunComparison> {
  const twinConfig: Config = { ...c, ...privateNames() };
  const twin = await FaultChecker.create(twinConfig, catalog);
  const pairs: Array<[string, string]> = [
    [c.topicSales, twinConfig.topicSales],
    [c.topicPromotions, twinConfig.topicPromotions],
    [c.topicWeather, twinConfig.topicWeather],
    [c.topicPrices, twinConfig.topicPrices],
    [c.topicCatalog, twinConfig.topicCatalog],
  ];
  let records = 0;
  for (const [from, to] of pairs) records += await copyTopic(kafka, from, to, from === c.topicSales ? twin.acked : []);
  const proc = await startChildProcessor(twinConfig);
  try {
    // every record committed means every record applied (or dead-lettered) and its forecasts
    // published: records are committed only after that
    await waitCommitted(kafka, twinConfig.groupId, pairs.map((p) => p[1]), 180_000).catch((err: Error) => {
      throw new Error(`${err.message}:\n${proc.log().slice(-2_000)}`);
    });
    // the last forecasts of the other topics' records: quiet for 1.5 s
    for (let last = -1; last !== twin.forecasts; ) {
      last = twin.forecasts;
      await sleep(1_500);
    }
  } finally {
    proc.child.kill('SIGTERM');
    await new Promise((r) => (proc.child.exitCode !== null ? r(null) : proc.child.once('exit', r)));
    await twin.close();
  }
  const [mine, clean] = await Promise.all([stateDump(c), stateDump(twinConfig)]);
  const keys = [...new Set([...mine.keys(), ...clean.keys()])].sort();
  return { keys: keys.length, differing: keys.filter((k) => mine.get(k) !== clean.get(k)), records };
}

/** Until the group has committed every record of these topics (or the timeout: an error). */
async function waitCommitted(kafka: Kafka, groupId: string, topics: string[], timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const end = Date.now() + timeoutMs;
    for (;;) {
      let behind = 0;
      for (const t of topics) {
        const ends = await admin.fetchTopicOffsets(t);
        const [done] = await admin.fetchOffsets({ groupId, topics: [t] });
        for (const e of ends) {
          const at = Number(done?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1);
          behind += Math.max(0, Number(e.high) - Math.max(at, Number(e.low)));
        }
      }
      if (behind === 0) return;
      if (Date.now() > end) throw new Error(`clean run: ${behind} input records still uncommitted after ${timeoutMs} ms`);
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }
}

/** Copy a topic's records (up to its current end) into another, same partitions, same order; sales also into `acked`. */
async function copyTopic(kafka: Kafka, from: string, to: string, acked: AckedSale[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(from);
  await admin.disconnect();
  const want = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, BigInt(e.high)]));
  const byPartition = new Map<number, Array<{ key: Buffer | null; value: Buffer | null }>>();
  if (want.size > 0) {
    const consumer = kafka.consumer({ groupId: `${to}-copy` });
    await consumer.connect();
    await consumer.subscribe({ topic: from, fromBeginning: true });
    const done = new Set<number>();
    let finished: () => void = () => undefined;
    const all = new Promise<void>((r) => (finished = r));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const list = byPartition.get(batch.partition) ?? [];
        byPartition.set(batch.partition, list);
        for (const m of batch.messages) if (BigInt(m.offset) < want.get(batch.partition)!) list.push({ key: m.key, value: m.value });
        const last = batch.messages.at(-1);
        if (last && BigInt(last.offset) + 1n >= want.get(batch.partition)!) done.add(batch.partition);
        if (done.size === want.size) finished();
      },
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`copy of ${from} did not reach its end in 120 s`)), 120_000).unref());
    await Promise.race([all, timeout]);
    await consumer.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let n = 0;
  for (const [partition, list] of byPartition) {
    for (let i = 0; i < list.length; i += 2_000) {
      const part = list.slice(i, i + 2_000);
      const [meta] = await producer.send({ topic: to, acks: -1, messages: part.map((m) => ({ partition, key: m.key, value: m.value })) });
      part.forEach((m, j) => acked.push({ seriesId: m.key!.toString(), partition, offset: BigInt(meta!.baseOffset!) + BigInt(j), quantity: 0 }));
      n += part.length;
    }
  }
  await producer.disconnect();
  return n;
}

/** `/readyz` of a processor polled every `everyMs`, the answers counted per named phase of a scenario. */
export class ReadyzSampler {
  readonly #counts = new Map<string, Record<string, number>>();
  #phase = 'before';
  #timer: NodeJS.Timeout | null = null;
  #busy = false;
  constructor(
    private port: number,
    private readonly everyMs = 500,
  ) {}

  start(): this {
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      const phase = this.#phase;
      void fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => String(r.status))
        .catch(() => 'unreachable')
        .then((status) => {
          const c = this.#counts.get(phase) ?? {};
          c[status] = (c[status] ?? 0) + 1;
          this.#counts.set(phase, c);
          this.#busy = false;
        });
    }, this.everyMs);
    return this;
  }

  /** From now on, answers count towards `name` (e.g. 'fault', 'recovering', 'after'). */
  phase(name: string, port?: number): void {
    this.#phase = name;
    if (port !== undefined) this.port = port;
  }

  /** Answers so far, per phase: status code (or 'unreachable') → count. */
  counts(): Record<string, Record<string, number>> {
    return Object.fromEntries(this.#counts);
  }

  stop(): Record<string, Record<string, number>> {
    if (this.#timer) clearInterval(this.#timer);
    return this.counts();
  }
}
