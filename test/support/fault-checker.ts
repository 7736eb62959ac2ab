/**
 * The independent checker of the fault scenarios: topics and a catalog for a test config, a
 * reader of the forecast topic that keeps, per series, the newest input offset its forecasts
 * say they cover, and the checks every scenario makes: every acknowledged sale covered by a
 * later forecast of its series, and in state exactly once.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { parseSchema, RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import type { Config } from '../../src/ops/config.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { testKafka, testRedis } from './real-stack.js';

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
  readonly #covered = new Map<string, Map<number, bigint>>();
  #watcher: Consumer | null = null;

  private constructor(
    readonly config: Config,
    readonly catalog: SeriesInfo[],
  ) {
    this.kafka = testKafka(config);
    this.codec = new RegistrySchemaCodec(config.schemaRegistryUrl);
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

  async close(): Promise<void> {
    await this.#watcher?.disconnect();
  }
}
