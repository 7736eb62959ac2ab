import { Kafka, logLevel } from 'kafkajs';
import { ForecastError } from '../core/errors.js';
import { kafkaConnection } from '../core/kafka-connection.js';
import { RegistrySchemaCodec } from '../core/schema-codec.js';
import { bucketLengthMs } from '../inference/features/bucket-clock.js';
import { loadConfig, type Config, type ConfigInput } from '../ops/config.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { redactUrl } from '../core/redact.js';
import { stateRedis } from '../state/redis-connection.js';
import { RedisStateStore } from '../state/redis-state-store.js';
import { findPrimaryArtifact, modelSettings, type ModelSettings } from '../main/models.js';

/** Shared by the commands: config parsing with readable errors, and client factories. */
export function configFrom(opts: { config?: string }, overrides: ConfigInput = {}): Config {
  try {
    return loadConfig({ file: opts.config, overrides });
  } catch (err) {
    if (err instanceof ForecastError && err.code === 'CONFIG_INVALID') {
      process.stderr.write(`forecast-stream: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

export function loggerFor(c: Config): Logger {
  return createLogger(c.logLevel);
}

export function kafkaFor(c: Config, clientSuffix: string): Kafka {
  return new Kafka({ clientId: `${c.kafkaClientId}-${clientSuffix}`, ...kafkaConnection(c), logLevel: logLevel.ERROR });
}

export function codecFor(c: Config): RegistrySchemaCodec {
  return RegistrySchemaCodec.fromSettings(c);
}

export async function storeFor(c: Config): Promise<RedisStateStore> {
  const client = stateRedis(c, { lazyConnect: true, maxRetriesPerRequest: 3 });
  client.on('error', () => undefined); // surfaced by the failing command or connect() below
  await client.connect().catch((cause: Error) => {
    throw new ForecastError('STATE_UNAVAILABLE', `cannot reach Redis at ${redactUrl(c.redisUrl)} (FS_REDIS_URL): ${cause.message}`, { retriable: true, cause });
  });
  const settings = await settingsFor(c);
  return new RedisStateStore({ client: client as never, prefix: c.redisPrefix, windowBuckets: settings.windowBuckets, bucketMs: bucketLengthMs(settings.bucketSize) });
}

/** Bucket size, horizons and window: the configured model's (its model.json only; no worker starts). */
export async function settingsFor(c: Config): Promise<ModelSettings> {
  return modelSettings(c, await findPrimaryArtifact(c));
}

/** Run until SIGINT/SIGTERM, then call stop once. */
export function onShutdown(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`forecast-stream: ${signal} received, draining and stopping\n`);
      void stop().finally(resolve);
    };
    process.once('SIGINT', () => handler('SIGINT'));
    process.once('SIGTERM', () => handler('SIGTERM'));
  });
}

/** A single-line progress display on stderr (rewritten in place on a terminal). */
export function progressLine(label: string): (done: number, total: number) => void {
  const started = Date.now();
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    const secs = (now - started) / 1000;
    const rate = done / Math.max(secs, 1e-3);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const line = `${label}: ${done}/${total} (${((100 * done) / Math.max(total, 1)).toFixed(1)}%) ${rate.toFixed(0)}/s, eta ${eta.toFixed(1)} s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${done >= total ? '\n' : ''}`);
    else if (done >= total || Math.floor(secs) !== Math.floor((now - 200 - started) / 1000)) process.stderr.write(`${line}\n`);
  };
}
