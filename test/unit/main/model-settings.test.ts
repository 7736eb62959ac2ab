import { describe, expect, it } from 'vitest';
import { modelSettings } from '../../../src/main/models.js';
import { loadConfig } from '../../../src/ops/config.js';
import type { ModelArtifact } from '../../../src/inference/model/model-artifact.js';

/** An artifact as far as the settings read it: metadata and the family's lookback (400 days, 57 weeks). */
const meta = (bucketSize: 'day' | 'week', horizons: number) =>
  ({
    metadata: { name: 'm', version: '1', bucketSize, horizons: Array.from({ length: horizons }, (_, i) => i + 1) },
    family: { lookback: bucketSize === 'day' ? 400 : 57 },
  }) as unknown as ModelArtifact;

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

  it('a statistical component that reads more history raises the default window and is checked against an explicit one', () => {
    const withStat = { ...meta('week', 4), statistical: { lookback: 120 } } as unknown as ModelArtifact;
    expect(modelSettings(loadConfig({ env: {} }), withStat).windowBuckets).toBe(121);
    expect(modelSettings(loadConfig({ env: { FS_WINDOW_BUCKETS: '130' } }), withStat).windowBuckets).toBe(130);
    expect(() => modelSettings(loadConfig({ env: { FS_WINDOW_BUCKETS: '60' } }), withStat)).toThrow(/FS_WINDOW_BUCKETS \(60\) is shorter than model m's lookback \(121/);
  });
});
