import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisConnection } from '../../src/state/redis-connection.js';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaConnection } from '../../src/core/kafka-connection.js';
import { loadConfig, type Config, type ConfigInput } from '../../src/ops/config.js';

/**
 * Settings for tests against the real local stack (started by `make test` through
 * stack/with-stack.sh, which exports KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL).
 * Each test gets its own topic names, group and Redis prefix so tests never share state.
 */
export function testConfig(overrides: ConfigInput = {}): Config {
  return loadConfig({
    overrides: {
      ...privateNames(),
      inputPartitions: 3,
      outputPartitions: 3,
      metricsPort: 0,
      logLevel: 'warn',
      batchMaxDelayMs: 5,
      // the weekly scenarios of these tests run on the weekly model; daily tests pick m5-daily-gbm
      modelName: 'walmart-mlp',
      ...overrides,
    },
  });
}

/** Fresh topic names, consumer group and Redis prefix, shared with no other test or run. */
export function privateNames() {
  const tag = `t${randomBytes(4).toString('hex')}`;
  return {
    topicSales: `${tag}-sales`,
    topicPromotions: `${tag}-promotions`,
    topicWeather: `${tag}-weather`,
    topicPrices: `${tag}-prices`,
    topicCatalog: `${tag}-catalog`,
    topicForecasts: `${tag}-forecast-updated`,
    topicAlerts: `${tag}-alerts`,
    topicDeadLetter: `${tag}-dead-letter`,
    groupId: `${tag}-group`,
    redisPrefix: tag,
  };
}

export function testKafka(c: Config): Kafka {
  return new Kafka({ clientId: 'forecast-stream-test', ...kafkaConnection(c), logLevel: logLevel.NOTHING });
}

export async function testRedis(c: Config): Promise<Redis> {
  const r = redisConnection(c, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await r.connect();
  return r;
}
