import { pino } from 'pino';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { nextGroupJoin } from '../../src/core/group-join.js';
import { RegistrySchemaCodec, parseSchema } from '../../src/core/schema-codec.js';
import { loadSchema, valueSubject } from '../../src/core/schemas.js';
import { Processor } from '../../src/main/processor.js';
import type { Config, ConfigInput } from '../../src/ops/config.js';
import type { Logger } from '../../src/ops/logger.js';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { InputProducer, inputTopics, type InputRecord } from '../../src/tools/input-producer.js';
import { deleteTopicsWith, setupTopicsWith } from '../../src/tools/setup-topics.js';
import type { DeadLetterView, ForecastView, InputTopic, PipelineDriver } from '../scenarios/pipeline-driver.js';
import { testConfig, testKafka } from './real-stack.js';

/** An alert as read back from the alerts topic. */
export interface AlertView {
  kind: string;
  severity: string;
  details: Record<string, string>;
  time: number;
}

/** The pipeline scenarios' driver on the real stack: Kafka, registry, Redis, ONNX worker. */
export class StackDriver implements PipelineDriver {
  readonly config: Config;
  readonly codec: RegistrySchemaCodec;
  processor: Processor | null = null;
  readonly #kafka;
  #producer: Producer | null = null;
  #input: InputProducer | null = null;
  #watchers: Consumer[] = [];
  readonly #forecasts: ForecastView[] = [];
  readonly #dead: DeadLetterView[] = [];
  readonly #alerts: AlertView[] = [];
  readonly #shadow: ForecastView[] = [];

  private constructor(overrides: ConfigInput) {
    this.config = testConfig(overrides);
    this.codec = RegistrySchemaCodec.fromSettings(this.config);
    this.#kafka = testKafka(this.config);
  }

  /** options.alerts: also read the alerts topic back (alerts()); a topicShadow is read back too (shadowForecasts()). */
  static async create(overrides: ConfigInput = {}, options: { alerts?: boolean } = {}): Promise<StackDriver> {
    const d = new StackDriver(overrides);
    await setupTopicsWith(d.#kafka, d.codec, d.config);
    d.#producer = d.#kafka.producer({ allowAutoTopicCreation: false });
    await d.#producer.connect();
    const c = d.config;
    d.#input = new InputProducer(d.#producer, d.codec, inputTopics(c));
    const reader = parseSchema(loadSchema('forecast-updated'));
    await d.#watch(c.topicForecasts, async (value) => {
      d.#forecasts.push((await d.codec.decode(value, reader)) as ForecastView);
    });
    await d.#watch(c.topicDeadLetter, async (value, headers) => {
      d.#dead.push({ value, headers });
    });
    if (c.topicShadow) {
      await d.#watch(c.topicShadow, async (value) => {
        d.#shadow.push((await d.codec.decode(value, reader)) as ForecastView);
      });
    }
    if (options.alerts) {
      const alertReader = parseSchema(loadSchema('alert'));
      await d.#watch(c.topicAlerts, async (value) => {
        d.#alerts.push((await d.codec.decode(value, alertReader)) as AlertView);
      });
    }
    return d;
  }

  /** The test's Kafka client (for tools that take one, such as the dead-letter replay). */
  get kafka(): Kafka {
    return this.#kafka;
  }

  /** Start (or restart) an in-process processor on this driver's topics. */
  async startProcessor(log: Logger = pino({ level: process.env.FS_TEST_LOG ?? 'error' })): Promise<Processor> {
    this.processor = new Processor({ config: this.config, log });
    await this.processor.start();
    return this.processor;
  }

  /** Put the catalog in Redis; starts the processor (with `log` if given) or makes it reload. */
  async loadCatalog(series: SeriesInfo[], log?: Logger): Promise<void> {
    const { storeFor } = await import('../../src/cli/cli-context.js');
    const store = await storeFor(this.config);
    await store.putCatalog(series);
    await store.close();
    if (!this.processor) await this.startProcessor(log);
    else await this.processor.reloadCatalog();
  }

  async send(records: InputRecord[]): Promise<void> {
    await this.#input!.send(records);
  }

  async sendRaw(topic: InputTopic, value: Buffer): Promise<void> {
    const name = { sales: this.config.topicSales, promotions: this.config.topicPromotions, weather: this.config.topicWeather }[topic];
    await this.#producer!.send({ topic: name, messages: [{ key: 'raw', value }], acks: -1 });
  }

  async encodeWith(topic: InputTopic, schema: object, value: unknown): Promise<Buffer> {
    const name = { sales: this.config.topicSales, promotions: this.config.topicPromotions, weather: this.config.topicWeather }[topic];
    return (await this.codec.encoder(valueSubject(name), schema))(value);
  }

  async waitForForecasts(until: (all: ForecastView[]) => boolean, timeoutMs = 30_000): Promise<ForecastView[]> {
    const end = Date.now() + timeoutMs;
    while (!until(this.#forecasts) && Date.now() < end) await sleep(50);
    return [...this.#forecasts];
  }

  async waitForDeadLetters(count: number, timeoutMs = 30_000): Promise<DeadLetterView[]> {
    const end = Date.now() + timeoutMs;
    while (this.#dead.length < count && Date.now() < end) await sleep(50);
    return [...this.#dead];
  }

  /** Quiet for 1.5 s: no new forecast arrived and the batcher is empty. */
  async quiesce(): Promise<void> {
    let seen = -1;
    let quietSince = Date.now();
    for (;;) {
      if (this.#forecasts.length !== seen) {
        seen = this.#forecasts.length;
        quietSince = Date.now();
      }
      if (Date.now() - quietSince >= 1_500) return;
      await sleep(100);
    }
  }

  forecasts(): ForecastView[] {
    return [...this.#forecasts];
  }

  /** Alerts read back from the alerts topic, in order. */
  alerts(): AlertView[] {
    return [...this.#alerts];
  }

  /** What a version in shadow published to the config's topicShadow. */
  shadowForecasts(): ForecastView[] {
    return [...this.#shadow];
  }

  async waitForState(until: (dump: unknown) => boolean, timeoutMs = 30_000): Promise<unknown> {
    const end = Date.now() + timeoutMs;
    let dump = await this.dumpState();
    while (!until(dump) && Date.now() < end) {
      await sleep(100);
      dump = await this.dumpState();
    }
    return dump;
  }

  modelInputs(): readonly string[] {
    return (this.processor!.status() as { model: { inputs: string[] } }).model.inputs;
  }

  async dumpState(): Promise<unknown> {
    return this.processor!.store.dump();
  }

  async close(): Promise<void> {
    await this.processor?.stop();
    for (const w of this.#watchers) await w.disconnect().catch(() => undefined);
    await this.#producer?.disconnect().catch(() => undefined);
    const { storeFor } = await import('../../src/cli/cli-context.js');
    const store = await storeFor(this.config);
    await store.clearAll();
    await store.close();
    await deleteTopicsWith(this.#kafka, this.config);
  }

  async #watch(topic: string, onValue: (value: Buffer, headers: Record<string, string>) => Promise<void>): Promise<void> {
    const consumer = this.#kafka.consumer({ groupId: `${this.config.groupId}-watch-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const joined = nextGroupJoin(consumer);
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        if (message.value) await onValue(message.value, headers);
      },
    });
    await joined;
    this.#watchers.push(consumer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
