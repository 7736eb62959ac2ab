/**
 * The `stl-ses` statistical component: a per-series forecast from the series' own history,
 * STL decomposition + simple exponential smoothing (the peers' MSTL + ETS, made deterministic).
 * Twin of training/forecast_training/stl_ses.py; parity vectors in test/vectors/stl-ses.json.
 *
 * - STL (Cleveland, Cleveland, McRae & Terpenning 1990) as statsmodels' `STL(period=52,
 *   seasonal=11, seasonal_deg=0)` computes it (trend window 91 / degree 1, low-pass 53 / degree 1,
 *   jumps 1, not robust: 5 inner iterations, no outer ones), the settings statsforecast's MSTL uses.
 * - x = y - season is smoothed by SES; alpha (from ALPHAS) and the initial level minimise the sum
 *   of squared one-step errors (the initial level in closed form: the errors are linear in it).
 * - Forecast of bucket o+h: level + (1 - d/7) season[o+h-52] + d/7 season[o+h-53], d = the days
 *   by which the week 52 weeks back ends after the same date a year before (1, or 2 across a
 *   29 February): the seasonal component of the same dates a year back (`calendarShift`).
 * History: the newest `lookback` buckets up to the origin from the series' first sale on (absent
 * buckets are 0); with fewer than `minHistory` there is no forecast (null).
 */
import { bucketLabel } from '../features/bucket-clock.js';
import type { SeriesSnapshot } from '../series-snapshot.js';

export interface StlSesSettings {
  period: number;
  seasonal: number;
  trend: number;
  lowPass: number;
  innerIterations: number;
  alphas: readonly number[];
  lookback: number;
  minHistory: number;
  /** Seasonal term from the same dates a year back (else from the week 52 weeks back). */
  alignCalendar: boolean;
}

/** The settings the Python reference uses (model.json's `statistical` must name the same). */
export const STL_SES_V1: Readonly<StlSesSettings> = Object.freeze({
  period: 52,
  seasonal: 11,
  trend: 91,
  lowPass: 53,
  innerIterations: 5,
  alphas: Object.freeze([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9]),
  lookback: 120,
  minHistory: 56,
  alignCalendar: true,
});

const SEASONAL_DEG = 0;
const DAY_MS = 86_400_000;

/** Days by which the week 52 weeks before week bucket `target` ends after the same date a year back (1 or 2). */
export function calendarShift(target: number): number {
  const [y, m, d] = bucketLabel(target, 'week').split('-').map(Number) as [number, number, number];
  const back = Date.UTC(y, m - 1, d) - 364 * DAY_MS;
  const yearAgo = Date.UTC(y - 1, m - 1, m === 2 && d === 29 ? 28 : d);
  return Math.round((back - yearAgo) / DAY_MS);
}
const TREND_DEG = 1;
const LOW_PASS_DEG = 1;

/** Loess estimate at 1-based position xs from y[nleft-1 .. nright-1] (y holds n points); NaN when no weight. */
function est(y: Float64Array, n: number, len: number, ideg: number, xs: number, nleft: number, nright: number, w: Float64Array): number {
  const range = n - 1;
  let h = Math.max(xs - nleft, nright - xs);
  if (len > n) h += Math.floor((len - n) / 2);
  const h9 = 0.999 * h;
  const h1 = 0.001 * h;
  let a = 0;
  for (let j = nleft - 1; j < nright; j++) {
    const r = Math.abs(j + 1 - xs);
    let v = 0;
    if (r <= h9) {
      if (r <= h1) v = 1;
      else {
        const u = r / h;
        const t = 1 - u * u * u;
        v = t * t * t;
      }
    }
    w[j] = v;
    a += v;
  }
  if (a <= 0) return Number.NaN;
  for (let j = nleft - 1; j < nright; j++) w[j] = w[j]! / a;
  if (h > 0 && ideg > 0) {
    let mean = 0;
    for (let j = nleft - 1; j < nright; j++) mean += w[j]! * (j + 1);
    const b = xs - mean;
    let c = 0;
    for (let j = nleft - 1; j < nright; j++) {
      const d = j + 1 - mean;
      c += w[j]! * d * d;
    }
    if (Math.sqrt(c) > 0.001 * range) {
      const bc = b / c;
      for (let j = nleft - 1; j < nright; j++) w[j] = w[j]! * (bc * (j + 1 - mean) + 1);
    }
  }
  let ys = 0;
  for (let j = nleft - 1; j < nright; j++) ys += w[j]! * y[j]!;
  return ys;
}

/** Loess smoothing of every position of y[0 .. n-1] into out (jump 1). */
function ess(y: Float64Array, n: number, len: number, ideg: number, out: Float64Array, w: Float64Array): void {
  if (n < 2) {
    out[0] = y[0]!;
    return;
  }
  if (len >= n) {
    for (let i = 0; i < n; i++) {
      const v = est(y, n, len, ideg, i + 1, 1, n, w);
      out[i] = Number.isNaN(v) ? y[i]! : v;
    }
    return;
  }
  const nsh = Math.floor((len + 2) / 2);
  let nleft = 1;
  let nright = len;
  for (let i = 0; i < n; i++) {
    if (i + 1 > nsh && nright !== n) {
      nleft++;
      nright++;
    }
    const v = est(y, n, len, ideg, i + 1, nleft, nright, w);
    out[i] = Number.isNaN(v) ? y[i]! : v;
  }
}

/** Moving average of window len: out has x.length - len + 1 values. */
function movingAverage(x: Float64Array, n: number, len: number, out: Float64Array): void {
  let v = 0;
  for (let i = 0; i < len; i++) v += x[i]!;
  out[0] = v / len;
  for (let j = 1; j < n - len + 1; j++) {
    v += x[j + len - 1]! - x[j - 1]!;
    out[j] = v / len;
  }
}

/** Seasonal and trend components of y (statsmodels STL, non-robust, jumps 1). */
export function stl(y: Float64Array, s: StlSesSettings = STL_SES_V1): { season: Float64Array; trend: Float64Array } {
  const n = y.length;
  const p = s.period;
  const trend = new Float64Array(n);
  const season = new Float64Array(n);
  const detrended = new Float64Array(n);
  const cycle = new Float64Array(n + 2 * p);
  const ma1 = new Float64Array(n + 2 * p);
  const ma2 = new Float64Array(n + 2 * p);
  const ma3 = new Float64Array(n + 2 * p);
  const low = new Float64Array(n);
  const adjusted = new Float64Array(n);
  const w = new Float64Array(Math.max(n + 2 * p, s.trend, s.lowPass, s.seasonal) + 2);
  const maxSub = Math.ceil(n / p) + 2;
  const sub = new Float64Array(maxSub);
  const smooth = new Float64Array(maxSub);
  for (let iter = 0; iter < s.innerIterations; iter++) {
    for (let i = 0; i < n; i++) detrended[i] = y[i]! - trend[i]!;
    // cycle-subseries smoothing, each extended one cycle before and after (cycle: n + 2p values)
    for (let j = 0; j < p; j++) {
      const k = Math.floor((n - (j + 1)) / p) + 1;
      for (let i = 0; i < k; i++) sub[i] = detrended[i * p + j]!;
      ess(sub, k, s.seasonal, SEASONAL_DEG, smooth, w);
      const first = est(sub, k, s.seasonal, SEASONAL_DEG, 0, 1, Math.min(s.seasonal, k), w);
      const last = est(sub, k, s.seasonal, SEASONAL_DEG, k + 1, Math.max(1, k - s.seasonal + 1), k, w);
      cycle[j] = Number.isNaN(first) ? smooth[0]! : first;
      for (let i = 0; i < k; i++) cycle[(i + 1) * p + j] = smooth[i]!;
      cycle[(k + 1) * p + j] = Number.isNaN(last) ? smooth[k - 1]! : last;
    }
    // low-pass filter of the cycle-subseries: moving averages p, p, 3, then loess
    movingAverage(cycle, n + 2 * p, p, ma1);
    movingAverage(ma1, n + p + 1, p, ma2);
    movingAverage(ma2, n + 2, 3, ma3);
    ess(ma3, n, s.lowPass, LOW_PASS_DEG, low, w);
    for (let i = 0; i < n; i++) {
      season[i] = cycle[p + i]! - low[i]!;
      adjusted[i] = y[i]! - season[i]!;
    }
    ess(adjusted, n, s.trend, TREND_DEG, trend, w);
  }
  return { season, trend };
}

/**
 * Without robustness weights STL is linear in y: season = S_n y for a matrix S_n that depends on
 * the length n only. Serving multiplies by S_n (n^2 multiply-adds, ~30x fewer than running STL),
 * built once per length from STL of the unit vectors and kept (at most lookback - minHistory + 1
 * lengths; a full window is one length).
 */
const seasonMatrices = new Map<string, Map<number, Float64Array>>();

function seasonMatrix(n: number, s: StlSesSettings): Float64Array {
  const key = JSON.stringify(s);
  let byLength = seasonMatrices.get(key);
  if (!byLength) seasonMatrices.set(key, (byLength = new Map()));
  let m = byLength.get(n);
  if (!m) {
    m = new Float64Array(n * n); // row-major: season[i] = sum_j m[i * n + j] y[j]
    const e = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      e.fill(0);
      e[j] = 1;
      const { season } = stl(e, s);
      for (let i = 0; i < n; i++) m[i * n + j] = season[i]!;
    }
    byLength.set(n, m);
  }
  return m;
}

/** The seasonal component of y through the cached linear map (equal to stl(y).season up to rounding). */
export function seasonOf(y: Float64Array, s: StlSesSettings = STL_SES_V1): Float64Array {
  const n = y.length;
  const m = seasonMatrix(n, s);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) v += m[row + j]! * y[j]!;
    out[i] = v;
  }
  return out;
}

/**
 * Forecasts of origin+1 .. origin+horizons from a chronological history (first sale first, the
 * week bucket `origin` last, at most `lookback` long), or null below `minHistory` buckets.
 */
export function stlSesFromHistory(history: Float64Array, origin: number, horizons: number, s: StlSesSettings = STL_SES_V1): Float64Array | null {
  const n = history.length;
  if (n < s.minHistory) return null;
  const season = seasonOf(history, s);
  const x = new Float64Array(n);
  for (let t = 0; t < n; t++) x[t] = history[t]! - season[t]!;
  const e0 = new Float64Array(n);
  let bestSse = Number.POSITIVE_INFINITY;
  let bestLevel = 0;
  for (const alpha of s.alphas) {
    // SES from level 0; the errors with initial level l0 are e0[t] - (1 - alpha)^t l0
    let level = 0;
    for (let t = 0; t < n; t++) {
      e0[t] = x[t]! - level;
      level += alpha * e0[t]!;
    }
    let ec = 0;
    let cc = 0;
    let c = 1;
    for (let t = 0; t < n; t++) {
      ec += e0[t]! * c;
      cc += c * c;
      c *= 1 - alpha;
    }
    const l0 = ec / cc;
    let sse = 0;
    c = 1;
    for (let t = 0; t < n; t++) {
      const e = e0[t]! - l0 * c;
      sse += e * e;
      c *= 1 - alpha;
    }
    if (sse < bestSse) {
      bestSse = sse;
      bestLevel = level + c * l0; // c = (1 - alpha)^n here
    }
  }
  const out = new Float64Array(horizons);
  for (let h = 1; h <= horizons; h++) {
    const s52 = season[n - s.period + h - 1]!;
    const d = s.alignCalendar ? calendarShift(origin + h) / 7 : 0;
    out[h - 1] = bestLevel + (d === 0 ? s52 : (1 - d) * s52 + d * season[n - s.period + h - 2]!);
  }
  return out;
}

/** The component for one series at `origin` (sales dated <= origin only), or null. */
export function stlSesForecast(snapshot: SeriesSnapshot, origin: number, horizons: number, s: StlSesSettings = STL_SES_V1): Float64Array | null {
  let first = Number.POSITIVE_INFINITY;
  for (const b of snapshot.sales.keys()) if (b < first && b <= origin) first = b;
  if (first === Number.POSITIVE_INFINITY) return null;
  const start = Math.max(first, origin - s.lookback + 1);
  const n = origin - start + 1;
  if (n < s.minHistory) return null;
  const history = new Float64Array(n);
  for (let t = 0; t < n; t++) history[t] = snapshot.sales.get(start + t) ?? 0;
  return stlSesFromHistory(history, origin, horizons, s);
}
