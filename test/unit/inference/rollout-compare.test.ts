import { describe, expect, it } from 'vitest';
import { canaryBucket } from '../../../src/main/model-lifecycle.js';
import { KS_BELOW, ks, outputShift, percentile } from '../../../src/inference/rollout-compare.js';

/** A deterministic sample: lognormal-ish values from a fixed LCG. */
function sample(n: number, scale = 1, seed = 7): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    const u = (x + 1) / (2 ** 31 + 1);
    out.push(scale * Math.exp(Math.sqrt(-2 * Math.log(u)) * 0.5));
  }
  return out;
}
const reference = { edges: [Number.NEGATIVE_INFINITY, 1.1, 1.2, 1.35, 1.5, 1.7, 2, Number.POSITIVE_INFINITY], proportions: [0.15, 0.1, 0.15, 0.15, 0.15, 0.15, 0.15] };

describe('rollout comparisons', () => {
  it('KS: D is 0 for the same sample, 1 for disjoint ones, and the critical value shrinks with n', () => {
    const a = sample(500);
    expect(ks(a, a).d).toBe(0);
    expect(ks(a, a).rejects).toBe(false);
    expect(ks(a, a.map((v) => v + 100)).d).toBe(1);
    expect(ks(sample(4000), sample(4000, 1, 9)).critical).toBeLessThan(ks(sample(100), sample(100, 1, 9)).critical);
  });

  it('a 3% retrain-sized change passes, a x3 change is a shift, with KS on small samples and PSI on large', () => {
    const live = sample(800, 1, 3);
    expect(outputShift(live.map((v) => v * 1.03), live, reference, 0.25)).toMatchObject({ test: 'ks', shifted: false });
    expect(outputShift(live.map((v) => v * 3), live, reference, 0.25)).toMatchObject({ test: 'ks', shifted: true });
    const big = sample(KS_BELOW * 4, 1, 5);
    expect(outputShift(big.map((v) => v * 1.03), big, reference, 0.25)).toMatchObject({ test: 'psi', shifted: false });
    const x3 = outputShift(big.map((v) => v * 3), big, reference, 0.25);
    expect(x3).toMatchObject({ test: 'psi', shifted: true });
    expect(x3.psi).toBeGreaterThan(1);
  });

  it('percentile by nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
    expect(Number.isNaN(percentile([], 99))).toBe(true);
  });

  it('the canary share is stable per series and close to the percent asked', () => {
    expect(canaryBucket('CA_1-FOODS_3_090')).toBe(canaryBucket('CA_1-FOODS_3_090'));
    const ids = Array.from({ length: 10_000 }, (_, i) => `S${i % 10}-ITEM_${i}`);
    const inCanary = ids.filter((id) => canaryBucket(id) < 10).length;
    expect(inCanary).toBeGreaterThan(850);
    expect(inCanary).toBeLessThan(1150);
  });
});
