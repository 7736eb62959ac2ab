import { floatsPerSeries, type FeatureFamily } from './features/feature-family.js';
import { psi } from './drift-monitor.js';
import type { DriftReference } from './forecast.js';

/**
 * Two-sample Kolmogorov–Smirnov statistic D = sup |F_a − F_b| and whether it rejects "same
 * distribution" at significance alpha (asymptotic critical value c(α)·√((n+m)/(n·m)),
 * c(0.001) = 1.949). Distribution-free and exact about small samples, where a binned PSI is
 * noise: the rollout uses KS while either side has fewer than KS_BELOW values, PSI above that
 * (with thousands of values KS rejects shifts too small to matter; PSI measures the size).
 * Significance alone is not enough either: a version compared on the same series as the live
 * one (shadow) differs significantly from it after any retrain, so a shift also needs
 * D > KS_MIN_D (a fifth of the distribution moved) to count.
 */
export function ks(a: readonly number[], b: readonly number[], alpha = 0.001): { d: number; critical: number; rejects: boolean } {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { d: 0, critical: Number.POSITIVE_INFINITY, rejects: false };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < n && x[i]! <= v) i++;
    while (j < m && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const c = Math.sqrt(-0.5 * Math.log(alpha / 2));
  const critical = c * Math.sqrt((n + m) / (n * m));
  return { d, critical, rejects: d > critical };
}

export const KS_BELOW = 1_000;
export const KS_MIN_D = 0.2;

/** p-th percentile (0..100) of a sample, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** p50 / scale of every (series, horizon) of an output, scale from the features (series still filling their first year are left out, as in drift checks). */
export function normalisedMedians(family: FeatureFamily, features: Float32Array, output: Float32Array, batch: number, horizons: number, into: number[], limit: number): void {
  const width = floatsPerSeries(family);
  for (let r = 0; r < batch && into.length < limit; r++) {
    const scale = family.driftScale(features, r * width);
    if (!(scale > 0)) continue;
    for (let k = 0; k < horizons; k++) into.push(output[(r * horizons + k) * 3 + 1]! / scale);
  }
}

function shares(values: readonly number[], edges: readonly number[]): number[] {
  const k = edges.length - 1;
  const counts = new Array<number>(k).fill(0);
  for (const v of values) {
    let b = 0;
    while (b < k - 1 && v >= edges[b + 1]!) b++;
    counts[b]!++;
  }
  return counts.map((c) => c / Math.max(1, values.length));
}

export interface ShiftVerdict {
  /** Values compared per side. */
  n: number;
  m: number;
  psi: number;
  ksD: number;
  ksCritical: number;
  /** Which test decided: ks while a side has fewer than KS_BELOW values, else psi. */
  test: 'psi' | 'ks';
  shifted: boolean;
}

/** Output shift of a new version against the live one: PSI on the training reference's bins, or KS for small samples. */
export function outputShift(candidate: readonly number[], live: readonly number[], reference: DriftReference | null, psiThreshold: number): ShiftVerdict {
  const edges = reference?.edges ?? [Number.NEGATIVE_INFINITY, ...quantileEdges(live, 10), Number.POSITIVE_INFINITY];
  const p = psi(shares(candidate, edges), shares(live, edges));
  const k = ks(candidate, live);
  const small = Math.min(candidate.length, live.length) < KS_BELOW;
  return { n: candidate.length, m: live.length, psi: p, ksD: k.d, ksCritical: k.critical, test: small ? 'ks' : 'psi', shifted: small ? k.rejects && k.d > KS_MIN_D : p > psiThreshold };
}

function quantileEdges(values: readonly number[], bins: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < bins; i++) out.push(percentile(values, (100 * i) / bins));
  return out;
}
