import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { Kafka, logLevel as kafkaLogLevel, type Consumer, type Producer } from 'kafkajs';
import { AffectedBatcher, type BatchingEvents } from '../batching/affected-batcher.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ForecastError } from '../core/errors.js';
import { isKafkaAuthFailure, kafkaAuthError, kafkaConnection } from '../core/kafka-connection.js';
import { readSecretFile } from '../core/secret-file.js';
import { RegistrySchemaCodec, type SchemaCodec } from '../core/schema-codec.js';
import { loadSchema, valueSubject } from '../core/schemas.js';
import { TypedEmitter } from '../core/typed-emitter.js';
import { ConsumerRunner } from '../ingest/consumer-runner.js';
import { RecordProcessor, inputReaders, type IngestEvents } from '../ingest/record-processor.js';
import { bucketLengthMs } from '../inference/features/bucket-clock.js';
import type { Forecast, PrimaryModel } from '../inference/forecast.js';
import { Forecaster, type FallbackModel } from '../inference/forecaster.js';
import { ModelGuard, type InferenceEvents } from '../inference/model-guard.js';
import type { LifecycleEvents, RolloutPolicy } from '../inference/serving-models.js';
import { checkParity } from '../inference/model/parity-check.js';
import { WhatIf, WhatIfError } from '../inference/what-if.js';
import type { Config } from '../ops/config.js';
import { startHealthServer } from '../ops/health-server.js';
import { redactUrl } from '../core/redact.js';
import { LagMonitor } from '../ops/lag-monitor.js';
import type { Logger } from '../ops/logger.js';
import { explorerApi } from '../ops/explorer-api.js';
import { PipelineMetrics } from '../ops/metrics.js';
import { OpsHistory } from '../ops/ops-history.js';
import { RecentForecasts } from '../ops/recent-forecasts.js';
import { loadUiAssets } from '../ops/ui-assets.js';
import { AlertPublisher } from '../publish/alert-publisher.js';
import { DeadLetterPublisher } from '../publish/dead-letter-publisher.js';
import { ForecastPublisher, type PublishEvents } from '../publish/forecast-publisher.js';
import { TransactionalProducer } from '../publish/transactional-producer.js';
import { Catalog } from '../state/catalog.js';
import { stateRedis, type StateRedis } from '../state/redis-connection.js';
import { RedisStateStore } from '../state/redis-state-store.js';
import type { StateStore } from '../state/state-types.js';
import { findStartupArtifact, loadFallbackModel, loadPrimaryModel, modelSettings, olderUsableArtifact, type ModelSettings } from './models.js';
import { ModelLifecycle } from './model-lifecycle.js';
import { OnlineAccuracy, type AccuracyEvents } from '../accuracy/online-accuracy.js';
import { RedisPendingForecasts } from '../accuracy/pending-forecasts.js';
import { seriesBucket } from '../core/series-hash.js';

/** Start-up dependency failures name the service, its setting and the usual fix. */
async function unavailable<T>(p: Promise<T>, code: 'KAFKA_UNAVAILABLE' | 'STATE_UNAVAILABLE' | 'REGISTRY_UNAVAILABLE', what: string): Promise<T> {
  try {
    return await p;
  } catch (cause) {
    if (cause instanceof ForecastError) throw cause; // already says what is wrong and how to fix it
    throw new ForecastError(code, `${what}: ${(cause as Error).message}; is it running? (\`make up\` starts the local stack)`, { retriable: true, cause });
  }
}

/** Stage event emitters; metrics, logs and the demo summary subscribe to them. */
export interface ProcessorEmitters {
  ingest: TypedEmitter<IngestEvents>;
  batching: TypedEmitter<BatchingEvents>;
  inference: TypedEmitter<InferenceEvents>;
  publish: TypedEmitter<PublishEvents>;
  lifecycle: TypedEmitter<LifecycleEvents>;
  accuracy: TypedEmitter<AccuracyEvents>;
}

export interface ProcessorDeps {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** Start the consumer (false: only the forecasting path, for `refresh`). */
  consume?: boolean;
  /**
   * Ingest stopped for good (FS_BAD_INPUT=fail hit a bad record, or the consumer cannot
   * restart): the processor is already not ready and not live. `run` exits non-zero here.
   */
  onFatal?: (err: Error) => void;
}

/**
 * The one place that constructs and wires the pipeline: Kafka, registry, Redis, model,
 * stages, metrics and probes. Components get their collaborators passed in. start() and
 * stop() are idempotent; stop() runs in reverse order: stop consuming, drain the batcher
 * (publish what was affected, commit it), then close producer, model and Redis.
 */
export class Processor {
  readonly events: ProcessorEmitters = {
    ingest: new TypedEmitter(),
    batching: new TypedEmitter(),
    inference: new TypedEmitter(),
    publish: new TypedEmitter(),
    lifecycle: new TypedEmitter(),
    accuracy: new TypedEmitter(),
  };
  readonly config: Config;
  readonly catalog = new Catalog();
  readonly metrics: PipelineMetrics;
  /** The last forecasts per series and the operations history the explorer page (/ui) shows. */
  readonly recent = new RecentForecasts();
  readonly ops: OpsHistory;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #consume: boolean;
  readonly #onFatal: ((err: Error) => void) | undefined;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #kafka!: Kafka;
  #producer!: Producer;
  /** FS_EXACTLY_ONCE: the forecasts' transactional producer, and its epochs. */
  #txProducer: Producer | null = null;
  #transactions: TransactionalProducer | null = null;
  #consumer: Consumer | null = null;
  #redis!: StateRedis;
  #store!: StateStore;
  #codec!: SchemaCodec;
  #lifecycle: ModelLifecycle | null = null;
  #accuracy: OnlineAccuracy | null = null;
  #settings: ModelSettings | null = null;
  #forecaster!: Forecaster;
  #publisher!: ForecastPublisher;
  /** FS_TOPIC_SHADOW's publisher (a version in shadow's forecasts), or null. */
  #shadowPublisher: ForecastPublisher | null = null;
  #batcher!: AffectedBatcher;
  #runner: ConsumerRunner | null = null;
  #whatIf: WhatIf | null = null;
  #health: Server | null = null;
  #lag: LagMonitor | null = null;
  #catalogTimer: NodeJS.Timeout | null = null;
  #startPromise: Promise<void> | null = null;
  #stopPromise: Promise<void> | null = null;

  constructor(deps: ProcessorDeps) {
    this.config = deps.config;
    this.#log = deps.log;
    this.#clock = deps.clock ?? systemClock;
    this.#consume = deps.consume ?? true;
    this.#onFatal = deps.onFatal;
    this.metrics = new PipelineMetrics(this.events);
    this.ops = new OpsHistory(this.events, () => this.#clock.now());
    this.#logEvents();
  }

  /** The live primary model (tests reach its fault hooks through it). */
  get primaryModel(): PrimaryModel | null {
    return this.#model;
  }

  get #model(): PrimaryModel | null {
    return this.#lifecycle?.liveModel ?? null;
  }

  get #guard(): ModelGuard | null {
    return this.#lifecycle?.live ?? null;
  }

  /** Online accuracy against actuals (null with FS_ACCURACY=false). */
  get accuracy(): OnlineAccuracy | null {
    return this.#accuracy;
  }

  /** The model lifecycle: live, previous and candidate versions (hot swap, shadow, canary, rollback). */
  get lifecycle(): ModelLifecycle | null {
    return this.#lifecycle;
  }

  get forecaster(): Forecaster {
    return this.#forecaster;
  }

  get publisher(): ForecastPublisher {
    return this.#publisher;
  }

  get store(): StateStore {
    return this.#store;
  }

  start(): Promise<void> {
    this.#startPromise ??= this.#start();
    return this.#startPromise;
  }

  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #start(): Promise<void> {
    const c = this.config;
    this.#state = 'starting';
    this.#kafka = new Kafka({
      clientId: c.kafkaClientId,
      ...kafkaConnection(c),
      logLevel: kafkaLogLevel.WARN,
      logCreator: () => (entry) => this.#log.warn({ kafka: entry.namespace, ...entry.log }, String(entry.log.message)),
    });
    // idempotent producer: a retried send cannot duplicate a forecast on the broker
    this.#producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    // exactly-once: the forecasts get a transactional producer of their own (alerts, dead letters
    // and shadow forecasts stay on the plain one: a transactional producer sends only in transactions)
    if (c.exactlyOnce) {
      const transactionalId = c.transactionalId || `${c.groupId}-${hostname()}`;
      this.#txProducer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, transactionalId, transactionTimeout: Math.max(10_000, 20 * c.commitIntervalMs) });
    }
    for (const p of [this.#producer, this.#txProducer]) {
      if (!p) continue;
      await unavailable(
        p.connect().catch((err: unknown) => {
          throw isKafkaAuthFailure(err) ? kafkaAuthError(c, err) : err;
        }),
        'KAFKA_UNAVAILABLE',
        `cannot reach Kafka at ${c.kafkaBrokers.join(',')} (FS_KAFKA_BROKERS) over ${c.kafkaSecurityProtocol}`,
      );
    }

    // commandTimeout: a Redis that hangs (no reply) fails commands like one that is down, instead of stalling for ever
    this.#redis = stateRedis(c, { maxRetriesPerRequest: 3, enableAutoPipelining: false, lazyConnect: true, commandTimeout: 10_000 });
    // ioredis reconnects by itself and emits an error per attempt: log them, at most one per 5 s
    let lastRedisError = 0;
    let lastRedisReason = '';
    this.#redis.on('error', (err: Error) => {
      lastRedisReason = err.message;
      if (Date.now() - lastRedisError < 5_000) return;
      lastRedisError = Date.now();
      this.#log.warn({ err: err.message, redis: redactUrl(c.redisUrl) }, 'Redis connection error; reconnecting');
    });
    const refusedCredentials = /^(WRONGPASS|NOAUTH|NOPERM)\b/;
    await unavailable(
      this.#redis.connect().catch((err: Error) => {
        // ioredis reports an AUTH refusal as an error event and rejects with "Connection is closed"
        if (refusedCredentials.test(lastRedisReason)) {
          throw new ForecastError('CONFIG_INVALID', `Redis at ${redactUrl(c.redisUrl)} (FS_REDIS_URL) refused the credentials: ${lastRedisReason} — check the user in FS_REDIS_URL and the password (FS_REDIS_URL or FS_REDIS_PASSWORD_FILE)`, { field: 'redisUrl', cause: err });
        }
        throw lastRedisReason && lastRedisReason !== err.message ? new Error(`${err.message} (${lastRedisReason})`) : err;
      }),
      'STATE_UNAVAILABLE',
      `cannot reach Redis at ${redactUrl(c.redisUrl)} (FS_REDIS_URL)`,
    );
    // the model decides bucket size, horizons and the window (explicit settings must agree)
    const { artifact: firstArtifact, skipped } = await findStartupArtifact(c);
    let artifact = firstArtifact;
    const settings = modelSettings(c, artifact);
    this.#settings = settings;
    this.#store = new RedisStateStore({ client: this.#redis as never, prefix: c.redisPrefix, windowBuckets: settings.windowBuckets, bucketMs: bucketLengthMs(settings.bucketSize) });
    await this.reloadCatalog();
    this.#catalogTimer = setInterval(() => void this.reloadCatalog().catch((err: Error) => this.#log.warn({ err }, 'catalog reload failed')), 15_000);
    this.#catalogTimer.unref();

    this.#codec = RegistrySchemaCodec.fromSettings(c);
    const forecastEncoder = await unavailable(
      this.#codec.encoder(valueSubject(c.topicForecasts), loadSchema('forecast-updated')),
      'REGISTRY_UNAVAILABLE',
      `cannot register schemas at ${redactUrl(c.schemaRegistryUrl)} (FS_SCHEMA_REGISTRY_URL)`,
    );
    const alertEncoder = await this.#codec.encoder(valueSubject(c.topicAlerts), loadSchema('alert'));
    if (c.topicShadow) {
      // the same record as forecast-updated; its own events (not counted as published forecasts)
      const shadowEncoder = await this.#codec.encoder(valueSubject(c.topicShadow), loadSchema('forecast-updated'));
      this.#shadowPublisher = new ForecastPublisher(this.#producer, c.topicShadow, shadowEncoder, new TypedEmitter<PublishEvents>());
    }

    // a lost inference worker is respawned by the model; say it on the alerts topic (wired below)
    let workerEvent: (e: { kind: 'lost' | 'restarted'; reason: string; restarts: number }) => void = () => undefined;
    // a version whose worker cannot load it is passed over like a corrupt artifact (older ones next)
    let model: PrimaryModel;
    for (;;) {
      try {
        model = await loadPrimaryModel(c, artifact, this.#log, (e) => workerEvent(e));
        // its parity vectors: this runtime must compute what training computed (a first run, so
        // a generous timeout: a GPU provider may build its kernels now)
        const parity = await checkParity(model, artifact.dir, Math.max(30_000, 5 * c.modelTimeoutMs)).catch((err: Error) => err.message);
        if (!parity) break;
        await model.close().catch(() => undefined);
        throw new Error(parity);
      } catch (err) {
        skipped.push({ version: artifact.metadata.version, reason: (err as Error).message });
        const next = await olderUsableArtifact(c, artifact, settings, skipped);
        if (!next) throw err;
        artifact = next;
      }
    }
    const fallback: FallbackModel = loadFallbackModel();
    const makeGuard = (m: PrimaryModel, o: { events: TypedEmitter<InferenceEvents>; driftBaseline?: readonly number[] | null; onDrift?: (psi: number) => boolean; onOpen?: (reason: string) => void }) =>
      new ModelGuard({
        model: m,
        timeoutMs: c.modelTimeoutMs,
        errorThresholdPercentage: c.breakerErrorPercent,
        resetTimeoutMs: c.breakerResetMs,
        volumeThreshold: c.breakerVolume,
        driftPsiThreshold: c.driftPsiThreshold,
        driftWindow: c.driftWindow,
        driftConsecutive: c.driftConsecutive,
        ...o,
      });
    this.#lifecycle = new ModelLifecycle({
      config: c,
      settings,
      live: { artifact, model },
      loadModel: (a) => loadPrimaryModel(c, a, this.#log, (e) => workerEvent(e)),
      makeGuard,
      inferenceEvents: this.events.inference,
      sample: () => this.#liveSample(),
      events: this.events.lifecycle,
      clock: this.#clock,
      log: this.#log,
      ...(this.#shadowPublisher ? { publishShadow: (fs: Forecast[]) => this.#publishShadow(fs) } : {}),
      // a canary's forecasts scored against actuals during the canary, against the live version's
      ...(c.accuracy ? { accuracy: () => this.#accuracy?.totals() ?? new Map() } : {}),
    });
    if (c.accuracy) {
      const bucketMs = bucketLengthMs(settings.bucketSize);
      this.#accuracy = new OnlineAccuracy({
        pending: new RedisPendingForecasts({ client: this.#redis, prefix: c.redisPrefix, ttlMs: (settings.horizons + c.accuracyCloseDelay + 2) * bucketMs }),
        horizons: settings.horizons,
        closeDelay: c.accuracyCloseDelay,
        window: c.accuracyWindow ?? (settings.bucketSize === 'day' ? 7 : 4),
        margin: c.accuracyMargin,
        minPairs: c.accuracyMinPairs,
        ...(c.accuracySamplePercent < 100 ? { sample: (id: string) => seriesBucket(id) < c.accuracySamplePercent } : {}),
        events: this.events.accuracy,
      });
      this.metrics.attachAccuracy(() => this.#accuracy?.cells() ?? []);
    }
    this.#forecaster = new Forecaster({
      store: this.#store,
      catalog: this.catalog,
      onServed: (groups) => this.#accuracy?.observe(groups),
      models: this.#lifecycle,
      fallback,
      bucketSize: settings.bucketSize,
      clock: this.#clock,
      events: this.events.inference,
    });
    if (this.#txProducer) this.#transactions = new TransactionalProducer(this.#txProducer, c.groupId);
    this.#publisher = new ForecastPublisher(this.#transactions ?? this.#producer, c.topicForecasts, forecastEncoder, this.events.publish);
    const alerts = new AlertPublisher(this.#producer, c.topicAlerts, alertEncoder, this.events.publish, () => this.#clock.now());
    this.#wireAlerts(alerts);
    workerEvent = ({ kind, reason, restarts }) =>
      void alerts
        .publish({ kind: kind === 'lost' ? 'model-worker-lost' : 'model-worker-restarted', severity: kind === 'lost' ? 'critical' : 'info', details: { reason, restarts: String(restarts), model: this.#model!.name } })
        .catch((err: Error) => this.#log.warn({ err }, 'alert not sent'));
    void alerts
      .publish({ kind: 'model-loaded', severity: 'info', details: { model: model.name, version: model.version, provider: model.provider } })
      .catch((err: Error) => this.#log.warn({ err }, 'alert not sent'));
    // versions passed over at start: the process serves the newest good one instead of crash-looping
    for (const sk of skipped) {
      this.#log.error({ version: sk.version, reason: sk.reason, serving: model.version }, 'model version unusable at start; serving the newest good version');
      void alerts
        .publish({ kind: 'model-rejected', severity: 'critical', details: { model: model.name, version: sk.version, check: 'startup', reason: sk.reason.slice(0, 500), serving: model.version } })
        .catch((err: Error) => this.#log.warn({ err }, 'alert not sent'));
    }
    this.metrics.modelPhase.set({ version: model.version, role: 'live' }, 1);
    // a live version whose accuracy against actuals degrades is rolled back to the previous one
    // while that is still loaded (the lifecycle keeps it until the next promotion)
    this.events.accuracy.on('degraded', ({ version, rollingWape, firstWape }) => {
      if (!this.config.accuracyRollback || !this.#lifecycle) return;
      const r = this.#lifecycle.accuracyDegraded(version, `online accuracy degraded: rolling WAPE ${rollingWape.toFixed(3)} against its first window's ${firstWape.toFixed(3)}`);
      if (!r.ok) this.#log.warn({ version, reason: r.reason }, 'accuracy degraded; not rolled back');
    });
    this.#lifecycle.start();

    this.#batcher = new AffectedBatcher({
      maxSize: c.batchMaxSize,
      maxDelayMs: c.batchMaxDelayMs,
      capacity: c.batchCapacity,
      maxInFlight: c.batchMaxInFlight,
      maxTriggers: c.triggersPerForecast,
      clock: this.#clock,
      events: this.events.batching,
      handle: async (batch) => {
        const forecasts = await this.#forecaster.forecast(batch);
        const oldest = batch.reduce((m, b) => Math.min(m, b.enqueuedAt), Number.POSITIVE_INFINITY);
        await this.#publisher.publish(forecasts, Number.isFinite(oldest) ? this.#clock.now() - oldest : null);
        this.recent.add(forecasts);
      },
    });

    this.#whatIf = new WhatIf({ forecaster: this.#forecaster, catalog: this.catalog, bucketSize: settings.bucketSize, batchSize: c.batchMaxSize });
    if (c.metricsPort > 0) {
      const get = explorerApi({ catalog: this.catalog, forecaster: this.#forecaster, recent: this.recent, ops: this.ops, bucketSize: settings.bucketSize, status: () => this.status(), now: () => this.#clock.now() });
      this.#health = await startHealthServer(c.metricsPort, this.metrics.registry, this.#healthSource(), { '/v1/what-if': (body) => this.whatIf(body), '/v1/models': (body) => this.modelControl(body) }, { get, assets: loadUiAssets(), host: c.httpHost, token: adminToken(c) });
    }

    if (this.#consume) {
      // the input topics, in one place: the consumer, its record processor and the lag monitor read them
      const inputs = { sales: c.topicSales, promotions: c.topicPromotions, weather: c.topicWeather, prices: c.topicPrices, catalog: c.topicCatalog };
      const processor = new RecordProcessor({
        codec: this.#codec,
        readers: inputReaders(),
        topics: inputs,
        catalog: this.catalog,
        store: this.#store,
        deadLetters: new DeadLetterPublisher(this.#producer, c.topicDeadLetter, this.events.publish),
        policy: c.badInputPolicy,
        bucketSize: settings.bucketSize,
        reforecastOn: {
          prices: model.inputs.includes('prices'),
          promotions: model.inputs.includes('promotions'),
          weather: model.inputs.includes('weather'),
        },
        maxFutureMs: c.maxFutureMs,
        clock: this.#clock,
        events: this.events.ingest,
      });
      this.#consumer = this.#kafka.consumer({ groupId: c.groupId, sessionTimeout: c.kafkaSessionTimeoutMs, heartbeatInterval: Math.min(3_000, Math.floor(c.kafkaSessionTimeoutMs / 3)), allowAutoTopicCreation: false });
      this.#runner = new ConsumerRunner({
        consumer: this.#consumer,
        topics: Object.values(inputs),
        processor,
        batcher: this.#batcher,
        chunkSize: 2_000,
        partitionsConsumedConcurrently: c.inputPartitions * 4,
        heartbeatMs: 2_000,
        fromBeginning: c.fromBeginning,
        commitIntervalMs: c.commitIntervalMs,
        maxOutstandingChunks: 8,
        ...(this.#transactions ? { transaction: this.#transactions } : {}),
        log: this.#log,
        events: this.events.ingest,
        onFatal: (err) => {
          this.#log.error({ err: err.message }, 'ingest stopped for good: not ready, not live');
          this.#onFatal?.(err);
        },
      });
      await this.#runner.start();
      this.#lag = new LagMonitor(this.#kafka.admin(), c.groupId, Object.values(inputs), this.metrics.registry);
      await this.#lag.start();
    }
    this.#state = 'running';
    this.#log.info(
      { model: model.name, version: model.version, executionProvider: model.provider, series: this.catalog.size, consume: this.#consume },
      'forecast-stream processor started',
    );
  }

  async #stop(): Promise<void> {
    if (this.#startPromise) await this.#startPromise.catch(() => undefined);
    this.#state = 'stopping';
    await this.#lag?.stop();
    await this.#runner?.stop().catch((err: Error) => this.#log.warn({ err }, 'consumer stop failed'));
    await this.#batcher?.stop().catch((err: Error) => this.#log.warn({ err }, 'batcher drain failed'));
    if (this.#catalogTimer) clearInterval(this.#catalogTimer);
    await this.#producer?.disconnect().catch(() => undefined);
    // an epoch not committed by now is aborted by the broker (its records replay on the next start)
    await this.#txProducer?.disconnect().catch(() => undefined);
    await this.#lifecycle?.close();
    // the last scoring rounds (bounded: Redis may be the reason we stop)
    if (this.#accuracy) await Promise.race([this.#accuracy.settled(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    if (this.#redis) await this.#redis.quit().catch(() => undefined);
    if (this.#health) await new Promise<void>((r) => this.#health!.close(() => r()));
    this.#state = 'stopped';
    this.#log.info('forecast-stream processor stopped');
  }

  async reloadCatalog(): Promise<void> {
    for (const s of await this.#store.loadCatalog()) this.catalog.upsert(s);
  }

  /**
   * POST /v1/what-if: the live model on the live state with hypothetical prices, promotion or
   * weather, beside the forecast without them; writes no state, publishes nothing (docs/what-if.md).
   */
  async whatIf(body: unknown): Promise<{ status: number; body: unknown }> {
    if (this.#state !== 'running' || !this.#whatIf) return { status: 503, body: { error: { field: '', message: `processor is ${this.#state}; retry when /readyz is 200` } } };
    try {
      return { status: 200, body: await this.#whatIf.ask(body) };
    } catch (err) {
      if (err instanceof WhatIfError) return { status: err.status, body: { error: { field: err.field, message: err.message } } };
      if (err instanceof ForecastError && err.retriable) return { status: 503, body: { error: { field: '', message: err.message } } };
      if (err instanceof ForecastError && err.code === 'STATE_REJECTED') return { status: 500, body: { error: { field: 'series', message: err.message } } };
      throw err;
    }
  }

  /**
   * POST /v1/models: the model lifecycle by hand (docs/model-lifecycle.md). Body
   * `{"action": "load", "version": "...", "policy": "shadow|canary|promote"}`, `{"action": "promote"}`
   * (the candidate, now), `{"action": "reject"}` (the candidate) or `{"action": "rollback"}` (to the
   * previous version). Answers the lifecycle's status; 409 when the action cannot be done now.
   */
  async modelControl(body: unknown): Promise<{ status: number; body: unknown }> {
    const lc = this.#lifecycle;
    if (this.#state !== 'running' || !lc) return { status: 503, body: { error: { field: '', message: `processor is ${this.#state}; retry when /readyz is 200` } } };
    const b = (body ?? {}) as { action?: unknown; version?: unknown; policy?: unknown; reason?: unknown };
    const bad = (field: string, message: string) => ({ status: 400, body: { error: { field, message } } });
    const done = (r: { ok: boolean; reason?: string; check?: string }) => ({ status: r.ok ? 200 : 409, body: { ok: r.ok, ...(r.check ? { check: r.check } : {}), message: r.reason ?? '', lifecycle: lc.status() } });
    switch (b.action) {
      case 'load': {
        if (typeof b.version !== 'string' || !/^[\w.-]+$/.test(b.version)) return bad('version', 'version: the folder name under engines/<model>/ (letters, digits, . _ -)');
        const policy = b.policy ?? this.config.rolloutPolicy;
        if (policy !== 'shadow' && policy !== 'canary' && policy !== 'promote') return bad('policy', 'policy: shadow, canary or promote');
        return done(await lc.consider(b.version, policy as RolloutPolicy, 'admin'));
      }
      case 'promote':
        return done(lc.promoteNow());
      case 'reject':
        return done(lc.rejectCandidate(typeof b.reason === 'string' ? b.reason : 'operator'));
      case 'rollback':
        return done(lc.rollback(typeof b.reason === 'string' ? b.reason : 'operator'));
      default:
        return bad('action', 'action: load, promote, reject or rollback');
    }
  }

  /** Up to 256 catalog series' live snapshots and origins: the sample a new model version is checked and warmed up on. */
  async #liveSample(): Promise<{ snapshots: import('../inference/series-snapshot.js').SeriesSnapshot[]; origins: number[] }> {
    const infos = [...this.catalog.all()].slice(0, 256);
    if (infos.length === 0) return { snapshots: [], origins: [] };
    return this.#forecaster.sampleInputs(infos);
  }

  /** Forecast every catalog series from state and publish (nightly or after a model change). */
  async refreshAll(onProgress: (done: number, total: number) => void = () => undefined): Promise<number> {
    const all = [...this.catalog.all()];
    const size = this.config.batchMaxSize;
    let done = 0;
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < all.length; i += size) {
      const chunk = all.slice(i, i + size);
      inFlight.push(
        (async () => {
          const forecasts = await this.#forecaster.forecastSeries(chunk);
          await this.#publisher.publish(forecasts);
          this.recent.add(forecasts);
          done += chunk.length;
          onProgress(done, all.length);
        })(),
      );
      // two batches in flight: read + infer of one overlaps publish of the other
      if (inFlight.length >= 2) await inFlight.shift();
    }
    await Promise.all(inFlight);
    return all.length;
  }

  status(): Record<string, unknown> {
    const notReady = this.notReadyReason();
    return {
      state: this.#state,
      // at-least-once, or exactly-once (forecasts + offsets per transaction: read them read_committed)
      delivery: this.config.exactlyOnce ? { guarantee: 'exactly-once', transactionalId: this.config.transactionalId || `${this.config.groupId}-${hostname()}`, epochMs: this.config.commitIntervalMs } : { guarantee: 'at-least-once' },
      model: this.#model
        ? {
            name: this.#model.name,
            version: this.#model.version,
            family: this.#model.family.id,
            inputs: this.#model.inputs,
            bucketSize: this.#settings?.bucketSize ?? null,
            horizons: this.#model.horizons,
            executionProvider: this.#model.provider,
            requestedProviders: this.config.executionProviders,
            providerFailures: this.#model.providerFailures ?? [],
            workerUp: (this.#model as { up?: boolean }).up ?? true,
            workerRestarts: (this.#model as { restarts?: number }).restarts ?? 0,
          }
        : null,
      breaker: this.#guard?.state ?? null,
      driftPsi: this.#guard?.lastPsi ?? null,
      trainingPsi: this.#guard?.lastTrainingPsi ?? null,
      lifecycle: this.#lifecycle?.status() ?? null,
      accuracy: this.#accuracy?.summary() ?? null,
      batcher: this.#batcher ? { pending: this.#batcher.pending, inFlight: this.#batcher.inFlight } : null,
      series: this.catalog.size,
      consumerLag: this.#lag?.last ?? null,
      ready: notReady === null,
      notReady,
      ingestStall: this.#runner?.stall ?? null,
    };
  }

  /**
   * Why the processor cannot do its work right now (null: it can): not started or stopping,
   * Redis not connected, or ingest waiting on a dependency. /readyz answers 503 while this is
   * non-null, so a load balancer or an operator sees an outage as one.
   */
  notReadyReason(): string | null {
    if (this.#state !== 'running') return `processor ${this.#state}`;
    const fatal = this.#runner?.fatal;
    if (fatal) return `ingest stopped for good: ${fatal.message}`;
    if (this.#redis.status !== 'ready') return `Redis ${this.#redis.status} (${redactUrl(this.config.redisUrl)})`;
    const kafka = this.#lag?.problem;
    if (kafka) return kafka;
    const stall = this.#runner?.stall;
    if (stall) return `ingest waiting on a dependency for ${Math.round((Date.now() - stall.since) / 1000)} s (${stall.code}: ${stall.message})`;
    return null;
  }

  #healthSource() {
    return {
      // a consumer that stopped for good is a wedged process: let the orchestrator restart it
      live: () => this.#state !== 'stopped' && !this.#runner?.fatal,
      ready: () => this.notReadyReason() === null,
      status: () => this.status(),
    };
  }

  /** A version in shadow's forecasts to FS_TOPIC_SHADOW: never awaited by a batch; a failure is counted and logged, nothing retried. */
  #publishShadow(forecasts: Forecast[]): void {
    const pub = this.#shadowPublisher;
    if (!pub || forecasts.length === 0) return;
    pub.publish(forecasts).then(
      () => this.metrics.shadowForecasts.inc({ result: 'published' }, forecasts.length),
      (err: Error) => {
        this.metrics.shadowForecasts.inc({ result: 'failed' }, forecasts.length);
        this.#log.warn({ err: err.message, topic: this.config.topicShadow }, 'shadow forecasts not published (FS_TOPIC_SHADOW; `forecast-stream setup` creates it)');
      },
    );
  }

  #wireAlerts(alerts: AlertPublisher): void {
    const send = (kind: string, severity: 'info' | 'warning' | 'critical', details: Record<string, string>) =>
      void alerts.publish({ kind, severity, details }).catch((err: Error) => this.#log.warn({ err, kind }, 'alert not sent'));
    this.events.inference.on('breaker-state', ({ state, reason }) => send(`breaker-${state}`, state === 'open' ? 'critical' : 'info', { reason }));
    this.events.inference.on('drift', ({ psi, threshold }) => send('drift', 'critical', { psi: psi.toFixed(4), threshold: String(threshold), against: 'last healthy window' }));
    this.events.inference.on('training-mismatch', ({ psi, threshold }) =>
      send('training-mismatch', 'warning', { psi: psi.toFixed(4), threshold: String(threshold), against: 'training distribution' }),
    );
    // the model lifecycle (hot swap): every step on the alerts topic
    const lc = this.events.lifecycle;
    lc.on('model-candidate', ({ version, policy, source }) => send('model-candidate', 'info', { version, policy, source }));
    lc.on('model-rejected', ({ version, check, reason, phase }) => send('model-rejected', 'warning', { version, check, phase, reason: reason.slice(0, 500), serving: this.#model?.version ?? '' }));
    lc.on('rollout-phase', ({ version, phase, detail }) => send(`model-${phase}`, 'info', { version, detail }));
    lc.on('model-promoted', ({ version, previous, detail }) => send('model-promoted', 'info', { version, previous, detail: detail.slice(0, 500) }));
    lc.on('model-rolled-back', ({ from, to, reason }) => send('model-rolled-back', 'critical', { from, to, reason }));
    this.events.accuracy.on('degraded', ({ version, rollingWape, firstWape, margin, pairs }) =>
      send('accuracy-degraded', 'warning', { version, rollingWape: rollingWape.toFixed(4), firstWindowWape: firstWape.toFixed(4), margin: String(margin), pairs: String(pairs) }),
    );
    // a series whose state cannot be read gets no forecast: critical, once per series per 10 minutes
    const lastSaid = new Map<string, number>();
    this.events.inference.on('state-unreadable', ({ seriesIds, reason }) => {
      const now = this.#clock.now();
      const fresh = seriesIds.filter((id) => now - (lastSaid.get(id) ?? Number.NEGATIVE_INFINITY) >= 600_000);
      if (fresh.length === 0) return;
      for (const id of fresh) lastSaid.set(id, now);
      send('state-unreadable', 'critical', { series: fresh.slice(0, 20).join(','), count: String(fresh.length), reason });
    });
  }

  #logEvents(): void {
    const log = this.#log;
    this.events.ingest.on('record-rejected', (e) => log.warn(e, 'bad input record'));
    this.events.inference.on('breaker-state', (e) => log.warn(e, `breaker ${e.state}`));
    this.events.inference.on('drift', (e) => log.warn(e, 'model output drift'));
    this.events.inference.on('drift-checked', (e) => log.debug(e, 'drift window checked'));
    this.events.inference.on('training-mismatch', (e) => log.warn(e, 'model outputs far from the training distribution (season or population); not acted on'));
    this.events.inference.on('primary-failed', (e) => log.warn(e, 'primary model call failed; fallback served'));
    let lastAccuracyWarn = 0;
    this.events.accuracy.on('failed', (e) => {
      if (Date.now() - lastAccuracyWarn < 10_000) return;
      lastAccuracyWarn = Date.now();
      log.warn(e, 'online accuracy: a scoring round failed (those buckets stay unscored)');
    });
    this.events.inference.on('state-unreadable', (e) => log.error({ series: e.seriesIds.slice(0, 20), count: e.seriesIds.length, reason: e.reason }, 'series state unreadable: no forecast for these series until the key is repaired'));
  }
}

/** The admin token: the file's content (FS_ADMIN_TOKEN_FILE, a mounted Secret) or FS_ADMIN_TOKEN. */
function adminToken(c: Config): string {
  return c.adminTokenFile ? readSecretFile(c.adminTokenFile, 'FS_ADMIN_TOKEN_FILE', 'adminTokenFile') : c.adminToken;
}
