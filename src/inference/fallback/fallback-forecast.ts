/**
 * The fallback model: a classical forecast from the same SeriesSnapshot, no ONNX. It serves
 * while the breaker keeps the primary model out, so it must be cheap, never throw on odd
 * input and give the same output shape: p10/p50/p90 for each horizon, in sales units.
 *
 * p50 for horizon h blends
 *  - seasonal naive scaled by year-on-year growth: y[o+h-m] · g, with g = the last 8
 *    buckets' sales over the same 8 buckets one season earlier, clipped to [0.7, 1.4]
 *    (Hyndman & Athanasopoulos, FPP3 §5.2 "seasonal naïve"; growth keeps it on level), and
 *  - simple exponential smoothing of the recent level (FPP3 §8.1), α = 0.3,
 * with weight SEASONAL_WEIGHT on the seasonal term where a season of history exists, and the
 * smoothed level alone otherwise. A promotion covering bucket o+h with discount depth d
 * multiplies p50 by (1 + PROMO_ELASTICITY · d) (markdown amounts have no per-series scale and
 * are ignored). The interval is p50 ± 1.2816 σ √h' (normal 10%/90% points), σ = 1.25 × the
 * mean absolute one-step error of the blend over the last 8 buckets, p10 floored at 0.
 */
import { bucketEndMs, bucketStartMs, type BucketSize } from '../features/bucket-clock.js';
import type { SeriesSnapshot } from '../series-snapshot.js';

const SEASON: Record<BucketSize, number> = { day: 7, week: 52 };
const ALPHA = 0.3;
const LEVEL_WINDOW = 26;
const GROWTH_WINDOW = 8;
const GROWTH_MIN = 0.7;
const GROWTH_MAX = 1.4;
const SEASONAL_WEIGHT = 0.8;
const PROMO_ELASTICITY = 2;
const ERROR_WINDOW = 8;
/** z of the 90% point of a normal, and MAE -> σ for a normal (√(π/2)). */
const Z90 = 1.2816;
const MAE_TO_SIGMA = 1.2533;

function y(snapshot: SeriesSnapshot, b: number): number {
  return snapshot.sales.get(b) ?? 0;
}

/** First bucket with a sale record (or Infinity): before it the series did not exist yet. */
function firstBucket(snapshot: SeriesSnapshot, origin: number): number {
  let first = Infinity;
  for (const b of snapshot.sales.keys()) if (b < first && b <= origin) first = b;
  return first;
}

function smoothedLevel(snapshot: SeriesSnapshot, from: number, origin: number): number {
  let level = y(snapshot, from);
  for (let b = from + 1; b <= origin; b++) level += ALPHA * (y(snapshot, b) - level);
  return level;
}

function growth(snapshot: SeriesSnapshot, origin: number, season: number): number {
  let now = 0;
  let then = 0;
  for (let k = 0; k < GROWTH_WINDOW; k++) {
    now += y(snapshot, origin - k);
    then += y(snapshot, origin - k - season);
  }
  if (!(then > 0) || !(now > 0)) return 1;
  return Math.min(GROWTH_MAX, Math.max(GROWTH_MIN, now / then));
}

/** The blended point forecast of bucket `target` made at `origin` (no promotion uplift). */
function pointForecast(snapshot: SeriesSnapshot, origin: number, target: number, season: number, first: number): number {
  const level = smoothedLevel(snapshot, Math.max(first, origin - LEVEL_WINDOW), origin);
  if (target - season < first) return level;
  const seasonal = y(snapshot, target - season) * growth(snapshot, origin, season);
  return SEASONAL_WEIGHT * seasonal + (1 - SEASONAL_WEIGHT) * level;
}

function promotionDepth(snapshot: SeriesSnapshot, bucket: number, size: BucketSize): number {
  const start = bucketStartMs(bucket, size);
  const end = bucketEndMs(bucket, size);
  let depth = 0;
  for (const p of snapshot.promotions) if (p.startMs < end && p.endMs > start && p.depth > depth) depth = p.depth;
  return Math.min(1, Math.max(0, depth));
}

/**
 * Writes horizons × [p10, p50, p90] at `out[offset..]` for horizons 1..`horizons`.
 * A series without any sale up to `origin` forecasts 0 with a zero-width interval.
 */
export function forecastFallbackInto(
  snapshot: SeriesSnapshot,
  origin: number,
  size: BucketSize,
  horizons: number,
  out: Float32Array,
  offset: number,
): void {
  const season = SEASON[size];
  const first = firstBucket(snapshot, origin);
  if (first === Infinity) {
    out.fill(0, offset, offset + horizons * 3);
    return;
  }
  // Spread: one-step errors of the same forecast over the last buckets the series existed in.
  let absErr = 0;
  let n = 0;
  for (let b = Math.max(first + 1, origin - ERROR_WINDOW + 1); b <= origin; b++) {
    absErr += Math.abs(y(snapshot, b) - pointForecast(snapshot, b - 1, b, season, first));
    n++;
  }
  const sigma = n > 0 ? (MAE_TO_SIGMA * absErr) / n : Math.abs(y(snapshot, origin)) * 0.5;

  for (let h = 1; h <= horizons; h++) {
    const uplift = 1 + PROMO_ELASTICITY * promotionDepth(snapshot, origin + h, size);
    const p50 = Math.max(0, pointForecast(snapshot, origin, origin + h, season, first) * uplift);
    const half = Z90 * sigma * Math.sqrt(1 + 0.25 * (h - 1)) * uplift;
    const o = offset + (h - 1) * 3;
    out[o] = Math.max(0, p50 - half);
    out[o + 1] = p50;
    out[o + 2] = p50 + half;
  }
}

/** Allocating convenience form: Float32Array of horizons × [p10, p50, p90]. */
export function forecastFallback(snapshot: SeriesSnapshot, origin: number, size: BucketSize, horizons: number): Float32Array {
  const out = new Float32Array(horizons * 3);
  forecastFallbackInto(snapshot, origin, size, horizons, out, 0);
  return out;
}
