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
    f[r * FEATURE_COUNT + FEATURE_INDEX.seasonal0] = 1; // a year of history
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
  it('reports no PSI until the window is full, ~0 for the reference distribution, large for a shift', () => {
    const m = new DriftMonitor(reference, 1000);
    const sample = (shift: number) => {
      const v: number[] = [];
      reference.proportions.forEach((p, i) => {
        const mid = i === 0 ? 0.25 : i === reference.proportions.length - 1 ? 5 : (reference.edges[i]! + reference.edges[i + 1]!) / 2;
        for (let k = 0; k < p * 500; k++) v.push(mid * shift);
      });
      return v;
    };
    m.observe(sample(1));
    expect(m.psi()).toBeNull();
    m.observe(sample(1));
    expect(m.psi()!).toBeLessThan(0.01);
    m.observe(sample(3));
    m.observe(sample(3));
    expect(m.psi()!).toBeGreaterThan(0.25);
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
    for (let r = 0; r < 5; r++) young[r * FEATURE_COUNT + FEATURE_INDEX.seasonal0] = 0;
    for (let i = 0; i < 30; i++) await guard.run(young, 5);
    expect(seen).not.toContain('drift');
    expect(guard.state).toBe('closed');
    guard.shutdown();
  });
});
