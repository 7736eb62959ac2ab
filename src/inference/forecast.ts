import type { SourceOffset } from '../ingest/input-events.js';
import type { FeatureFamily, ModelInput } from './features/feature-family.js';
import type { StatisticalComponent } from './statistical/statistical-component.js';

export interface HorizonForecast {
  horizon: number;
  bucketDate: string;
  p10: number;
  p50: number;
  p90: number;
}

export type ForecastSource = 'primary' | 'fallback' | 'cold_start';

/** One series' fresh forecast with its provenance: what the publish stage sends. */
export interface Forecast {
  seriesId: string;
  store: string;
  item: string;
  issuedAt: number;
  bucketSize: 'day' | 'week';
  originBucket: number;
  originDate: string;
  horizons: HorizonForecast[];
  modelName: string;
  modelVersion: string;
  source: ForecastSource;
  /** issuedAt minus the end of the newest sales bucket; null when the series has no sales yet. */
  featureAgeMs: number | null;
  triggers: SourceOffset[];
}

/** The primary model as the inference stage sees it (ONNX in a worker thread in production). */
export interface PrimaryModel {
  readonly name: string;
  readonly version: string;
  readonly horizons: number;
  /** The feature family the model reads: the forecaster builds its input with it. */
  readonly family: FeatureFamily;
  /** Inputs the model learned an effect from: an event of another kind is stored but re-forecasts nothing. */
  readonly inputs: readonly ModelInput[];
  /** Series younger than this many buckets since their first sale are served as cold starts (null: no cold-start branch). */
  readonly coldStartBuckets: number | null;
  /** A per-series statistical forecast averaged into the ONNX median after each run (absent / null: none). */
  readonly statistical?: StatisticalComponent | null;
  /** Execution provider actually running (cpu, cuda, tensorrt). */
  readonly provider: string;
  /** Providers tried before it, with why they did not load (empty when the first one runs). */
  readonly providerFailures?: ReadonlyArray<{ provider: string; error?: string }>;
  /** Reference distribution of p50 / scale, from training, for drift checks (null: no check). */
  readonly reference: DriftReference | null;
  /** features: [batch * family.rowsPerSeries, F] row-major; returns [batch, horizons, 3] (p10, p50, p90). */
  run(features: Float32Array, batch: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface DriftReference {
  /** Bin edges (ascending, length k+1) of p50 / scale; outer bins are open-ended. */
  edges: number[];
  /** Share of reference outputs per bin (length k, sums to 1). */
  proportions: number[];
}
