/**
 * Serving cost per series, measured on this machine: feature building, the ONNX run at a
 * given batch size, and the fallback model. Real snapshots, so map sizes and promotion
 * counts are what serving sees.
 */
import { floatsPerSeries, type FeatureFamily } from '../../inference/features/feature-family.js';
import { forecastFallbackInto } from '../../inference/fallback/fallback-forecast.js';
import type { OnnxRunner } from '../../inference/model/onnx-runner.js';
import type { SeriesSnapshot } from '../../inference/series-snapshot.js';
import type { StatisticalComponent } from '../../inference/statistical/statistical-component.js';

export interface InferenceCost {
  batch: number;
  repeats: number;
  features_us_per_series: number;
  onnx_us_per_series: number | null;
  onnx_ms_per_batch: number | null;
  fallback_us_per_series: number;
  /** The model's statistical component (absent when it has none). */
  statistical_us_per_series?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function measureInferenceCost(
  snapshots: readonly SeriesSnapshot[],
  origin: number,
  runner: OnnxRunner | null,
  family: FeatureFamily,
  batch = 1024,
  repeats = 30,
  statistical: StatisticalComponent | null = null,
): Promise<InferenceCost> {
  if (snapshots.length === 0) throw new Error('measureInferenceCost: no snapshots');
  const rows = Array.from({ length: batch }, (_, i) => snapshots[i % snapshots.length]!);
  const width = floatsPerSeries(family);
  const H = family.horizons;
  const x = new Float32Array(batch * width);
  const q = new Float32Array(batch * H * 3);
  const featureTimes: number[] = [];
  const fallbackTimes: number[] = [];
  const onnxTimes: number[] = [];
  const statTimes: number[] = [];
  for (let r = 0; r < repeats + 3; r++) {
    let t = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) family.build(rows[i]!, origin, x, i * width);
    const tf = Number(process.hrtime.bigint() - t) / 1e3;
    t = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) forecastFallbackInto(rows[i]!, origin, family.bucketSize, H, q, i * H * 3);
    const tb = Number(process.hrtime.bigint() - t) / 1e3;
    let to = 0;
    if (runner) {
      t = process.hrtime.bigint();
      await runner.run(x, batch * family.rowsPerSeries);
      to = Number(process.hrtime.bigint() - t) / 1e3;
    }
    let ts = 0;
    if (statistical) {
      t = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) statistical.forecast(rows[i]!, origin, H);
      ts = Number(process.hrtime.bigint() - t) / 1e3;
    }
    if (r >= 3) {
      statTimes.push(ts);
      // The first runs warm caches and the session's memory arena: not counted.
      featureTimes.push(tf);
      fallbackTimes.push(tb);
      onnxTimes.push(to);
    }
  }
  return {
    batch,
    repeats,
    features_us_per_series: median(featureTimes) / batch,
    onnx_us_per_series: runner ? median(onnxTimes) / batch : null,
    onnx_ms_per_batch: runner ? median(onnxTimes) / 1e3 : null,
    fallback_us_per_series: median(fallbackTimes) / batch,
    ...(statistical ? { statistical_us_per_series: median(statTimes) / batch } : {}),
  };
}
