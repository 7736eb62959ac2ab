import { FEATURE_COUNT, FEATURE_INDEX } from '../../src/inference/features/feature-spec.js';
import type { DriftReference, PrimaryModel } from '../../src/inference/forecast.js';
import { walmartWeeklyFamily } from '../../src/inference/features/walmart-weekly-family.js';
import type { FallbackModel } from '../../src/inference/forecaster.js';

/**
 * A deterministic primary model for unit tests: p50 = 4-bucket mean (de-normalised),
 * p10/p90 = 0.8/1.2 of it. `mode` lets a test make it fail, slow, invalid or drifted.
 */
export class FakePrimaryModel implements PrimaryModel {
  readonly name = 'fake';
  readonly version: string = 'v1';
  readonly horizons = 4;
  readonly family = walmartWeeklyFamily('week');
  readonly inputs = this.family.inputs;
  readonly coldStartBuckets = null;
  readonly provider = 'cpu';
  mode: 'ok' | 'throw' | 'nan' | 'slow' | 'scaled' = 'ok';
  factor = 1;
  calls = 0;

  constructor(readonly reference: DriftReference | null = null) {}

  async run(features: Float32Array, batch: number): Promise<Float32Array> {
    this.calls++;
    if (this.mode === 'throw') throw new Error('model exploded');
    if (this.mode === 'slow') await new Promise((r) => setTimeout(r, 200));
    const out = new Float32Array(batch * this.horizons * 3);
    for (let r = 0; r < batch; r++) {
      const scale = Math.exp(features[r * FEATURE_COUNT + FEATURE_INDEX.logScale]!);
      const mean = Math.max(0, features[r * FEATURE_COUNT + FEATURE_INDEX.mean4]! * scale) * (this.mode === 'scaled' ? this.factor : 1);
      for (let h = 0; h < this.horizons; h++) {
        const o = (r * this.horizons + h) * 3;
        out[o] = 0.8 * mean;
        out[o + 1] = this.mode === 'nan' ? Number.NaN : mean;
        out[o + 2] = 1.2 * mean;
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}

/** Fallback for unit tests: flat last value. */
export const flatFallback: FallbackModel = {
  name: 'flat',
  version: 'v1',
  forecast(snapshot, origin, _size, horizons) {
    const last = Math.max(0, snapshot.sales.get(origin) ?? 0);
    const out: number[] = [];
    for (let h = 0; h < horizons; h++) out.push(0.5 * last, last, 1.5 * last);
    return out;
  },
};
