import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ForecastError } from '../core/errors.js';

/**
 * Every setting of the processor, with its default, in one schema. Parsed once at
 * start-up (environment, then an optional JSON file, then CLI overrides), frozen, and
 * passed down; nothing else reads process.env. Each field documents its env variable.
 */
const csv = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean)));
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');

export const configSchema = z
  .object({
    /** FS_KAFKA_BROKERS (or KAFKA_BROKERS): comma-separated host:port list. */
    kafkaBrokers: csv.default(['127.0.0.1:9092']),
    /** FS_KAFKA_SECURITY_PROTOCOL: plaintext | ssl | sasl_plaintext | sasl_ssl (librdkafka's names); SASL needs FS_KAFKA_SASL_USERNAME and a password. */
    kafkaSecurityProtocol: z.enum(['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl']).default('plaintext'),
    /** FS_KAFKA_SASL_MECHANISM: scram-sha-512 | scram-sha-256 | plain. */
    kafkaSaslMechanism: z.enum(['scram-sha-512', 'scram-sha-256', 'plain']).default('scram-sha-512'),
    /** FS_KAFKA_SASL_USERNAME */
    kafkaSaslUsername: z.string().default(''),
    /** FS_KAFKA_SASL_PASSWORD: prefer FS_KAFKA_SASL_PASSWORD_FILE; never logged nor shown in /status. */
    kafkaSaslPassword: z.string().default(''),
    /** FS_KAFKA_SASL_PASSWORD_FILE: file holding the SASL password (a mounted Secret); wins over FS_KAFKA_SASL_PASSWORD. */
    kafkaSaslPasswordFile: z.string().default(''),
    /** FS_KAFKA_TLS_CA_FILE: PEM CA bundle that signed the brokers' certificates (ssl, sasl_ssl); '' = the system's CAs. */
    kafkaTlsCaFile: z.string().default(''),
    /** FS_KAFKA_CLIENT_ID */
    kafkaClientId: z.string().min(1).default('forecast-stream'),
    /** FS_GROUP_ID: the consumer group over the input topics (sales, prices, promotions, weather, catalog). */
    groupId: z.string().min(1).default('forecast-stream'),
    /** FS_TOPIC_SALES: input topic of sales events. */
    topicSales: z.string().min(1).default('sales'),
    /** FS_TOPIC_PROMOTIONS: input topic of promotion events. */
    topicPromotions: z.string().min(1).default('promotions'),
    /** FS_TOPIC_WEATHER: input topic of weather events. */
    topicWeather: z.string().min(1).default('weather'),
    /** FS_TOPIC_PRICES: input topic of shelf-price changes (price cuts are promotions too). */
    topicPrices: z.string().min(1).default('prices'),
    /** FS_TOPIC_CATALOG: compacted topic of catalog items (listings, new products; `catalog load` writes it too). */
    topicCatalog: z.string().min(1).default('catalog'),
    /** FS_TOPIC_FORECASTS: output topic of forecast-updated events. */
    topicForecasts: z.string().min(1).default('forecast-updated'),
    /** FS_TOPIC_ALERTS: drift, breaker and model alerts. */
    topicAlerts: z.string().min(1).default('alerts'),
    /** FS_TOPIC_SHADOW: where a version in shadow publishes its forecasts (forecast-updated records, its modelVersion); empty: none, its outputs only reach the comparison and metrics. */
    topicShadow: z.string().default(''),
    /** FS_TOPIC_DEAD_LETTER: bad input records, original bytes, reason in headers. */
    topicDeadLetter: z.string().min(1).default('dead-letter'),
    /** FS_INPUT_PARTITIONS: partitions of each input topic created by `setup`. */
    inputPartitions: int(1, 1024).default(6),
    /** FS_OUTPUT_PARTITIONS: partitions of forecast-updated created by `setup`. */
    outputPartitions: int(1, 1024).default(6),
    /** FS_SCHEMA_REGISTRY_URL (or SCHEMA_REGISTRY_URL): Confluent-compatible API base. */
    schemaRegistryUrl: z.string().url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
    /** FS_SCHEMA_REGISTRY_USERNAME: HTTP basic auth user for the registry (Confluent's basic.auth.user.info); a user:password@ in the URL works too. */
    schemaRegistryUsername: z.string().default(''),
    /** FS_SCHEMA_REGISTRY_PASSWORD: prefer FS_SCHEMA_REGISTRY_PASSWORD_FILE; never logged nor shown in /status. */
    schemaRegistryPassword: z.string().default(''),
    /** FS_SCHEMA_REGISTRY_PASSWORD_FILE: file holding the registry password (a mounted Secret); wins over FS_SCHEMA_REGISTRY_PASSWORD. */
    schemaRegistryPasswordFile: z.string().default(''),
    /** FS_REDIS_URL (or REDIS_URL) */
    redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
    /** FS_REDIS_CLUSTER: FS_REDIS_URL names one node of a Redis Cluster (the others are discovered); pipelines are split per master, SCAN walks every master (docs/redis-cluster.md). */
    redisCluster: bool.default(false),
    /** FS_REDIS_PREFIX: first segment of every key (one module builds them all). */
    redisPrefix: z.string().regex(/^[a-z0-9_-]+$/i).default('fs'),
    /** FS_REDIS_PASSWORD_FILE: file holding the Redis password (a mounted Secret); replaces the password of FS_REDIS_URL (the ACL user stays the URL's). */
    redisPasswordFile: z.string().default(''),
    /** FS_REDIS_TLS_CA_FILE: PEM CA bundle that signed Redis' certificate, for a rediss:// URL with a private CA. */
    redisTlsCaFile: z.string().default(''),
    /** FS_BUCKET: day | week (weeks end on Friday, as in the Walmart data); default: the model's. Set, it must match the model. */
    bucketSize: z.enum(['day', 'week']).optional(),
    /** FS_WINDOW_BUCKETS: buckets kept per series; events older than the window are dropped. Default 400 for day models, 60 for week models. */
    windowBuckets: int(8, 4000).optional(),
    /** FS_HORIZONS: future buckets forecast per series; default: the model's (28 days for m5-daily-gbm, 4 weeks for walmart-*). Set, it must match the model. */
    horizons: int(1, 64).optional(),
    /** FS_MAX_FUTURE_MS: sales/promotion event times further ahead of the wall clock are invalid. */
    maxFutureMs: int(0).default(2 * 86_400_000),
    /** FS_BATCH_MAX_SIZE: series per inference batch (default 1024 on CPU, 8192 when the first execution provider is a GPU: docs/gpu.md). */
    batchMaxSize: int(1, 65_536).optional(),
    /** FS_BATCH_MAX_DELAY_MS: longest an affected series waits before its batch flushes. */
    batchMaxDelayMs: int(0, 60_000).default(5),
    /** FS_BATCH_CAPACITY: pending series at most; consumers pause (backpressure) above it. */
    batchCapacity: int(1).default(100_000),
    /** FS_BATCH_MAX_IN_FLIGHT: batches being forecast/published at once. */
    batchMaxInFlight: int(1, 64).default(2),
    /** FS_ENGINES_DIR: folder of engines/<model>/<version>/. */
    enginesDir: z.string().min(1).default('engines'),
    /** FS_MODEL: model name in enginesDir: m5-daily-gbm (daily SKU x store, the default), walmart-stl, walmart-mlp or walmart-gbm (weekly store x department); '' = the only one there. */
    modelName: z.string().default('m5-daily-gbm'),
    /** FS_MODEL_VERSION: version folder ('latest' = highest). */
    modelVersion: z.string().min(1).default('latest'),
    /** FS_MODEL_WATCH_MS: how often engines/<FS_MODEL>/ is looked at for a new version (hot swap, docs/model-lifecycle.md); 0 = only POST /v1/models. */
    modelWatchMs: int(0, 3_600_000).default(5_000),
    /** FS_ROLLOUT_POLICY: how a new version goes live: shadow (shadow, then canary, then live), canary (canary, then live), promote (live once checked). */
    rolloutPolicy: z.enum(['shadow', 'canary', 'promote']).default('shadow'),
    /** FS_SHADOW_SERIES: series forecasts a version in shadow is compared on before its canary. */
    shadowSeries: int(10).default(2_000),
    /** FS_CANARY_PERCENT: share of series (by id hash, stable) a version in canary serves. */
    canaryPercent: int(1, 100).default(10),
    /** FS_CANARY_SERIES: series forecasts a canary serves before it is promoted. */
    canarySeries: int(10).default(2_000),
    /** FS_CANARY_ACCURACY_MARGIN: a canary whose online WAPE (forecasts scored against actuals during the canary) exceeds the live version's over the same time by this share is refused, once both have FS_ACCURACY_MIN_PAIRS pairs. */
    canaryAccuracyMargin: z.coerce.number().positive().default(0.2),
    /** FS_ROLLOUT_LATENCY_RATIO: a new version's batch p99 may be at most this many times the live one's (+5 ms), on the same traffic. */
    rolloutLatencyRatio: z.coerce.number().min(1).default(3),
    /** FS_PROBATION_MS: a version whose breaker opens this soon after going live is rolled back to the previous one. */
    probationMs: int(0).default(600_000),
    /** FS_ACCURACY: score every published forecast against its actual once the bucket closes (forecasts kept in Redis with a TTL: docs/model-lifecycle.md). */
    accuracy: bool.default(true),
    /** FS_ACCURACY_CLOSE_DELAY: buckets a series' origin must be past a bucket before it is scored (late sales of it still count). */
    accuracyCloseDelay: int(0, 28).default(1),
    /** FS_ACCURACY_WINDOW: buckets in a version's first and rolling accuracy windows; default 7 (day models) or 4 (week models). */
    accuracyWindow: int(1, 400).optional(),
    /** FS_ACCURACY_MARGIN: a version whose rolling WAPE exceeds its first window's by this share raises an accuracy-degraded alert. */
    accuracyMargin: z.coerce.number().positive().default(0.5),
    /** FS_ACCURACY_SAMPLE_PERCENT: share of series (by id hash, stable) whose forecasts are kept and scored; Redis holds one key per scored series and open origin (H + delay + 1 of them), about 13 KB per series for a 28-day model. */
    accuracySamplePercent: int(1, 100).default(100),
    /** FS_ACCURACY_ROLLBACK: an accuracy-degraded live version is rolled back to the previous version when one is loaded (off: the alert only; week-to-week WAPE moves a lot on small catalogs). */
    accuracyRollback: bool.default(false),
    /** FS_ACCURACY_MIN_PAIRS: scored pairs the rolling window needs before it is compared with the first. */
    accuracyMinPairs: int(1).default(500),
    /** FS_MODEL_TIMEOUT_MS: a primary inference call slower than this counts as a failure. */
    modelTimeoutMs: int(1).default(2_000),
    /** FS_INFERENCE_THREADS: onnxruntime intra-op threads in the inference worker. */
    inferenceThreads: int(1, 256).default(1),
    /** FS_EXECUTION_PROVIDERS: ordered list, CPU last, e.g. "cuda,cpu". */
    executionProviders: csv.pipe(z.array(z.enum(['cpu', 'cuda', 'tensorrt'])).min(1)).default(['cpu']),
    /** FS_GPU_DEVICE_ID */
    gpuDeviceId: int(0, 64).default(0),
    /** FS_GPU_MIN_BATCH: batches smaller than this run on a CPU session beside the GPU one (the measured crossover: docs/gpu.md). */
    gpuMinBatch: int(1, 65_536).default(512),
    /** FS_GPU_FP16: let TensorRT build FP16 engines. */
    gpuFp16: bool.default(false),
    /** FS_BREAKER_ERROR_PERCENT: failure share (%) in the rolling window that opens the breaker. */
    breakerErrorPercent: int(1, 100).default(50),
    /** FS_BREAKER_RESET_MS: time open before a trial call (half-open). */
    breakerResetMs: int(100).default(30_000),
    /** FS_BREAKER_VOLUME: calls in the window before the breaker may open. */
    breakerVolume: int(0).default(3),
    /** FS_DRIFT_PSI: population stability index of p50/scale above which the output has drifted. */
    driftPsiThreshold: z.coerce.number().positive().default(0.25),
    /** FS_DRIFT_WINDOW: recent primary outputs compared with the model's reference distribution. */
    driftWindow: int(100).default(5_000),
    /** FS_DRIFT_CONSECUTIVE: windows in a row over the PSI threshold before the breaker opens. */
    driftConsecutive: int(1, 100).default(2),
    /** FS_BAD_INPUT: dlq (dead-letter and go on) | skip (count and go on) | fail (stop the consumer). */
    badInputPolicy: z.enum(['dlq', 'skip', 'fail']).default('dlq'),
    /** FS_METRICS_PORT: Prometheus /metrics and /healthz, /readyz; 0 turns the server off. */
    metricsPort: int(0, 65_535).default(9464),
    /** FS_HTTP_HOST: address the HTTP server (metrics, probes, what-if, /ui) binds; 127.0.0.1 keeps it on this host. */
    httpHost: z.string().min(1).default('0.0.0.0'),
    /** FS_ADMIN_TOKEN: bearer token the what-if and explorer API (/v1/*) require; '' = only clients on loopback may call them. Prefer FS_ADMIN_TOKEN_FILE. */
    adminToken: z.string().default(''),
    /** FS_ADMIN_TOKEN_FILE: file holding the admin token (a mounted Secret); read at start, wins over FS_ADMIN_TOKEN. */
    adminTokenFile: z.string().default(''),
    /** FS_LOG_LEVEL */
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
    /** FS_KAFKA_SESSION_TIMEOUT_MS: a consumer silent this long is dropped from the group (a crashed one's partitions move after it; heartbeats every third of it, at most 3 s). 8 s: a SIGKILLed instance's partitions resume in under 10 s (bench/results/chaos-*). */
    kafkaSessionTimeoutMs: int(6_000, 300_000).default(8_000),
    /** FS_COMMIT_INTERVAL_MS: consume on while forecasts are published and commit the published prefix this often; 0 waits for each chunk and commits it before the next (slower). */
    commitIntervalMs: int(0, 60_000).default(200),
    /** FS_EXACTLY_ONCE: forecasts and the consumed offsets in one Kafka transaction per commit interval (read them with isolation.level=read_committed); off: at-least-once. Dead letters and alerts stay at-least-once. */
    exactlyOnce: bool.default(false),
    /** FS_TRANSACTIONAL_ID: the forecast producer's transactional id under FS_EXACTLY_ONCE; stable per instance (a restarted instance with the same id fences its predecessor's open transaction); default <group id>-<host name>. */
    transactionalId: z.string().default(''),
    /** FS_FROM_BEGINNING: a new consumer group starts at the earliest offsets (false: latest). */
    fromBeginning: bool.default(true),
    /** FS_TRIGGERS_PER_FORECAST: input offsets listed in a forecast's provenance, newest first. */
    triggersPerForecast: int(1, 100).default(8),
  })
  .strict()
  .transform((c) => ({ ...c, batchMaxSize: c.batchMaxSize ?? (c.executionProviders[0] === 'cpu' ? 1024 : 8192) }))
  .superRefine((c, ctx) => {
    if (c.windowBuckets !== undefined && c.bucketSize === 'week' && c.windowBuckets < 52 + (c.horizons ?? 4) + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['windowBuckets'],
        message: `windowBuckets (${c.windowBuckets}) must cover a season plus horizons (bucketSize=week needs >= ${53 + (c.horizons ?? 4)})`,
      });
    }
    if (c.executionProviders.at(-1) !== 'cpu') {
      ctx.addIssue({ code: 'custom', path: ['executionProviders'], message: 'executionProviders must end with cpu (the fallback when a GPU provider cannot load)' });
    }
    if (c.batchCapacity < c.batchMaxSize) {
      ctx.addIssue({ code: 'custom', path: ['batchCapacity'], message: `batchCapacity (${c.batchCapacity}) must be >= batchMaxSize (${c.batchMaxSize})` });
    }
    if (c.kafkaSecurityProtocol.startsWith('sasl_')) {
      if (!c.kafkaSaslUsername) ctx.addIssue({ code: 'custom', path: ['kafkaSaslUsername'], message: `kafkaSecurityProtocol=${c.kafkaSecurityProtocol} needs a SASL user: set FS_KAFKA_SASL_USERNAME` });
      if (!c.kafkaSaslPassword && !c.kafkaSaslPasswordFile) ctx.addIssue({ code: 'custom', path: ['kafkaSaslPasswordFile'], message: `kafkaSecurityProtocol=${c.kafkaSecurityProtocol} needs a SASL password: set FS_KAFKA_SASL_PASSWORD_FILE (a mounted Secret) or FS_KAFKA_SASL_PASSWORD` });
    } else if (c.kafkaSaslUsername || c.kafkaSaslPassword || c.kafkaSaslPasswordFile) {
      ctx.addIssue({ code: 'custom', path: ['kafkaSecurityProtocol'], message: `SASL credentials are set but kafkaSecurityProtocol is ${c.kafkaSecurityProtocol}: set FS_KAFKA_SECURITY_PROTOCOL=sasl_ssl (or sasl_plaintext)` });
    }
    if (c.kafkaTlsCaFile && !['ssl', 'sasl_ssl'].includes(c.kafkaSecurityProtocol)) {
      ctx.addIssue({ code: 'custom', path: ['kafkaTlsCaFile'], message: `FS_KAFKA_TLS_CA_FILE is set but kafkaSecurityProtocol is ${c.kafkaSecurityProtocol}: set FS_KAFKA_SECURITY_PROTOCOL=ssl or sasl_ssl` });
    }
    if ((c.schemaRegistryPassword || c.schemaRegistryPasswordFile) && !c.schemaRegistryUsername) {
      ctx.addIssue({ code: 'custom', path: ['schemaRegistryUsername'], message: 'a registry password is set without a user: set FS_SCHEMA_REGISTRY_USERNAME' });
    }
    const topics = [c.topicSales, c.topicPromotions, c.topicWeather, c.topicPrices, c.topicCatalog, c.topicForecasts, c.topicAlerts, c.topicDeadLetter];
    if (new Set(topics).size !== topics.length) {
      ctx.addIssue({ code: 'custom', path: ['topicSales'], message: 'the eight topic names (topicSales, topicPromotions, topicWeather, topicPrices, topicCatalog, topicForecasts, topicAlerts, topicDeadLetter) must differ' });
    }
    if (c.exactlyOnce && c.commitIntervalMs === 0) {
      ctx.addIssue({ code: 'custom', path: ['commitIntervalMs'], message: 'FS_EXACTLY_ONCE commits one transaction per FS_COMMIT_INTERVAL_MS: set it above 0 (e.g. 200)' });
    }
    if (c.topicShadow && topics.includes(c.topicShadow)) {
      ctx.addIssue({ code: 'custom', path: ['topicShadow'], message: `FS_TOPIC_SHADOW is ${c.topicShadow}, a topic the processor already uses: name a topic of its own (e.g. forecast-shadow) or leave it empty` });
    }
  });

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable for each setting. */
export const ENV_NAMES: Record<keyof Config, string[]> = {
  kafkaBrokers: ['FS_KAFKA_BROKERS', 'KAFKA_BROKERS'],
  kafkaSecurityProtocol: ['FS_KAFKA_SECURITY_PROTOCOL'],
  kafkaSaslMechanism: ['FS_KAFKA_SASL_MECHANISM'],
  kafkaSaslUsername: ['FS_KAFKA_SASL_USERNAME'],
  kafkaSaslPassword: ['FS_KAFKA_SASL_PASSWORD'],
  kafkaSaslPasswordFile: ['FS_KAFKA_SASL_PASSWORD_FILE'],
  kafkaTlsCaFile: ['FS_KAFKA_TLS_CA_FILE'],
  kafkaClientId: ['FS_KAFKA_CLIENT_ID'],
  groupId: ['FS_GROUP_ID'],
  topicSales: ['FS_TOPIC_SALES'],
  topicPromotions: ['FS_TOPIC_PROMOTIONS'],
  topicWeather: ['FS_TOPIC_WEATHER'],
  topicPrices: ['FS_TOPIC_PRICES'],
  topicCatalog: ['FS_TOPIC_CATALOG'],
  topicForecasts: ['FS_TOPIC_FORECASTS'],
  topicAlerts: ['FS_TOPIC_ALERTS'],
  topicDeadLetter: ['FS_TOPIC_DEAD_LETTER'],
  topicShadow: ['FS_TOPIC_SHADOW'],
  inputPartitions: ['FS_INPUT_PARTITIONS'],
  outputPartitions: ['FS_OUTPUT_PARTITIONS'],
  schemaRegistryUrl: ['FS_SCHEMA_REGISTRY_URL', 'SCHEMA_REGISTRY_URL'],
  schemaRegistryUsername: ['FS_SCHEMA_REGISTRY_USERNAME'],
  schemaRegistryPassword: ['FS_SCHEMA_REGISTRY_PASSWORD'],
  schemaRegistryPasswordFile: ['FS_SCHEMA_REGISTRY_PASSWORD_FILE'],
  redisUrl: ['FS_REDIS_URL', 'REDIS_URL'],
  redisCluster: ['FS_REDIS_CLUSTER'],
  redisPrefix: ['FS_REDIS_PREFIX'],
  redisPasswordFile: ['FS_REDIS_PASSWORD_FILE'],
  redisTlsCaFile: ['FS_REDIS_TLS_CA_FILE'],
  bucketSize: ['FS_BUCKET'],
  windowBuckets: ['FS_WINDOW_BUCKETS'],
  horizons: ['FS_HORIZONS'],
  maxFutureMs: ['FS_MAX_FUTURE_MS'],
  batchMaxSize: ['FS_BATCH_MAX_SIZE'],
  batchMaxDelayMs: ['FS_BATCH_MAX_DELAY_MS'],
  batchCapacity: ['FS_BATCH_CAPACITY'],
  batchMaxInFlight: ['FS_BATCH_MAX_IN_FLIGHT'],
  enginesDir: ['FS_ENGINES_DIR'],
  modelName: ['FS_MODEL'],
  modelVersion: ['FS_MODEL_VERSION'],
  modelTimeoutMs: ['FS_MODEL_TIMEOUT_MS'],
  modelWatchMs: ['FS_MODEL_WATCH_MS'],
  accuracy: ['FS_ACCURACY'],
  accuracyCloseDelay: ['FS_ACCURACY_CLOSE_DELAY'],
  accuracyWindow: ['FS_ACCURACY_WINDOW'],
  accuracyMargin: ['FS_ACCURACY_MARGIN'],
  accuracyMinPairs: ['FS_ACCURACY_MIN_PAIRS'],
  accuracyRollback: ['FS_ACCURACY_ROLLBACK'],
  accuracySamplePercent: ['FS_ACCURACY_SAMPLE_PERCENT'],
  rolloutPolicy: ['FS_ROLLOUT_POLICY'],
  shadowSeries: ['FS_SHADOW_SERIES'],
  canaryPercent: ['FS_CANARY_PERCENT'],
  canarySeries: ['FS_CANARY_SERIES'],
  canaryAccuracyMargin: ['FS_CANARY_ACCURACY_MARGIN'],
  rolloutLatencyRatio: ['FS_ROLLOUT_LATENCY_RATIO'],
  probationMs: ['FS_PROBATION_MS'],
  inferenceThreads: ['FS_INFERENCE_THREADS'],
  executionProviders: ['FS_EXECUTION_PROVIDERS'],
  gpuDeviceId: ['FS_GPU_DEVICE_ID'],
  gpuFp16: ['FS_GPU_FP16'],
  gpuMinBatch: ['FS_GPU_MIN_BATCH'],
  breakerErrorPercent: ['FS_BREAKER_ERROR_PERCENT'],
  breakerResetMs: ['FS_BREAKER_RESET_MS'],
  breakerVolume: ['FS_BREAKER_VOLUME'],
  driftPsiThreshold: ['FS_DRIFT_PSI'],
  driftWindow: ['FS_DRIFT_WINDOW'],
  badInputPolicy: ['FS_BAD_INPUT'],
  driftConsecutive: ['FS_DRIFT_CONSECUTIVE'],
  metricsPort: ['FS_METRICS_PORT'],
  httpHost: ['FS_HTTP_HOST'],
  adminToken: ['FS_ADMIN_TOKEN'],
  adminTokenFile: ['FS_ADMIN_TOKEN_FILE'],
  logLevel: ['FS_LOG_LEVEL'],
  triggersPerForecast: ['FS_TRIGGERS_PER_FORECAST'],
  fromBeginning: ['FS_FROM_BEGINNING'],
  commitIntervalMs: ['FS_COMMIT_INTERVAL_MS'],
  exactlyOnce: ['FS_EXACTLY_ONCE'],
  transactionalId: ['FS_TRANSACTIONAL_ID'],
  kafkaSessionTimeoutMs: ['FS_KAFKA_SESSION_TIMEOUT_MS'],
};

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  file?: string | undefined;
  overrides?: ConfigInput;
}

/** Environment, then the file, then overrides; the later source wins. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const fromEnv: Record<string, unknown> = {};
  for (const [key, names] of Object.entries(ENV_NAMES)) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== '');
    if (name) fromEnv[key] = env[name];
  }
  let fromFile: Record<string, unknown> = {};
  if (options.file) {
    try {
      fromFile = JSON.parse(readFileSync(options.file, 'utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new ForecastError('CONFIG_INVALID', `config file ${options.file} is not readable JSON: ${(cause as Error).message}`, { cause });
    }
  }
  const merged = { ...fromEnv, ...fromFile, ...(options.overrides ?? {}) };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const envs = ENV_NAMES[key as keyof Config];
      const where = envs ? ` (env ${envs.join(' or ')})` : '';
      return `  - ${key || '(config)'}${where}: ${issue.message}`;
    });
    throw new ForecastError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

/**
 * The environment that reproduces a configuration in another process (the inverse of
 * loadConfig's environment reading): every setting under its first variable name.
 */
export function configToEnv(c: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, names] of Object.entries(ENV_NAMES)) {
    const value = c[key as keyof Config];
    if (value === undefined) continue;
    env[names[0]!] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}
