import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src/core/typed-emitter.js';
import { ModelGuard, type InferenceEvents } from '../../../src/inference/model-guard.js';
import { loadModelArtifact } from '../../../src/inference/model/model-artifact.js';
import type { LifecycleEvents } from '../../../src/inference/serving-models.js';
import { ModelLifecycle } from '../../../src/main/model-lifecycle.js';
import { ManualClock } from '../../support/manual-clock.js';
import { FakePrimaryModel } from '../../support/fake-models.js';

const FIXTURES = resolve('test/fixtures/lifecycle/walmart-mlp');

/** A fake primary model that says which version it is. */
class Versioned extends FakePrimaryModel {
  override readonly version: string;
  override readonly inputs = ['sales', 'promotions'] as const;
  constructor(version: string) {
    super();
    this.version = version;
  }
}

/** engines/ with v3 and v4; keepParity false: without their parity vectors (the fakes are not those graphs). */
async function setup(keepParity = false) {
  const engines = mkdtempSync(join(tmpdir(), 'fs-lc-unit-'));
  for (const v of ['3-2012-04-27', '4-2012-04-27']) {
    cpSync(join(FIXTURES, v), join(engines, 'walmart-mlp', v), { recursive: true });
    if (!keepParity) rmSync(join(engines, 'walmart-mlp', v, 'parity.json'));
  }
  const artifact = await loadModelArtifact(join(engines, 'walmart-mlp', '3-2012-04-27'));
  const events = new TypedEmitter<LifecycleEvents>();
  const said: string[] = [];
  events.on('model-promoted', (e) => said.push(`promoted ${e.version}`));
  events.on('model-rolled-back', (e) => said.push(`rolled back ${e.from} -> ${e.to}: ${e.reason}`));
  const inference = new TypedEmitter<InferenceEvents>();
  const lc = new ModelLifecycle({
    config: { enginesDir: engines, modelWatchMs: 0, rolloutPolicy: 'shadow', shadowSeries: 10, canaryPercent: 10, canarySeries: 10, rolloutLatencyRatio: 3, probationMs: 60_000, driftPsiThreshold: 0.25, modelTimeoutMs: 1_000 },
    settings: { bucketSize: 'week', horizons: 4, windowBuckets: 70 },
    live: { artifact, model: new Versioned('3-2012-04-27') },
    loadModel: async (a) => new Versioned(a.metadata.version),
    makeGuard: (model, o) => new ModelGuard({ model, timeoutMs: 1_000, errorThresholdPercentage: 50, resetTimeoutMs: 30_000, volumeThreshold: 3, driftPsiThreshold: 0.25, driftWindow: 100, driftConsecutive: 1, ...o }),
    inferenceEvents: inference,
    sample: async () => ({ snapshots: [], origins: [] }),
    events,
    clock: new ManualClock(Date.UTC(2012, 5, 1)),
    log: pino({ level: 'silent' }),
  });
  return { lc, said, engines };
}

describe('model lifecycle (unit)', () => {
  it('promotes by policy, keeps the previous version, and rolls back to it when the live one degrades', async () => {
    const { lc, said } = await setup();
    expect(await lc.consider('4-2012-04-27', 'promote', 'admin')).toEqual({ ok: true });
    expect(lc.liveModel.version).toBe('4-2012-04-27');
    expect((lc.status() as { previous: { version: string } }).previous.version).toBe('3-2012-04-27');
    // accuracy of a version that is not live changes nothing
    expect(lc.accuracyDegraded('3-2012-04-27', 'x').ok).toBe(false);
    expect(lc.liveModel.version).toBe('4-2012-04-27');
    const r = lc.accuracyDegraded('4-2012-04-27', 'online accuracy degraded: rolling WAPE 0.4 against 0.2');
    expect(r.ok).toBe(true);
    expect(lc.liveModel.version).toBe('3-2012-04-27');
    expect(said).toEqual(['promoted 4-2012-04-27', 'rolled back 4-2012-04-27 -> 3-2012-04-27: online accuracy degraded: rolling WAPE 0.4 against 0.2']);
    // the version rolled back is refused until its files change; no previous is left to go back to
    expect((lc.status() as { rejected: Array<{ version: string }> }).rejected.map((x) => x.version)).toEqual(['4-2012-04-27']);
    expect(lc.rollback('again').ok).toBe(false);
    await lc.close();
  });

  it('the parity check refuses a runtime that does not compute what training computed', async () => {
    const { lc } = await setup(true);
    const r = await lc.consider('4-2012-04-27', 'promote', 'admin');
    expect(r).toMatchObject({ ok: false, check: 'parity' });
    expect(r.reason).toMatch(/in training \(relative difference/);
    expect(lc.liveModel.version).toBe('3-2012-04-27');
    await lc.close();
  });

  it('refuses an INT8 variant whose training gate failed (check variant-gate), and admits one that passed', async () => {
    const { lc, engines: dir } = await setup();
    cpSync(resolve('test/fixtures/precision/walmart-mlp/3-2012-04-27-int8-allops'), join(dir, 'walmart-mlp', '3-2012-04-27-int8-allops'), { recursive: true });
    cpSync(resolve('test/fixtures/precision/walmart-mlp/3-2012-04-27-int8'), join(dir, 'walmart-mlp', '3-2012-04-27-int8'), { recursive: true });
    rmSync(join(dir, 'walmart-mlp', '3-2012-04-27-int8', 'parity.json'));
    const bad = await lc.consider('3-2012-04-27-int8-allops', 'promote', 'admin');
    expect(bad).toMatchObject({ ok: false, check: 'variant-gate' });
    expect(bad.reason).toMatch(/gate/);
    expect(await lc.consider('3-2012-04-27-int8', 'promote', 'admin')).toEqual({ ok: true });
    expect(lc.liveModel.version).toBe('3-2012-04-27-int8');
    await lc.close();
  });

  it('refuses an operator load while another version is being rolled out, and a version that is live', async () => {
    const { lc } = await setup();
    expect(await lc.consider('3-2012-04-27', 'promote', 'admin')).toMatchObject({ ok: false, check: 'operator' });
    expect(await lc.consider('4-2012-04-27', 'shadow', 'admin')).toEqual({ ok: true });
    expect((lc.status() as { candidate: { phase: string } }).candidate.phase).toBe('shadow');
    expect(await lc.consider('4-2012-04-27', 'promote', 'admin')).toMatchObject({ ok: false, check: 'operator' });
    expect(lc.rejectCandidate('not today').ok).toBe(true);
    expect((lc.status() as { candidate: unknown }).candidate).toBeNull();
    await lc.close();
  });
});
