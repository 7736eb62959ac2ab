/**
 * What `evaluate` scores: a batch of snapshots at one origin in, [batch, H, 3] quantiles out.
 * The ONNX forecaster uses the production feature builder and runner; the fallback forecaster
 * is the production fallback model.
 */
import type { BucketSize } from '../../inference/features/bucket-clock.js';
import { floatsPerSeries, type FeatureFamily } from '../../inference/features/feature-family.js';
import { forecastFallbackInto } from '../../inference/fallback/fallback-forecast.js';
import type { OnnxRunner } from '../../inference/model/onnx-runner.js';
import type { SeriesSnapshot } from '../../inference/series-snapshot.js';
import { applyStatistical, type StatisticalComponent } from '../../inference/statistical/statistical-component.js';

export interface Forecaster {
  readonly kind: 'onnx' | 'fallback';
  /** Quantiles of every snapshot, row-major [snapshots.length, horizons, 3]. */
  forecast(snapshots: readonly SeriesSnapshot[], origin: number, size: BucketSize, horizons: number): Promise<Float32Array>;
}

/**
 * The ONNX model with the features of its family (the bucket size is the family's), and the
 * artifact's statistical component averaged in as the processor's forecaster does.
 */
export function onnxForecaster(runner: OnnxRunner, family: FeatureFamily, modelHorizons: number, statistical: StatisticalComponent | null = null): Forecaster {
  let buffer = new Float32Array(0);
  const width = floatsPerSeries(family);
  return {
    kind: 'onnx',
    async forecast(snapshots, origin, _size, horizons) {
      if (buffer.length < snapshots.length * width) buffer = new Float32Array(snapshots.length * width);
      snapshots.forEach((s, i) => family.build(s, origin, buffer, i * width));
      const out = await runner.run(buffer.subarray(0, snapshots.length * width), snapshots.length * family.rowsPerSeries);
      if (statistical) applyStatistical(statistical, out, snapshots, origin, Math.min(horizons, modelHorizons), modelHorizons);
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
