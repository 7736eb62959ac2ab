/**
 * What `evaluate` scores: a batch of snapshots at one origin in, [batch, H, 3] quantiles out.
 * The ONNX forecaster uses the production feature builder and runner; the fallback forecaster
 * is the production fallback model.
 */
import type { BucketSize } from '../../inference/features/bucket-clock.js';
import { buildFeatures } from '../../inference/features/build-features.js';
import { FEATURE_COUNT } from '../../inference/features/feature-spec.js';
import { forecastFallbackInto } from '../../inference/fallback/fallback-forecast.js';
import type { OnnxRunner } from '../../inference/model/onnx-runner.js';
import type { SeriesSnapshot } from '../../inference/series-snapshot.js';

export interface Forecaster {
  readonly kind: 'onnx' | 'fallback';
  /** Quantiles of every snapshot, row-major [snapshots.length, horizons, 3]. */
  forecast(snapshots: readonly SeriesSnapshot[], origin: number, size: BucketSize, horizons: number): Promise<Float32Array>;
}

export function onnxForecaster(runner: OnnxRunner, modelHorizons: number): Forecaster {
  let buffer = new Float32Array(0);
  return {
    kind: 'onnx',
    async forecast(snapshots, origin, size, horizons) {
      if (buffer.length < snapshots.length * FEATURE_COUNT) buffer = new Float32Array(snapshots.length * FEATURE_COUNT);
      snapshots.forEach((s, i) => buildFeatures(s, origin, size, buffer, i * FEATURE_COUNT));
      const out = await runner.run(buffer.subarray(0, snapshots.length * FEATURE_COUNT), snapshots.length);
      if (horizons === modelHorizons) return out;
      // Fewer horizons than the model outputs: keep the first ones of each row.
      const cut = new Float32Array(snapshots.length * horizons * 3);
      for (let i = 0; i < snapshots.length; i++) cut.set(out.subarray(i * modelHorizons * 3, i * modelHorizons * 3 + horizons * 3), i * horizons * 3);
      return cut;
    },
  };
}

export function fallbackForecaster(): Forecaster {
  return {
    kind: 'fallback',
    async forecast(snapshots, origin, size, horizons) {
      const out = new Float32Array(snapshots.length * horizons * 3);
      snapshots.forEach((s, i) => forecastFallbackInto(s, origin, size, horizons, out, i * horizons * 3));
      return out;
    },
  };
}
