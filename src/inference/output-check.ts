/**
 * Checks a model output `[batch, horizons, 3]`: every value finite and non-negative, and
 * p10 <= p50 <= p90. Returns a description of the first problem, or null.
 */
export function checkQuantiles(out: Float32Array, batch: number, horizons: number): string | null {
  if (out.length !== batch * horizons * 3) return `output has ${out.length} values, expected ${batch}x${horizons}x3`;
  for (let i = 0; i < out.length; i += 3) {
    const p10 = out[i]!;
    const p50 = out[i + 1]!;
    const p90 = out[i + 2]!;
    if (!Number.isFinite(p10) || !Number.isFinite(p50) || !Number.isFinite(p90)) return `non-finite quantile at row ${Math.floor(i / (horizons * 3))}`;
    if (p10 < 0 || p50 < 0 || p90 < 0) return `negative quantile at row ${Math.floor(i / (horizons * 3))}`;
    // float32 rounding can break exact order by an ulp; more than that is a real inversion
    const tol = 1e-5 * Math.max(1, p90);
    if (p10 > p50 + tol || p50 > p90 + tol) return `quantiles out of order at row ${Math.floor(i / (horizons * 3))} (${p10}, ${p50}, ${p90})`;
  }
  return null;
}
