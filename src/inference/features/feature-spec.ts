/**
 * The feature spec shared by serving and training (docs/features.md). The model records
 * `FEATURE_SPEC_HASH` in its metadata and the processor refuses a model trained on another
 * spec. `training/forecast_training/feature_spec.py` holds the same object; both sides hash
 * it the same way and `test/vectors/features.json` carries the hash so a drift fails a test
 * in both languages.
 */
import { createHash } from 'node:crypto';

/** Bump on any change to the meaning, order or count of the features. */
export const FEATURE_SPEC_VERSION = 2;

/** Forecast horizons the per-horizon features cover (weekly Walmart data: 4). */
export const FEATURE_HORIZONS = 4;

const perHorizon = (prefix: string): string[] =>
  Array.from({ length: FEATURE_HORIZONS }, (_, i) => `${prefix}_h${i + 1}`);

export const FEATURE_NAMES: readonly string[] = Object.freeze([
  ...Array.from({ length: 8 }, (_, k) => `lag_${k}`),
  'seasonal_m1',
  'seasonal_0',
  'seasonal_p1',
  'seasonal_p2',
  'seasonal_p3',
  'seasonal_p4',
  'log_scale',
  'mean_4_over_52',
  ...perHorizon('markdown'),
  ...perHorizon('depth'),
  ...perHorizon('temp'),
  ...perHorizon('precip'),
  ...perHorizon('holiday'),
  'woy_sin',
  'woy_cos',
  ...Array.from({ length: 7 }, (_, k) => `ly_lag_${k + 1}`),
]);

export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Column offsets, so the builder and the fallback never hard-code positions twice. */
export const FEATURE_INDEX = Object.freeze({
  lag0: 0,
  seasonal0: 8,
  logScale: 14,
  mean4: 15,
  markdown: 16,
  depth: 20,
  temp: 24,
  precip: 28,
  holiday: 32,
  woySin: 36,
  woyCos: 37,
  /** ly_lag_1 .. ly_lag_7: y[o - season - k] / s (ly_lag_0 is seasonal_m1). */
  lyLag1: 38,
});

/**
 * Everything that changes the vector. Integers and strings only, so the canonical JSON is
 * byte-identical in JavaScript and Python (no float formatting differences).
 */
export const FEATURE_SPEC = Object.freeze({
  version: FEATURE_SPEC_VERSION,
  horizons: FEATURE_HORIZONS,
  names: FEATURE_NAMES,
  lags: 8,
  seasonalOffsets: [-1, 0, 1, 2, 3, 4],
  lastYearLags: [1, 2, 3, 4, 5, 6, 7],
  seasonLength: { day: 7, week: 52 },
  scaleWindow: 52,
  scaleFloor: 1,
  markdownDivisor: 1000,
  temperatureCenterC: 15,
  temperatureScaleC: 10,
  holidays: ['super_bowl', 'labor_day', 'thanksgiving', 'christmas'],
  superBowlSecondSundayFrom: 2022,
});

/** JSON with object keys sorted at every level and no whitespace (Python: sort_keys, separators). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function featureSpecHash(spec: unknown = FEATURE_SPEC): string {
  return createHash('sha256').update(canonicalJson(spec), 'utf8').digest('hex');
}

export const FEATURE_SPEC_HASH = featureSpecHash();
