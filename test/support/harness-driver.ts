import { AffectedBatcher, type BatchingEvents } from '../../src/batching/affected-batcher.js';
import { loadSchema } from '../../src/core/schemas.js';
import { parseSchema } from '../../src/core/schema-codec.js';
import { TypedEmitter } from '../../src/core/typed-emitter.js';
import type { RawRecord } from '../../src/ingest/input-events.js';
import { RecordProcessor, inputReaders, type IngestEvents } from '../../src/ingest/record-processor.js';
import { Forecaster, type FallbackModel } from '../../src/inference/forecaster.js';
import { ModelGuard, type InferenceEvents } from '../../src/inference/model-guard.js';
import { DeadLetterPublisher } from '../../src/publish/dead-letter-publisher.js';
import { ForecastPublisher, type PublishEvents } from '../../src/publish/forecast-publisher.js';
import type { MessageProducer, OutgoingMessage } from '../../src/publish/message-producer.js';
import { Catalog } from '../../src/state/catalog.js';
import { MemoryStateStore } from '../../src/state/memory-state-store.js';
import type { SeriesInfo } from '../../src/state/state-types.js';
import type { InputRecord } from '../../src/tools/input-producer.js';
import type { DeadLetterView, ForecastView, InputTopic, PipelineDriver } from '../scenarios/pipeline-driver.js';
import { FakePrimaryModel, flatFallback } from './fake-models.js';
import { InMemoryCodec } from './in-memory-codec.js';
import { ManualClock, settle } from './manual-clock.js';

const WEEK_MS = 7 * 86_400_000;
const SCHEMA_OF = { sales: 'sales', promotions: 'promotion', weather: 'weather', prices: 'price', catalog: 'catalog' } as const;

/**
 * The pipeline harness (Kafka Streams' TopologyTestDriver in spirit): ingest -> state ->
 * batching -> inference -> publish, wired like main but with in-memory fakes for Kafka
 * (a producer that keeps what it is sent), the registry and Redis, and a manual clock.
 * Records go in, Avro forecast-updated and dead-letter records come out, fast.
 */
export class HarnessDriver implements PipelineDriver {
  readonly clock = new ManualClock(Date.now());
  readonly codec = new InMemoryCodec();
  readonly store = new MemoryStateStore({ windowBuckets: 60, bucketMs: WEEK_MS });
  readonly catalog = new Catalog();
  readonly model: FakePrimaryModel;
  readonly events = {
    ingest: new TypedEmitter<IngestEvents>(),
    batching: new TypedEmitter<BatchingEvents>(),
    inference: new TypedEmitter<InferenceEvents>(),
  };
  /** What the publish stage sent, per topic, as a broker would hold it. */
  readonly sent = new Map<string, OutgoingMessage[]>();
  readonly #forecastReader = parseSchema(loadSchema('forecast-updated'));
  #decoded: ForecastView[] = [];
  readonly guard: ModelGuard;
  readonly batcher: AffectedBatcher;
  readonly processor: RecordProcessor;
  readonly #offsets = new Map<string, number>();
  readonly #pendingAdds: Array<Promise<void>> = [];

  constructor(options: { model?: FakePrimaryModel; fallback?: FallbackModel; batchMaxSize?: number; batchMaxDelayMs?: number } = {}) {
    this.model = options.model ?? new FakePrimaryModel();
    this.guard = new ModelGuard({
      model: this.model,
      timeoutMs: 1_000,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 60_000,
      volumeThreshold: 2,
      driftPsiThreshold: 0.25,
      driftWindow: 100, driftConsecutive: 1,
      events: this.events.inference,
    });
    const forecaster = new Forecaster({
      store: this.store,
      catalog: this.catalog,
      guard: this.guard,
      fallback: options.fallback ?? flatFallback,
      bucketSize: 'week',
      clock: this.clock,
      events: this.events.inference,
    });
    const producer: MessageProducer = {
      send: async ({ topic, messages }) => {
        const list = this.sent.get(topic) ?? [];
        list.push(...messages);
        this.sent.set(topic, list);
      },
    };
    const publishEvents = new TypedEmitter<PublishEvents>();
    const publisherReady = this.codec.encoder('forecast-updated-value', loadSchema('forecast-updated')).then(
      (encode) => new ForecastPublisher(producer, 'forecast-updated', encode, publishEvents),
    );
    this.batcher = new AffectedBatcher({
      maxSize: options.batchMaxSize ?? 64,
      maxDelayMs: options.batchMaxDelayMs ?? 10,
      capacity: 10_000,
      maxInFlight: 2,
      maxTriggers: 8,
      clock: this.clock,
      events: this.events.batching,
      handle: async (batch) => {
        await (await publisherReady).publish(await forecaster.forecast(batch));
      },
    });
    this.processor = new RecordProcessor({
      codec: this.codec,
      readers: inputReaders(),
      topics: { sales: 'sales', promotions: 'promotions', weather: 'weather', prices: 'prices', catalog: 'catalog' },
      catalog: this.catalog,
      store: this.store,
      deadLetters: new DeadLetterPublisher(producer, 'dead-letter', publishEvents),
      policy: 'dlq',
      bucketSize: 'week',
      maxFutureMs: 2 * 86_400_000,
      clock: this.clock,
      events: this.events.ingest,
    });
  }

  async loadCatalog(series: SeriesInfo[]): Promise<void> {
    await this.store.putCatalog(series);
    for (const s of series) this.catalog.add(s);
  }

  async send(records: InputRecord[]): Promise<void> {
    const raw: RawRecord[] = [];
    for (const r of records) {
      const enc = await this.codec.encoder(`${r.topic}-value`, loadSchema(SCHEMA_OF[r.topic]));
      raw.push(this.#raw(r.topic, enc(r.value)));
    }
    await this.#process(raw);
  }

  async sendRaw(topic: InputTopic, value: Buffer): Promise<void> {
    await this.#process([this.#raw(topic, value)]);
  }

  async encodeWith(topic: InputTopic, schema: object, value: unknown): Promise<Buffer> {
    return (await this.codec.encoder(`${topic}-value`, schema))(value);
  }

  async waitForForecasts(until: (all: ForecastView[]) => boolean): Promise<ForecastView[]> {
    for (let i = 0; i < 100 && !until(this.forecasts()); i++) {
      this.clock.advance(50);
      await settle();
    }
    return this.forecasts();
  }

  async waitForDeadLetters(): Promise<DeadLetterView[]> {
    await settle();
    return (this.sent.get('dead-letter') ?? []).map((m) => ({ value: m.value, headers: m.headers ?? {} }));
  }

  async quiesce(): Promise<void> {
    for (let i = 0; i < 10; i++) {
      this.clock.advance(100);
      await settle();
    }
    await Promise.all(this.#pendingAdds);
  }

  /** The forecast-updated records the publish stage produced, decoded as a consumer would. */
  forecasts(): ForecastView[] {
    const raw = this.sent.get('forecast-updated') ?? [];
    for (let i = this.#decoded.length; i < raw.length; i++) {
      const value = raw[i]!.value;
      // the in-memory codec decodes synchronously under its async signature
      this.#decoded.push(this.#forecastReader.fromBuffer(value.subarray(5)) as ForecastView);
    }
    return this.#decoded;
  }

  async dumpState(): Promise<unknown> {
    return this.store.dump();
  }

  async waitForState(until: (dump: unknown) => boolean): Promise<unknown> {
    // in-memory and synchronous once a send returned: no waiting needed
    const dump = await this.store.dump();
    if (!until(dump)) throw new Error('state does not satisfy the condition');
    return dump;
  }

  modelInputs(): readonly string[] {
    return this.model.inputs;
  }

  async close(): Promise<void> {
    await this.quiesce();
    this.guard.shutdown();
  }

  #raw(topic: string, value: Buffer): RawRecord {
    const offset = this.#offsets.get(topic) ?? 0;
    this.#offsets.set(topic, offset + 1);
    return { topic, partition: 0, offset: String(offset), key: null, value };
  }

  async #process(records: RawRecord[]): Promise<void> {
    // one chunk per topic, in order, like the consumer runner does per partition
    const byTopic = new Map<string, RawRecord[]>();
    for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    for (const chunk of byTopic.values()) {
      const result = await this.processor.process(chunk);
      this.#pendingAdds.push(this.batcher.add(result.affected));
    }
  }
}

