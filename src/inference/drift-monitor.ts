import type { DriftReference } from './forecast.js';

/**
 * Population stability index PSI = Σ (a_i − e_i) · ln(a_i / e_i) over bins
 * (Siddiqi, "Credit Risk Scorecards", 2006; > 0.25 is the usual "significant shift" line).
 * Empty bins count as 1e-4 so the logarithm stays finite.
 */
export function psi(actual: readonly number[], expected: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = Math.max(actual[i]!, 1e-4);
    const e = Math.max(expected[i] ?? 0, 1e-4);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

export interface DriftVerdict {
  /** PSI of this window against the last healthy window (null for the first window). */
  psiBaseline: number | null;
  /** PSI of this window against the training run's reference distribution. */
  psiTraining: number;
  /** This window counts as a shift against the baseline. */
  shifted: boolean;
}

/**
 * Tumbling windows of the primary model's p50 / scale, binned on the training
 * reference's quantile edges. Each full window is compared with
 * - the last window judged healthy (the baseline): an abrupt change between windows —
 *   a broken model version, corrupted inputs — is drift, and opens the breaker; and
 * - the training reference: how far live outputs are from what training saw. That moves
 *   with the seasons (a December of any retailer differs from a year-round reference) and
 *   with the population (another retailer's catalog), so it is reported, not acted on.
 * A window over the threshold does not become the baseline, so a lasting shift keeps
 * being compared with the last healthy state.
 */
export class DriftMonitor {
  readonly #ref: DriftReference;
  readonly #window: number;
  readonly #threshold: number;
  readonly #counts: Int32Array;
  #filled = 0;
  #baseline: number[] | null = null;

  /** baseline: a healthy window to compare the first one with (a new model version inherits the previous one's, so an abrupt shift at the switch is drift). */
  constructor(reference: DriftReference, window: number, threshold: number, baseline: readonly number[] | null = null) {
    if (reference.edges.length !== reference.proportions.length + 1) throw new Error('drift reference: edges must be one longer than proportions');
    this.#ref = reference;
    this.#window = window;
    this.#threshold = threshold;
    this.#counts = new Int32Array(reference.proportions.length);
    this.#baseline = baseline && baseline.length === reference.proportions.length ? [...baseline] : null;
  }

  /** The last window judged healthy (bin shares), or null before the first window. */
  get baseline(): readonly number[] | null {
    return this.#baseline;
  }

  /** Add normalised values (p50 / scale); returns a verdict each time a window fills. */
  observe(values: ArrayLike<number>): DriftVerdict | null {
    let verdict: DriftVerdict | null = null;
    for (let i = 0; i < values.length; i++) {
      this.#counts[this.#binOf(values[i]!)]!++;
      if (++this.#filled === this.#window) verdict = this.#close();
    }
    return verdict;
  }

  /** Forget the current partial window (the baseline stays). */
  resetWindow(): void {
    this.#counts.fill(0);
    this.#filled = 0;
  }

  #close(): DriftVerdict {
    const shares = Array.from(this.#counts, (c) => c / this.#filled);
    this.resetWindow();
    const psiTraining = psi(shares, this.#ref.proportions);
    if (!this.#baseline) {
      this.#baseline = shares;
      return { psiBaseline: null, psiTraining, shifted: false };
    }
    const psiBaseline = psi(shares, this.#baseline);
    const shifted = psiBaseline > this.#threshold;
    if (!shifted) this.#baseline = shares;
    return { psiBaseline, psiTraining, shifted };
  }

  #binOf(v: number): number {
    const edges = this.#ref.edges;
    const k = this.#counts.length;
    if (!(v >= edges[1]!)) return 0;
    if (v >= edges[k - 1]!) return k - 1;
    let lo = 1;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (v >= edges[mid]!) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
