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
import { ErrorSums } from '../../../src/accuracy/online-accuracy.js';
import { FEATURE_COUNT, FEATURE_INDEX } from '../../../src/inference/features/feature-spec.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';
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
async function setup(keepParity = false, accuracy?: () => Map<string, ErrorSums>) {
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
    config: { accuracyMinPairs: 100, canaryAccuracyMargin: 0.2, enginesDir: engines, modelWatchMs: 0, rolloutPolicy: 'shadow', shadowSeries: 10, canaryPercent: 10, canarySeries: 10, rolloutLatencyRatio: 3, probationMs: 60_000, driftPsiThreshold: 0.25, modelTimeoutMs: 1_000 },
    settings: { bucketSize: 'week', horizons: 4, windowBuckets: 70 },
    live: { artifact, model: new Versioned('3-2012-04-27') },
    loadModel: async (a) => new Versioned(a.metadata.version),
    makeGuard: (model, o) => new ModelGuard({ model, timeoutMs: 1_000, errorThresholdPercentage: 50, resetTimeoutMs: 30_000, volumeThreshold: 3, driftPsiThreshold: 0.25, driftWindow: 100, driftConsecutive: 1, ...o }),
    inferenceEvents: inference,
    sample: async () => ({ snapshots: [], origins: [] }),
    events,
    clock: new ManualClock(Date.UTC(2012, 5, 1)),
    log: pino({ level: 'silent' }),
    ...(accuracy ? { accuracy } : {}),
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

/** `pairs` scored pairs with this WAPE (actual 100 each). */
function sums(pairs: number, wape: number): ErrorSums {
  const s = new ErrorSums();
  for (let i = 0; i < pairs; i++) s.add({ actual: 100, p50: 100 * (1 + wape), p10: 0, p90: 1e9 } as never);
  return s;
}

/** One live batch of 400 series served by whichever version serves each (same fake outputs on both sides). */
async function serveBatch(lc: ModelLifecycle): Promise<void> {
  const fake = new FakePrimaryModel();
  const byGuard = new Map<ModelGuard, number>();
  for (let i = 0; i < 400; i++) {
    const g = lc.guardFor(`S${i}`);
    byGuard.set(g, (byGuard.get(g) ?? 0) + 1);
  }
  const groups = [];
  for (const [guard, n] of byGuard) {
    const features = new Float32Array(n * FEATURE_COUNT);
    for (let r = 0; r < n; r++) {
      features[r * FEATURE_COUNT + FEATURE_INDEX.logScale] = Math.log(10 + (r % 50));
      features[r * FEATURE_COUNT + FEATURE_INDEX.mean4] = 1;
      features[r * FEATURE_COUNT + FEATURE_INDEX.lyLag1 + 6] = 1;
    }
    groups.push({ guard, snapshots: new Array<SeriesSnapshot>(n), origins: new Array<number>(n).fill(0), features, output: await fake.run(features, n), durationMs: 1, forecasts: [] });
  }
  lc.served(groups);
}

describe('canary accuracy against actuals', () => {
  const run = async (canary: { pairs: number; wape: number }, live: { pairs: number; wape: number }) => {
    // before the canary: the live version has its history; during it, both score pairs
    let now = new Map([['3-2012-04-27', sums(1_000, 0.1)]]);
    const { lc } = await setup(false, () => now);
    expect(await lc.consider('4-2012-04-27', 'canary', 'admin')).toEqual({ ok: true });
    const l = sums(1_000, 0.1);
    l.merge(sums(live.pairs, live.wape));
    now = new Map([['3-2012-04-27', l], ['4-2012-04-27', sums(canary.pairs, canary.wape)]]);
    for (let k = 0; k < 3 && (lc.status() as { candidate: unknown }).candidate; k++) await serveBatch(lc);
    const st = lc.status() as { live: { version: string }; rejected: Array<{ version: string; check: string; reason: string }>; timeline: Array<{ event: string; detail: string }> };
    await lc.close();
    return st;
  };

  it('refuses a canary whose WAPE is more than 20% worse than the live version over the same time', async () => {
    const st = await run({ pairs: 200, wape: 0.3 }, { pairs: 2_000, wape: 0.2 });
    expect(st.live.version).toBe('3-2012-04-27');
    expect(st.rejected[0]).toMatchObject({ version: '4-2012-04-27', check: 'canary-accuracy' });
    // the live side counts only what was scored during the canary (0.2), not its history (0.1)
    expect(st.rejected[0]!.reason).toMatch(/canary WAPE 0\.300 over 200 pairs vs live 0\.200 over 2000/);
  });

  it('promotes a canary as accurate as the live version, saying so', async () => {
    const st = await run({ pairs: 200, wape: 0.21 }, { pairs: 2_000, wape: 0.2 });
    expect(st.live.version).toBe('4-2012-04-27');
    expect(st.timeline.find((e) => e.event === 'promoted')!.detail).toMatch(/canary WAPE 0\.210 over 200 pairs vs live 0\.200/);
  });

  it('promotes on the other rules while too few actuals exist, and says how many', async () => {
    const st = await run({ pairs: 40, wape: 0.9 }, { pairs: 2_000, wape: 0.2 });
    expect(st.live.version).toBe('4-2012-04-27');
    expect(st.timeline.find((e) => e.event === 'promoted')!.detail).toMatch(/accuracy: 40 canary and 2000 live pairs scored so far \(compared from 100 each\)/);
  });
});
