import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/ops/config.js';

describe('loadConfig', () => {
  it('has working defaults and is frozen', () => {
    const c = loadConfig({ env: {} });
    expect(c.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    // the model decides bucket size and horizons unless set; the default model is the daily one
    expect(c.bucketSize).toBeUndefined();
    expect(c.horizons).toBeUndefined();
    expect(c.modelName).toBe('m5-daily-gbm');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads environment variables, with the generic names as aliases', () => {
    const c = loadConfig({ env: { KAFKA_BROKERS: 'a:1,b:2', FS_BATCH_MAX_SIZE: '256', FS_EXECUTION_PROVIDERS: 'cuda,cpu' } });
    expect(c.kafkaBrokers).toEqual(['a:1', 'b:2']);
    expect(c.batchMaxSize).toBe(256);
    expect(c.executionProviders).toEqual(['cuda', 'cpu']);
  });

  it('names the setting and its environment variable in errors', () => {
    expect(() => loadConfig({ env: { FS_BATCH_MAX_SIZE: 'lots' } })).toThrow(/batchMaxSize \(env FS_BATCH_MAX_SIZE\)/);
    expect(() => loadConfig({ env: { FS_BUCKET: 'month' } })).toThrow(/bucketSize/);
  });

  it('checks cross-field rules naming both fields', () => {
    expect(() => loadConfig({ env: {}, overrides: { batchMaxSize: 500, batchCapacity: 100 } })).toThrow(/batchCapacity \(100\) must be >= batchMaxSize \(500\)/);
    expect(() => loadConfig({ env: {}, overrides: { executionProviders: ['cpu', 'cuda'] } })).toThrow(/must end with cpu/);
    expect(() => loadConfig({ env: {}, overrides: { windowBuckets: 20, bucketSize: 'week' } })).toThrow(/windowBuckets.*bucketSize=week/);
    // the shadow topic must be a topic of its own (never forecast-updated)
    expect(() => loadConfig({ env: { FS_TOPIC_SHADOW: 'forecast-updated' } })).toThrow(/FS_TOPIC_SHADOW is forecast-updated, a topic the processor already uses/);
    expect(loadConfig({ env: { FS_TOPIC_SHADOW: 'forecast-shadow' } }).topicShadow).toBe('forecast-shadow');
  });

  it('rejects unknown keys in a config file (typos do not pass silently)', () => {
    expect(() => loadConfig({ env: {}, overrides: { batchMaxSise: 3 } as never })).toThrow(/batchMaxSise|Unrecognized/);
  });
});

describe('docs/configuration.md', () => {
  it('documents every setting and its environment variable (regenerate: node scripts/config-docs.mjs)', async () => {
    const { readFileSync } = await import('node:fs');
    const { ENV_NAMES } = await import('../../../src/ops/config.js');
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    for (const [key, envs] of Object.entries(ENV_NAMES)) {
      expect(doc, key).toContain(`\`${key}\``);
      expect(doc, key).toContain(envs[0]);
    }
  });
});

describe('batch size default follows the execution provider', () => {
  it('is 1024 on CPU and 8192 when a GPU provider comes first; an explicit value wins', () => {
    expect(loadConfig({ env: {} }).batchMaxSize).toBe(1024);
    expect(loadConfig({ env: { FS_EXECUTION_PROVIDERS: 'cuda,cpu' } }).batchMaxSize).toBe(8192);
    expect(loadConfig({ env: { FS_EXECUTION_PROVIDERS: 'cuda,cpu', FS_BATCH_MAX_SIZE: '512' } }).batchMaxSize).toBe(512);
  });
});

describe('configToEnv', () => {
  it('round-trips a configuration through the environment', async () => {
    const { configToEnv } = await import('../../../src/ops/config.js');
    const c = loadConfig({ env: {}, overrides: { kafkaBrokers: ['a:1', 'b:2'], executionProviders: ['cuda', 'cpu'], gpuFp16: true, batchMaxDelayMs: 7, redisPrefix: 'x1' } });
    expect(loadConfig({ env: configToEnv(c) })).toEqual(c);
  });
});
