/**
 * Builds the feature vector of docs/features.md for one series into a row of a shared
 * Float32Array. This is on the serving hot path (tens of thousands of series per second):
 * it writes in place and allocates nothing per series. `training/forecast_training/features.py`
 * is the independent Python implementation; `test/vectors/features.json` checks both.
 */
import { bucketEndMs, bucketStartMs, type BucketSize } from './bucket-clock.js';
import { yearOfDay, daysFromCivil } from './civil-days.js';
import { FEATURE_COUNT, FEATURE_HORIZONS, FEATURE_INDEX as F, FEATURE_SPEC } from './feature-spec.js';
import { isHolidayBucket } from './holidays.js';
import type { SeriesSnapshot } from '../series-snapshot.js';

const DAY_MS = 86_400_000;
const TWO_PI = 2 * Math.PI;
const DAYS_PER_YEAR = 365.25;

function salesAt(sales: ReadonlyMap<number, number>, bucket: number): number {
  return sales.get(bucket) ?? 0;
}

/** s = max(1, mean |y| over the 52 buckets up to the origin), absent buckets counting 0. */
export function seriesScale(sales: ReadonlyMap<number, number>, origin: number): number {
  const window = FEATURE_SPEC.scaleWindow;
  let sum = 0;
  // Iterate whichever side is smaller: a short-lived series has few entries.
  if (sales.size < window) {
    for (const [b, v] of sales) if (b > origin - window && b <= origin) sum += Math.abs(v);
  } else {
    for (let b = origin - window + 1; b <= origin; b++) sum += Math.abs(salesAt(sales, b));
  }
  return Math.max(FEATURE_SPEC.scaleFloor, sum / window);
}

/**
 * Writes `FEATURE_COUNT` floats at `out[offset..]` for `snapshot` forecast from `origin`
 * (the newest bucket whose sales are known).
 */
export function buildFeatures(
  snapshot: SeriesSnapshot,
  origin: number,
  size: BucketSize,
  out: Float32Array,
  offset: number,
): void {
  if (offset < 0 || offset + FEATURE_COUNT > out.length) {
    throw new RangeError(`feature row at ${offset} does not fit a buffer of ${out.length}`);
  }
  const sales = snapshot.sales;
  const s = seriesScale(sales, origin);

  for (let k = 0; k < FEATURE_SPEC.lags; k++) out[offset + F.lag0 + k] = salesAt(sales, origin - k) / s;

  const season = FEATURE_SPEC.seasonLength[size];
  for (let j = 0; j < 6; j++) out[offset + F.seasonal0 + j] = salesAt(sales, origin - season + j) / s;
  const lyLags = FEATURE_SPEC.lastYearLags;
  for (let i = 0; i < lyLags.length; i++) out[offset + F.lyLag1 + i] = salesAt(sales, origin - season - lyLags[i]!) / s;

  out[offset + F.logScale] = Math.log(s);
  out[offset + F.mean4] =
    (salesAt(sales, origin) + salesAt(sales, origin - 1) + salesAt(sales, origin - 2) + salesAt(sales, origin - 3)) /
    4 /
    s;

  const promos = snapshot.promotions;
  for (let h = 1; h <= FEATURE_HORIZONS; h++) {
    const b = origin + h;
    const start = bucketStartMs(b, size);
    const end = bucketEndMs(b, size);
    let markdown = 0;
    let depth = 0;
    for (let i = 0; i < promos.length; i++) {
      const p = promos[i]!;
      if (p.startMs < end && p.endMs > start) {
        markdown += p.markdown;
        if (p.depth > depth) depth = p.depth;
      }
    }
    const w = snapshot.weather.get(b);
    const t = w?.temperatureC ?? null;
    const pr = w?.precipitationMm ?? null;
    out[offset + F.markdown + h - 1] = Math.log1p(markdown / FEATURE_SPEC.markdownDivisor);
    out[offset + F.depth + h - 1] = depth;
    out[offset + F.temp + h - 1] =
      t === null ? 0 : (t - FEATURE_SPEC.temperatureCenterC) / FEATURE_SPEC.temperatureScaleC;
    out[offset + F.precip + h - 1] = pr === null ? 0 : Math.log1p(pr);
    out[offset + F.holiday + h - 1] = isHolidayBucket(b, size) ? 1 : 0;
  }

  // Season position of the first forecast bucket, by its label date (the day, or the week's Friday).
  const labelDay = Math.floor(bucketEndMs(origin + 1, size) / DAY_MS) - 1;
  const dayOfYear = labelDay - daysFromCivil(yearOfDay(labelDay), 1, 1);
  const angle = (TWO_PI * dayOfYear) / DAYS_PER_YEAR;
  out[offset + F.woySin] = Math.sin(angle);
  out[offset + F.woyCos] = Math.cos(angle);
}
