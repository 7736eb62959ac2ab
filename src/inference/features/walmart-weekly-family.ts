import type { BucketSize } from './bucket-clock.js';
import { buildFeatures } from './build-features.js';
import { FEATURE_COUNT, FEATURE_HORIZONS, FEATURE_INDEX, FEATURE_NAMES, FEATURE_SPEC_HASH, FEATURE_SPEC_VERSION } from './feature-spec.js';
import type { FeatureFamily } from './feature-family.js';

export const WALMART_WEEKLY = 'walmart-weekly';

/**
 * The first family (docs/features.md): one row of 45 features per series, 4 horizons;
 * trained on Walmart store x department weeks. The spec also defines day buckets (season 7),
 * so the bucket size is the model's.
 */
export function walmartWeeklyFamily(size: BucketSize = 'week'): FeatureFamily {
  const family: FeatureFamily = {
    id: WALMART_WEEKLY,
    bucketSize: size,
    specVersion: FEATURE_SPEC_VERSION,
    specHash: FEATURE_SPEC_HASH,
    names: FEATURE_NAMES,
    featureCount: FEATURE_COUNT,
    rowsPerSeries: 1,
    // the spec has markdown/depth, temperature and precipitation features; which ones a model
    // learned an effect from is its model.json `inputs`
    inputs: ['sales', 'promotions', 'weather'],
    horizons: FEATURE_HORIZONS,
    // a season plus the horizons and one (the rule the window has had since spec v1)
    lookback: 53 + FEATURE_HORIZONS,
    build(snapshot, origin, out, offset) {
      buildFeatures(snapshot, origin, size, out, offset);
    },
    driftScale(features, offset) {
      // the training reference holds series with a whole year of history (sales 59 buckets back)
      if (features[offset + FEATURE_INDEX.lyLag1 + 6] === 0) return Number.NaN;
      return Math.exp(features[offset + FEATURE_INDEX.logScale]!);
    },
  };
  return Object.freeze(family);
}
