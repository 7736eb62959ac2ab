/**
 * WAPE of the p50 (sum |actual - p50| / sum actual), the same for a baseline on exactly the
 * same pairs, and the share of actuals inside [p10, p90] (inclusive: a count of 0 inside a
 * 0..0 interval is covered). ../shared/data/m5-daily/README.md, "Metric, rolling".
 */
export interface WapeSummary {
  pairs: number;
  actual_total: number;
  wape: number;
  baseline_wape: number;
  ratio_to_baseline: number;
  coverage_p10_p90: number;
}

export class WapeAccumulator {
  #pairs = 0;
  #actual = 0;
  #err = 0;
  #base = 0;
  #covered = 0;

  add(actual: number, p10: number, p50: number, p90: number, baseline: number): void {
    this.#pairs++;
    this.#actual += actual;
    this.#err += Math.abs(actual - p50);
    this.#base += Math.abs(actual - baseline);
    if (actual >= p10 && actual <= p90) this.#covered++;
  }

  summary(): WapeSummary {
    return {
      pairs: this.#pairs,
      actual_total: this.#actual,
      wape: this.#actual > 0 ? this.#err / this.#actual : Number.NaN,
      baseline_wape: this.#actual > 0 ? this.#base / this.#actual : Number.NaN,
      ratio_to_baseline: this.#base > 0 ? this.#err / this.#base : Number.NaN,
      coverage_p10_p90: this.#pairs > 0 ? this.#covered / this.#pairs : Number.NaN,
    };
  }
}
