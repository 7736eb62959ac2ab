import { describe, expect, it } from 'vitest';
import { modelSettings } from '../../../src/main/models.js';
import { loadConfig } from '../../../src/ops/config.js';
import type { ModelMetadata } from '../../../src/inference/model/model-artifact.js';

const meta = (bucketSize: 'day' | 'week', horizons: number) =>
  ({ name: 'm', version: '1', bucketSize, horizons: Array.from({ length: horizons }, (_, i) => i + 1) }) as unknown as ModelMetadata;

describe('modelSettings: the model decides bucket size and horizons', () => {
  it('takes them from the model when unset, with the window default of the bucket size', () => {
    expect(modelSettings(loadConfig({ env: {} }), meta('day', 28))).toEqual({ bucketSize: 'day', horizons: 28, windowBuckets: 400 });
    expect(modelSettings(loadConfig({ env: {} }), meta('week', 4))).toEqual({ bucketSize: 'week', horizons: 4, windowBuckets: 60 });
  });

  it('refuses explicit settings that contradict the model, naming the variable and the fix', () => {
    expect(() => modelSettings(loadConfig({ env: { FS_BUCKET: 'week' } }), meta('day', 28))).toThrow(/day buckets but FS_BUCKET is week; unset FS_BUCKET/);
    expect(() => modelSettings(loadConfig({ env: { FS_HORIZONS: '4' } }), meta('day', 28))).toThrow(/28 horizons but FS_HORIZONS is 4/);
    expect(() => modelSettings(loadConfig({ env: { FS_WINDOW_BUCKETS: '100' } }), meta('day', 28))).toThrow(/FS_WINDOW_BUCKETS \(100\) is shorter than/);
  });
});
