import type { DriftReference } from './forecast.js';

/**
 * Watches the distribution of the primary model's p50 / scale against the reference
 * distribution recorded at training time, with the population stability index
 * PSI = Σ (a_i − e_i) · ln(a_i / e_i) over bins (Siddiqi, "Credit Risk Scorecards", 2006;
 * > 0.25 is the usual "significant shift" line). Counts are kept for the last `window`
 * values in a ring buffer, so the check costs O(bins) per batch.
 */
export class DriftMonitor {
  readonly #ref: DriftReference;
  readonly #window: number;
  readonly #bins: Int32Array;
  readonly #ring: Int16Array;
  #filled = 0;
  #next = 0;

  constructor(reference: DriftReference, window: number) {
    if (reference.edges.length !== reference.proportions.length + 1) throw new Error('drift reference: edges must be one longer than proportions');
    this.#ref = reference;
    this.#window = window;
    this.#bins = new Int32Array(reference.proportions.length);
    this.#ring = new Int16Array(window);
  }

  /** Add normalised values (p50 / scale). */
  observe(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const bin = this.#binOf(values[i]!);
      if (this.#filled === this.#window) this.#bins[this.#ring[this.#next]!]!--;
      else this.#filled++;
      this.#ring[this.#next] = bin;
      this.#bins[bin]!++;
      this.#next = (this.#next + 1) % this.#window;
    }
  }

  /** PSI of the current window, or null until the window is full. */
  psi(): number | null {
    if (this.#filled < this.#window) return null;
    let psi = 0;
    for (let i = 0; i < this.#bins.length; i++) {
      const a = Math.max(this.#bins[i]! / this.#filled, 1e-4);
      const e = Math.max(this.#ref.proportions[i]!, 1e-4);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  reset(): void {
    this.#bins.fill(0);
    this.#filled = 0;
    this.#next = 0;
  }

  #binOf(v: number): number {
    const edges = this.#ref.edges;
    const k = this.#bins.length;
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
