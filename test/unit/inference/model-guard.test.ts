import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src/core/typed-emitter.js';
import { DriftMonitor } from '../../../src/inference/drift-monitor.js';
import { FEATURE_COUNT, FEATURE_INDEX } from '../../../src/inference/features/feature-spec.js';
import { ModelGuard, type InferenceEvents } from '../../../src/inference/model-guard.js';
import { checkQuantiles } from '../../../src/inference/output-check.js';
import { FakePrimaryModel } from '../../support/fake-models.js';

const reference = { edges: [0, 0.5, 0.9, 1.1, 2, 100], proportions: [0.05, 0.15, 0.6, 0.15, 0.05] };

function features(batch: number, mean = 1): Float32Array {
  const f = new Float32Array(batch * FEATURE_COUNT);
  for (let r = 0; r < batch; r++) {
    f[r * FEATURE_COUNT + FEATURE_INDEX.logScale] = Math.log(10);
    f[r * FEATURE_COUNT + FEATURE_INDEX.mean4] = mean;
    f[r * FEATURE_COUNT + FEATURE_INDEX.lyLag1 + 6] = 1; // sales 59 weeks back: a whole year of history
  }
  return f;
}

function guardFor(model: FakePrimaryModel, timeoutMs = 1_000) {
  const events = new TypedEmitter<InferenceEvents>();
  const seen: string[] = [];
  events.on('breaker-state', (e) => seen.push(e.state));
  events.on('drift', () => seen.push('drift'));
  const guard = new ModelGuard({ model, timeoutMs, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, volumeThreshold: 2, driftPsiThreshold: 0.25, driftWindow: 200, driftConsecutive: 2, events });
  return { guard, seen };
}

describe('checkQuantiles', () => {
  it('accepts ordered non-negative finite quantiles and names the first problem otherwise', () => {
    expect(checkQuantiles(Float32Array.from([1, 2, 3, 0, 0, 0]), 1, 2)).toBeNull();
    expect(checkQuantiles(Float32Array.from([1, Number.NaN, 3]), 1, 1)).toMatch(/non-finite/);
    expect(checkQuantiles(Float32Array.from([-1, 2, 3]), 1, 1)).toMatch(/negative/);
    expect(checkQuantiles(Float32Array.from([3, 2, 1]), 1, 1)).toMatch(/out of order/);
    expect(checkQuantiles(Float32Array.from([1, 2]), 1, 1)).toMatch(/expected 1x1x3/);
  });
});

describe('DriftMonitor', () => {
  // values spread evenly inside each reference bin in the reference proportions, times `shift`
  const sample = (shift: number, n = 500) => {
    const v: number[] = [];
    const k = reference.proportions.length;
    reference.proportions.forEach((p, i) => {
      const lo = i === 0 ? 0 : reference.edges[i]!;
      const hi = i === k - 1 ? 2 * reference.edges[i]! : reference.edges[i + 1]!;
      const m = Math.round(p * n);
      for (let j = 0; j < m; j++) v.push((lo + ((j + 0.5) / m) * (hi - lo)) * shift);
    });
    return v;
  };

  it('gives a verdict per full window: ~0 against the reference for matching outputs', () => {
    const m = new DriftMonitor(reference, 1000, 0.25);
    expect(m.observe(sample(1))).toBeNull();
    const first = m.observe(sample(1))!;
    expect(first.psiBaseline).toBeNull(); // the first window becomes the baseline
    expect(first.psiTraining).toBeLessThan(0.01);
  });

  it('flags an abrupt shift against the last healthy window and keeps that baseline while shifted', () => {
    const m = new DriftMonitor(reference, 500, 0.25);
    m.observe(sample(1));
    expect(m.observe(sample(1))!.shifted).toBe(false);
    const jump = m.observe(sample(3))!;
    expect(jump.shifted).toBe(true);
    expect(jump.psiBaseline!).toBeGreaterThan(0.25);
    // still compared with the healthy baseline, not with the shifted window
    expect(m.observe(sample(3))!.shifted).toBe(true);
    expect(m.observe(sample(1))!.shifted).toBe(false);
  });

  it('follows a slow change (a season) without calling it drift, while the training PSI grows', () => {
    const m = new DriftMonitor(reference, 500, 0.25);
    let last = null;
    for (let w = 0; w <= 20; w++) {
      last = m.observe(sample(1 + 0.05 * w)) ?? last;
      expect(last?.shifted ?? false).toBe(false);
    }
    expect(last!.psiTraining).toBeGreaterThan(0.25);
  });
});

describe('ModelGuard', () => {
  it('returns the primary output while the model is healthy', async () => {
    const { guard } = guardFor(new FakePrimaryModel());
    const out = await guard.run(features(2), 2);
    expect(out).not.toBeNull();
    expect(out![1]).toBeCloseTo(10);
    guard.shutdown();
  });

  it('serves the fallback (null) on errors and opens the breaker after enough failures', async () => {
    const model = new FakePrimaryModel();
    model.mode = 'throw';
    const { guard, seen } = guardFor(model);
    expect(await guard.run(features(1), 1)).toBeNull();
    expect(await guard.run(features(1), 1)).toBeNull();
    expect(guard.state).toBe('open');
    const callsWhenOpen = model.calls;
    expect(await guard.run(features(1), 1)).toBeNull();
    expect(model.calls).toBe(callsWhenOpen); // open: the primary is not called at all
    expect(seen).toContain('open');
    guard.shutdown();
  });

  it('treats invalid output (NaN) and timeouts as failures', async () => {
    const model = new FakePrimaryModel();
    model.mode = 'nan';
    const a = guardFor(model);
    expect(await a.guard.run(features(1), 1)).toBeNull();
    a.guard.shutdown();
    const slow = new FakePrimaryModel();
    slow.mode = 'slow';
    const b = guardFor(slow, 20);
    expect(await b.guard.run(features(1), 1)).toBeNull();
    b.guard.shutdown();
  });

  it('opens the breaker when the output drifts from the reference distribution', async () => {
    // reference: healthy p50/scale sits around 1
    const model = new FakePrimaryModel({ edges: [0, 0.9, 1.1, 100], proportions: [0.01, 0.98, 0.01] });
    const { guard, seen } = guardFor(model);
    // p50/scale = mean4 = 1 sits in the reference's main bin; then the model drifts x5
    for (let i = 0; i < 10; i++) await guard.run(features(5, 1), 5);
    expect(guard.state).toBe('closed');
    model.mode = 'scaled';
    model.factor = 5;
    for (let i = 0; i < 20 && guard.state === 'closed'; i++) await guard.run(features(5, 1), 5);
    expect(seen).toContain('drift');
    expect(guard.state).toBe('open');
    guard.shutdown();
  });

  it('leaves series without a year of history out of the drift check', async () => {
    const model = new FakePrimaryModel({ edges: [0, 0.9, 1.1, 100], proportions: [0.01, 0.98, 0.01] });
    model.mode = 'scaled';
    model.factor = 5;
    const { guard, seen } = guardFor(model);
    const young = features(5, 1);
    for (let r = 0; r < 5; r++) young[r * FEATURE_COUNT + FEATURE_INDEX.lyLag1 + 6] = 0;
    for (let i = 0; i < 30; i++) await guard.run(young, 5);
    expect(seen).not.toContain('drift');
    expect(guard.state).toBe('closed');
    guard.shutdown();
  });
});

describe('ModelGuard training-distribution warning', () => {
  it('warns once when outputs sit far from the training distribution, without opening the breaker', async () => {
    const events = new TypedEmitter<InferenceEvents>();
    const warnings: number[] = [];
    events.on('training-mismatch', (e) => warnings.push(e.psi));
    // reference says p50/scale is mostly below 0.9; the fake model steadily answers 1.0
    const model = new FakePrimaryModel({ edges: [0, 0.5, 0.9, 1.1, 100], proportions: [0.3, 0.6, 0.05, 0.05] });
    const guard = new ModelGuard({ model, timeoutMs: 1_000, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, volumeThreshold: 2, driftPsiThreshold: 0.25, driftWindow: 100, driftConsecutive: 2, events });
    for (let i = 0; i < 30; i++) await guard.run(features(5, 1), 5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!).toBeGreaterThan(0.25);
    expect(guard.state).toBe('closed');
    expect(guard.lastTrainingPsi!).toBeGreaterThan(0.25);
    guard.shutdown();
  });
});
