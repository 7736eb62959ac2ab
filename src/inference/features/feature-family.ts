/**
 * A feature family: the feature spec a model was trained on, and how the processor builds
 * it from a series snapshot. Each model artifact names its family (`featureSpec.family`
 * in model.json; absent = `walmart-weekly`, the first family), and the processor builds
 * the tensor from the family of the model it loaded, so a weekly department model and a
 * daily SKU model run on the same pipeline. docs/features.md and docs/features-m5-daily.md
 * define the families; test/vectors/ holds their parity vectors.
 */
import type { BucketSize } from './bucket-clock.js';
import type { SeriesSnapshot } from '../series-snapshot.js';

/** Input streams a model can read. */
export const MODEL_INPUTS = ['sales', 'prices', 'promotions', 'weather'] as const;
export type ModelInput = (typeof MODEL_INPUTS)[number];

export interface FeatureFamily {
  /** Family id as written in model.json (`featureSpec.family`). */
  readonly id: string;
  readonly bucketSize: BucketSize;
  readonly specVersion: number;
  readonly specHash: string;
  readonly names: readonly string[];
  /** Floats per row. */
  readonly featureCount: number;
  /** Rows per series: 1 (all horizons in one row) or one row per horizon. */
  readonly rowsPerSeries: number;
  /** Inputs the family's features read; a model.json `inputs` list narrows it to what the model learned. */
  readonly inputs: readonly ModelInput[];
  /** Buckets of history the state window must keep for these features. */
  readonly lookback: number;
  /** Horizons the family's features cover (and the model's output has). */
  readonly horizons: number;
  /** Writes `rowsPerSeries * featureCount` floats at `out[offset..]` for `snapshot` forecast from `origin`. */
  build(snapshot: SeriesSnapshot, origin: number, out: Float32Array, offset: number): void;
  /**
   * Per-series scale of the rows at `offset` (drift compares p50 / scale), and whether the
   * series belongs to the population the training reference covers (enough history);
   * NaN when it does not.
   */
  driftScale(features: Float32Array, offset: number): number;
}

/** Floats one series takes in the model input. */
export function floatsPerSeries(f: FeatureFamily): number {
  return f.featureCount * f.rowsPerSeries;
}

/** The model input of a batch: each series' rows from its snapshot and origin, in order (a fresh buffer). */
export function buildBatch(f: FeatureFamily, snapshots: readonly SeriesSnapshot[], origins: readonly number[]): Float32Array {
  const width = floatsPerSeries(f);
  const features = new Float32Array(snapshots.length * width);
  for (let i = 0; i < snapshots.length; i++) f.build(snapshots[i]!, origins[i]!, features, i * width);
  return features;
}
