/**
 * A statistical component a model artifact can ask for (model.json `statistical`): a per-series
 * forecast the server computes from the series' own history next to the ONNX run, averaged into
 * the model's median (docs/model.md, "walmart-stl"). Twin of `blend` in
 * training/forecast_training/walmart_stl.py:
 *
 *   m   = max(0, (1 - weight) q50 + weight S)     (m = q50 where S is absent: too little history)
 *   p10 = max(0, m - kLo (q50 - q10)),  p90 = m + kHi (q90 - q50)
 *
 * q = the ONNX output, S = the component's forecast. The result stays ordered and non-negative.
 */
import { z } from 'zod';
import type { SeriesSnapshot } from '../series-snapshot.js';
import { STL_SES_V1, stlSesForecast, type StlSesSettings } from './stl-ses.js';

export const StatisticalMetadataSchema = z.object({
  method: z.literal('stl-ses'),
  version: z.literal(1),
  weight: z.number().min(0).max(1),
  kLo: z.number().positive(),
  kHi: z.number().positive(),
  period: z.number().int(),
  seasonal: z.number().int(),
  trend: z.number().int(),
  lowPass: z.number().int(),
  innerIterations: z.number().int(),
  alphas: z.array(z.number()),
  lookback: z.number().int().positive(),
  minHistory: z.number().int().positive(),
  alignCalendar: z.boolean(),
}).passthrough();

export type StatisticalMetadata = z.infer<typeof StatisticalMetadataSchema>;

export interface StatisticalComponent {
  readonly method: 'stl-ses';
  readonly weight: number;
  readonly kLo: number;
  readonly kHi: number;
  /** Buckets of history the component reads (the state window must hold them). */
  readonly lookback: number;
  /** Forecasts of origin+1 .. origin+horizons in sales units, or null. */
  forecast(snapshot: SeriesSnapshot, origin: number, horizons: number): Float64Array | null;
}

/**
 * The component model.json describes. Its settings must be the ones this build implements: a
 * model fitted with other STL windows would be served numbers it was never calibrated on.
 */
export function statisticalComponentOf(m: StatisticalMetadata, where: string): StatisticalComponent {
  const settings: StlSesSettings = {
    period: m.period, seasonal: m.seasonal, trend: m.trend, lowPass: m.lowPass, innerIterations: m.innerIterations,
    alphas: m.alphas, lookback: m.lookback, minHistory: m.minHistory, alignCalendar: m.alignCalendar,
  };
  const want = STL_SES_V1;
  const same = (Object.keys(want) as Array<keyof StlSesSettings>).every((k) =>
    k === 'alphas' ? want.alphas.length === settings.alphas.length && want.alphas.every((a, i) => a === settings.alphas[i]) : want[k] === settings[k]);
  if (!same) throw new Error(`${where}: statistical component stl-ses v1 with settings ${JSON.stringify(settings)}; this build implements ${JSON.stringify(want)}`);
  return Object.freeze({
    method: 'stl-ses' as const,
    weight: m.weight,
    kLo: m.kLo,
    kHi: m.kHi,
    lookback: m.lookback,
    forecast: (snapshot: SeriesSnapshot, origin: number, horizons: number) => stlSesForecast(snapshot, origin, horizons, want),
  });
}

/** Blends S (or nothing, when null) into the quantiles `q` ([horizons, 3] at `offset`), in place. */
export function blendStatistical(c: Pick<StatisticalComponent, 'weight' | 'kLo' | 'kHi'>, q: Float32Array, offset: number, horizons: number, s: ArrayLike<number> | null): void {
  for (let h = 0; h < horizons; h++) {
    const o = offset + h * 3;
    const q10 = q[o]!;
    const q50 = q[o + 1]!;
    const q90 = q[o + 2]!;
    const m = Math.max(0, s === null ? q50 : (1 - c.weight) * q50 + c.weight * s[h]!);
    q[o] = Math.max(0, m - c.kLo * (q50 - q10));
    q[o + 1] = m;
    q[o + 2] = m + c.kHi * (q90 - q50);
  }
}

/** Applies the component to a batch of ONNX outputs ([batch, horizons, 3], row i = snapshot i), in place. */
export function applyStatistical(c: StatisticalComponent, q: Float32Array, snapshots: readonly SeriesSnapshot[], origins: readonly number[] | number, horizons: number, rowHorizons = horizons): void {
  for (let i = 0; i < snapshots.length; i++) {
    const origin = typeof origins === 'number' ? origins : origins[i]!;
    blendStatistical(c, q, i * rowHorizons * 3, horizons, c.forecast(snapshots[i]!, origin, horizons));
  }
}
