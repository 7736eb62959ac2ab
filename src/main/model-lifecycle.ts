import { stat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import { seriesBucket } from '../core/series-hash.js';
import { TypedEmitter } from '../core/typed-emitter.js';
import { buildBatch } from '../inference/features/feature-family.js';
import type { Forecast, PrimaryModel } from '../inference/forecast.js';
import { ModelGuard, type InferenceEvents } from '../inference/model-guard.js';
import { withTimeout } from '../core/with-timeout.js';
import { checkVariantGate, compareVersions, listVersions, loadModelArtifact, type ModelArtifact } from '../inference/model/model-artifact.js';
import { checkParity } from '../inference/model/parity-check.js';
import { shadowForecasts } from '../inference/shadow-forecasts.js';
import type { ErrorSums } from '../accuracy/online-accuracy.js';
import { checkQuantiles } from '../inference/output-check.js';
import { KS_BELOW, KS_MIN_D, normalisedMedians, outputShift, percentile } from '../inference/rollout-compare.js';
import type { SeriesSnapshot } from '../inference/series-snapshot.js';
import type { LifecycleEvents, ModelCheck, RolloutPolicy, ServedGroup, ServingModels } from '../inference/serving-models.js';
import type { Config } from '../ops/config.js';
import type { Logger } from '../ops/logger.js';
import type { ModelSettings } from './models.js';

/** One loaded version: its files, its worker, the guard that serves it. */
interface Loaded {
  artifact: ModelArtifact;
  model: PrimaryModel;
  guard: ModelGuard;
  since: number;
  /** The files' signature when it was loaded (a refusal is remembered for these files). */
  signature: string;
}

interface Candidate extends Loaded {
  policy: RolloutPolicy;
  phase: 'shadow' | 'canary';
  cand: number[];
  live: number[];
  candMs: number[];
  liveMs: number[];
  invalid: number;
  failures: number;
  busy: boolean;
  warmupMs: number;
  /** Online accuracy by version when the canary began (its pairs and the live one's since are compared). */
  accuracyAtCanary: Map<string, ErrorSums> | null;
}

export type LifecycleSettings = Pick<
  Config,
  'enginesDir' | 'modelWatchMs' | 'rolloutPolicy' | 'shadowSeries' | 'canaryPercent' | 'canarySeries' | 'rolloutLatencyRatio' | 'probationMs' | 'driftPsiThreshold' | 'modelTimeoutMs'
> &
  Partial<Pick<Config, 'canaryAccuracyMargin' | 'accuracyMinPairs'>>;

export interface LifecycleOptions {
  config: LifecycleSettings;
  settings: ModelSettings;
  /** The version the processor started with, loaded. */
  live: { artifact: ModelArtifact; model: PrimaryModel };
  /** Start a version's inference worker (loadPrimaryModel). */
  loadModel(artifact: ModelArtifact): Promise<PrimaryModel>;
  /** A guard for a version: live ones report to the processor's inference events, candidates to a private emitter. */
  makeGuard(model: PrimaryModel, o: { events: TypedEmitter<InferenceEvents>; driftBaseline?: readonly number[] | null; onDrift?: (psi: number) => boolean; onOpen?: (reason: string) => void }): ModelGuard;
  /** The processor's inference events (the live guard's breaker, drift, metrics). */
  inferenceEvents: TypedEmitter<InferenceEvents>;
  /** Live snapshots and their origins for the sane-output check and the warm-up. */
  sample(): Promise<{ snapshots: SeriesSnapshot[]; origins: number[] }>;
  events: TypedEmitter<LifecycleEvents>;
  clock: Clock;
  log: Logger;
  /** Where a version in shadow sends the forecasts it would have served (FS_TOPIC_SHADOW); absent: nowhere. Never awaited. */
  publishShadow?(forecasts: Forecast[]): void;
  /** Online accuracy per version so far (OnlineAccuracy.totals); absent: canaries are promoted without it. */
  accuracy?(): Map<string, ErrorSums>;
}

const WARMUP_RUNS = 3;
/** Batch latency differences below this are noise (scheduling on a busy machine), not a slower model. */
const LATENCY_FLOOR_MS = 5;
/** A version replaced or rolled back is closed this long after the switch, so batches in flight on it finish. */
const CLOSE_GRACE_MS = 15_000;

/**
 * The model lifecycle: which version serves, and how a new one gets there without a restart
 * (docs/model-lifecycle.md). A new version found in engines/<name>/ (or named through the
 * admin endpoint) is loaded in a worker of its own, checked — artifact and feature spec, fit to
 * the running process (bucket, horizons, inputs, window), its parity vectors, sane outputs on
 * live snapshots — and warmed up; then, by policy, it shadows the live version (runs on the same
 * batches; its outputs only feed the comparison), serves a canary share of series (by hash of
 * the series id, stable), and is promoted when the comparisons pass (output shift by PSI, or KS
 * on small samples; no invalid output or failure; latency p99 within a ratio of the live one's).
 * Every switch happens between batches: a batch reads its version once and keeps it. The
 * version before stays loaded, so a live version that drifts abruptly, or whose breaker opens
 * within the probation period, is rolled back to it; the fallback model stays the last resort.
 */
export class ModelLifecycle implements ServingModels {
  readonly #o: LifecycleOptions;
  #live: Loaded;
  #previous: Loaded | null = null;
  /** The drift baseline the previous version had when it was replaced (a rollback restores it). */
  #previousBaseline: readonly number[] | null = null;
  #candidate: Candidate | null = null;
  #loading: string | null = null;
  /** Versions refused, with the files' signature they were refused for (changed files are tried again). */
  readonly #rejected = new Map<string, { signature: string; check: ModelCheck; reason: string }>();
  /** Signatures seen on the previous poll (a version is considered once its files stop changing). */
  readonly #lastSeen = new Map<string, string>();
  readonly timeline: Array<{ at: number; event: string; version: string; detail: string }> = [];
  #timer: NodeJS.Timeout | null = null;
  #polling = false;
  #closed = false;

  constructor(o: LifecycleOptions) {
    this.#o = o;
    this.#live = { ...o.live, guard: this.#liveGuard(o.live.model, null), since: o.clock.now(), signature: '' };
    this.#note('live', o.live.model.version, 'serving at start');
  }

  get live(): ModelGuard {
    return this.#live.guard;
  }

  get liveModel(): PrimaryModel {
    return this.#live.model;
  }

  guardFor(seriesId: string): ModelGuard {
    const c = this.#candidate;
    if (c && c.phase === 'canary' && canaryBucket(seriesId) < this.#o.config.canaryPercent) return c.guard;
    return this.#live.guard;
  }

  /** Start watching engines/<name>/ for new versions (FS_MODEL_WATCH_MS; 0: only the admin endpoint). */
  start(): void {
    const ms = this.#o.config.modelWatchMs;
    if (ms <= 0) return;
    this.#timer = setInterval(() => void this.poll(), ms);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const all = [this.#live, this.#previous, this.#candidate].filter((x): x is Loaded => x !== null);
    for (const l of all) l.guard.shutdown();
    await Promise.all(all.map((l) => l.model.close()));
  }

  /** One look at engines/<name>/: the newest version newer than the live one, stable and not refused, becomes the candidate. */
  async poll(): Promise<void> {
    if (this.#polling || this.#closed || this.#candidate || this.#loading) return;
    this.#polling = true;
    try {
      const name = this.#live.artifact.metadata.name;
      const engines = resolve(this.#o.config.enginesDir);
      const versions = await listVersions(engines, name).catch(() => [] as string[]);
      for (const v of versions) {
        if (compareVersions(v, this.#live.model.version) <= 0) break;
        const signature = await filesSignature(join(engines, name, v));
        const seen = this.#lastSeen.get(v);
        this.#lastSeen.set(v, signature);
        const refused = this.#rejected.get(v);
        if (refused && refused.signature === signature) continue;
        if (seen !== signature) return; // still being copied (or new): look again next poll
        await this.consider(v, this.#o.config.rolloutPolicy, 'watch', signature);
        return;
      }
    } finally {
      this.#polling = false;
    }
  }

  /**
   * Load, check and warm up a version, then start its rollout. Resolves once it is shadowing,
   * in canary or live — or refused (the reason is in the result and in a model-rejected event).
   */
  async consider(version: string, policy: RolloutPolicy, source: 'watch' | 'admin', signature?: string): Promise<{ ok: boolean; check?: ModelCheck; reason?: string }> {
    if (this.#candidate || this.#loading) return { ok: false, check: 'operator', reason: `version ${this.#candidate?.model.version ?? this.#loading} is being rolled out; wait, or reject it first` };
    if (version === this.#live.model.version) return { ok: false, check: 'operator', reason: `version ${version} is live already` };
    this.#loading = version;
    const name = this.#live.artifact.metadata.name;
    const dir = join(resolve(this.#o.config.enginesDir), name, version);
    const sig = signature ?? (await filesSignature(dir));
    this.#o.events.emit('model-candidate', { version, policy, source });
    this.#note('candidate', version, `found (${source}), policy ${policy}`);
    let model: PrimaryModel | null = null;
    const refuse = (check: ModelCheck, reason: string) => {
      this.#rejected.set(version, { signature: sig, check, reason });
      this.#o.events.emit('model-rejected', { version, check, reason, phase: 'load' });
      this.#note('rejected', version, `${check}: ${reason}`);
      void model?.close();
      return { ok: false as const, check, reason };
    };
    try {
      let artifact: ModelArtifact;
      try {
        artifact = await loadModelArtifact(dir);
      } catch (err) {
        const msg = (err as Error).message;
        return refuse(/feature spec/.test(msg) ? 'feature-spec' : /sha256/.test(msg) ? 'sha256' : 'artifact', msg);
      }
      // an FP16/INT8 variant carries its training gate: refused here if that gate did not pass
      const gate = checkVariantGate(artifact.metadata);
      if (gate) return refuse('variant-gate', gate);
      const misfit = this.#misfit(artifact);
      if (misfit) return refuse('compatibility', misfit);
      try {
        model = await this.#o.loadModel(artifact);
      } catch (err) {
        return refuse('load', (err as Error).message);
      }
      const parity = await checkParity(model, dir, this.#o.config.modelTimeoutMs * 5).catch((err: Error) => err.message);
      if (parity) return refuse('parity', parity);
      const { snapshots, origins } = await this.#o.sample();
      let warmupMs = 0;
      if (snapshots.length > 0) {
        const features = buildBatch(model.family, snapshots, origins);
        for (let k = 0; k < WARMUP_RUNS; k++) {
          const t0 = performance.now();
          let out: Float32Array;
          try {
            out = await withTimeout(model.run(features, snapshots.length), this.#o.config.modelTimeoutMs * 5);
          } catch (err) {
            return refuse('sample-output', `run on ${snapshots.length} live snapshots failed: ${(err as Error).message}`);
          }
          warmupMs = performance.now() - t0;
          const problem = checkQuantiles(out, snapshots.length, model.horizons);
          if (problem) return refuse('sample-output', `on ${snapshots.length} live snapshots: ${problem}`);
        }
      }
      const guard = this.#o.makeGuard(model, { events: new TypedEmitter<InferenceEvents>() });
      const c: Candidate = { artifact, model, guard, since: this.#o.clock.now(), signature: sig, policy, phase: 'shadow', cand: [], live: [], candMs: [], liveMs: [], invalid: 0, failures: 0, busy: false, warmupMs, accuracyAtCanary: null };
      this.#note('checked', version, `artifact, compatibility, parity, ${snapshots.length} live snapshots: ok; warm-up ${WARMUP_RUNS} runs, last ${warmupMs.toFixed(1)} ms`);
      if (policy === 'promote') {
        this.#promote(c, 'policy promote: live after the checks');
      } else {
        this.#candidate = c;
        this.#enter(c, policy === 'canary' ? 'canary' : 'shadow');
      }
      return { ok: true };
    } finally {
      this.#loading = null;
    }
  }

  /** The live batches served: feed the shadow run or the canary comparison. */
  served(groups: readonly ServedGroup[]): void {
    const c = this.#candidate;
    if (!c) return;
    const horizons = this.#live.model.horizons;
    const limit = this.#target(c) * horizons;
    if (c.phase === 'shadow') {
      const g = groups.find((x) => x.guard === this.#live.guard && x.output);
      if (!g || c.busy) return;
      c.busy = true;
      void this.#shadowRun(c, g).finally(() => (c.busy = false));
      return;
    }
    for (const g of groups) {
      if (g.guard === c.guard) {
        if (!g.output) {
          c.failures++;
          this.#abort(c, 'canary-failures', `the canary served the fallback for a batch of ${g.snapshots.length} (its breaker: ${c.guard.state})`);
          return;
        }
        normalisedMedians(c.model.family, g.features, g.output, g.snapshots.length, horizons, c.cand, limit);
        c.candMs.push(g.durationMs);
      } else if (g.guard === this.#live.guard && g.output) {
        normalisedMedians(this.#live.model.family, g.features, g.output, g.snapshots.length, horizons, c.live, limit);
        c.liveMs.push(g.durationMs);
      }
    }
    if (c.cand.length >= limit && c.live.length >= Math.min(limit, 200)) this.#decide(c);
  }

  /** Operator: promote the candidate now (skipping what is left of its rollout). */
  promoteNow(): { ok: boolean; reason: string } {
    const c = this.#candidate;
    if (!c) return { ok: false, reason: 'no version is being rolled out' };
    this.#promote(c, 'operator');
    return { ok: true, reason: `version ${c.model.version} is live` };
  }

  /** Operator: stop the candidate's rollout and refuse it. */
  rejectCandidate(reason = 'operator'): { ok: boolean; reason: string } {
    const c = this.#candidate;
    if (!c) return { ok: false, reason: 'no version is being rolled out' };
    this.#abort(c, 'operator', reason);
    return { ok: true, reason: `version ${c.model.version} refused` };
  }

  /** The accuracy stage says a version's rolling WAPE degraded: the live one is rolled back if the previous is loaded. */
  accuracyDegraded(version: string, reason: string): { ok: boolean; reason: string } {
    if (version !== this.#live.model.version) return { ok: false, reason: `version ${version} is not live (${this.#live.model.version} is)` };
    return this.rollback(reason);
  }

  /** Operator or rule: back to the previous version (kept loaded). */
  rollback(reason: string): { ok: boolean; reason: string } {
    const prev = this.#previous;
    if (!prev) return { ok: false, reason: 'no previous version is loaded (the fallback model is the last resort)' };
    const bad = this.#live;
    this.#live = { ...prev, guard: this.#liveGuard(prev.model, this.#previousBaseline), since: this.#o.clock.now() };
    this.#previous = null;
    this.#previousBaseline = null;
    prev.guard.shutdown();
    this.#rejected.set(bad.model.version, { signature: bad.signature, check: 'operator', reason: `rolled back: ${reason}` });
    this.#retire(bad);
    this.#o.events.emit('model-rolled-back', { from: bad.model.version, to: prev.model.version, reason });
    this.#note('rolled-back', bad.model.version, `to ${prev.model.version}: ${reason}`);
    return { ok: true, reason: `version ${prev.model.version} is live again` };
  }

  status(): Record<string, unknown> {
    const c = this.#candidate;
    return {
      live: { version: this.#live.model.version, since: new Date(this.#live.since).toISOString(), provider: this.#live.model.provider },
      previous: this.#previous ? { version: this.#previous.model.version } : null,
      candidate: c
        ? {
            version: c.model.version,
            policy: c.policy,
            phase: c.phase,
            since: new Date(c.since).toISOString(),
            compared: Math.floor(c.cand.length / this.#live.model.horizons),
            target: this.#target(c),
            canaryPercent: c.phase === 'canary' ? this.#o.config.canaryPercent : 0,
            invalid: c.invalid,
            failures: c.failures,
          }
        : null,
      loading: this.#loading,
      rejected: [...this.#rejected].map(([version, r]) => ({ version, check: r.check, reason: r.reason })),
      policy: this.#o.config.rolloutPolicy,
      watchMs: this.#o.config.modelWatchMs,
      timeline: this.timeline.slice(-30),
    };
  }

  // ---------------------------------------------------------------------------------------

  #target(c: Candidate): number {
    return c.phase === 'shadow' ? this.#o.config.shadowSeries : this.#o.config.canarySeries;
  }

  #liveGuard(model: PrimaryModel, baseline: readonly number[] | null): ModelGuard {
    let guard: ModelGuard | null = null;
    guard = this.#o.makeGuard(model, {
      events: this.#o.inferenceEvents,
      driftBaseline: baseline,
      // an abrupt shift of the live version's output: back to the version before, if loaded
      onDrift: (psi) => guard === this.#live.guard && this.#previous !== null && this.rollback(`output drift: PSI ${psi.toFixed(3)} against the last healthy window`).ok,
      // failures or timeouts soon after a switch: the new version is the suspect
      onOpen: (reason) => {
        if (guard !== this.#live.guard || !this.#previous) return;
        if (this.#o.clock.now() - this.#live.since > this.#o.config.probationMs) return;
        this.rollback(`breaker opened within ${Math.round(this.#o.config.probationMs / 1000)} s of going live (${reason})`);
      },
    });
    return guard;
  }

  #misfit(a: ModelArtifact): string | null {
    const m = a.metadata;
    const s = this.#o.settings;
    const live = this.#live.model;
    if (m.name !== this.#live.artifact.metadata.name) return `model ${m.name} is not ${this.#live.artifact.metadata.name}`;
    if (m.bucketSize !== s.bucketSize) return `it forecasts ${m.bucketSize} buckets, this process keeps ${s.bucketSize} state (restart with FS_MODEL to switch)`;
    if (m.horizons.length !== s.horizons) return `it forecasts ${m.horizons.length} horizons, the live version ${s.horizons}`;
    const need = Math.max(a.family.lookback, a.statistical ? a.statistical.lookback + 1 : 0);
    if (need > s.windowBuckets) return `it looks back ${need} buckets, the state keeps ${s.windowBuckets} (raise FS_WINDOW_BUCKETS and restart)`;
    const inputs = [...(m.inputs ?? a.family.inputs)].sort().join(',');
    if (inputs !== [...live.inputs].sort().join(',')) return `it reads inputs [${inputs}], the live version [${[...live.inputs].sort().join(',')}] (the ingest stage re-forecasts on the live version's inputs; restart to change them)`;
    return null;
  }

  async #shadowRun(c: Candidate, g: ServedGroup): Promise<void> {
    const family = c.model.family;
    const batch = g.snapshots.length;
    const features = buildBatch(family, g.snapshots, g.origins);
    const t0 = performance.now();
    let out: Float32Array;
    try {
      out = await withTimeout(c.model.run(features, batch), this.#o.config.modelTimeoutMs);
    } catch (err) {
      c.failures++;
      const msg = (err as Error).message;
      // a run past the model timeout is a latency failure; anything else a failed run
      if (c.failures >= 3) this.#abort(c, /timed out/.test(msg) ? 'shadow-latency' : 'shadow-failed', `3 shadow runs failed (the live version answered the same batches), last: ${msg}`);
      return;
    }
    if (this.#candidate !== c) return;
    const problem = checkQuantiles(out, batch, c.model.horizons);
    if (problem) {
      c.invalid++;
      this.#abort(c, 'shadow-invalid-output', `on a live batch of ${batch}: ${problem}`);
      return;
    }
    const horizons = c.model.horizons;
    if (this.#o.publishShadow) this.#o.publishShadow(shadowForecasts(c.model, g, out));
    const limit = this.#target(c) * horizons;
    // both sides normalised by the same series' scales (the live family's, read from its input)
    normalisedMedians(family, features, out, batch, horizons, c.cand, limit);
    normalisedMedians(this.#live.model.family, g.features, g.output!, batch, horizons, c.live, limit);
    c.candMs.push(performance.now() - t0);
    c.liveMs.push(g.durationMs);
    if (c.cand.length >= limit) this.#decide(c);
  }

  #decide(c: Candidate): void {
    if (this.#candidate !== c) return;
    const verdict = outputShift(c.cand, c.live, this.#live.model.reference, this.#o.config.driftPsiThreshold);
    // batch latency p99 against the live version's on the same traffic; under a floor of 5 ms a
    // difference is scheduling noise on a busy machine, not a slower model
    const p99 = percentile(c.candMs, 99);
    const liveP99 = percentile(c.liveMs, 99);
    this.#o.events.emit('rollout-compared', { version: c.model.version, phase: c.phase, verdict, p99Ms: p99, liveP99Ms: liveP99 });
    // the test that decides first, the other one as information (a small window's PSI is noise)
    const psi = `PSI ${verdict.psi.toFixed(3)} (threshold ${this.#o.config.driftPsiThreshold})`;
    const ks = `KS D ${verdict.ksD.toFixed(3)} (shifted above ${Math.max(verdict.ksCritical, KS_MIN_D).toFixed(3)})`;
    const detail = `${verdict.test === 'ks' ? `KS decides (fewer than ${KS_BELOW} values): ${ks}; PSI, not used: ${psi.replace(/ \(threshold [^)]*\)/, '')}` : `PSI decides: ${psi}; KS D, not used: ${verdict.ksD.toFixed(3)}`} over ${verdict.n} vs ${verdict.m} values; batch p99 ${p99.toFixed(2)} vs live ${liveP99.toFixed(2)} ms`;
    if (verdict.shifted) return this.#abort(c, c.phase === 'shadow' ? 'shadow-output-shift' : 'canary-output-shift', detail);
    if (Number.isFinite(liveP99) && p99 > this.#o.config.rolloutLatencyRatio * liveP99 + LATENCY_FLOOR_MS) return this.#abort(c, c.phase === 'shadow' ? 'shadow-latency' : 'canary-latency', detail);
    if (c.phase === 'canary') {
      const acc = this.#canaryAccuracy(c);
      if (acc.worse) return this.#abort(c, 'canary-accuracy', `${acc.detail}; ${detail}`);
      this.#promote(c, `canary passed: ${detail}; ${acc.detail}`);
      return;
    }
    this.#note('compared', c.model.version, `shadow passed: ${detail}`);
    c.cand = [];
    c.live = [];
    c.candMs = [];
    c.liveMs = [];
    this.#enter(c, 'canary');
  }

  /**
   * The canary's forecasts scored against actuals during the canary, against the live version's
   * over the same time (other series: the rest of the catalog). Compared only once both have the
   * minimum pairs; a daily model in a long canary gets there, a weekly one seldom does.
   */
  #canaryAccuracy(c: Candidate): { worse: boolean; detail: string } {
    const now = this.#o.accuracy?.();
    if (!now || !c.accuracyAtCanary) return { worse: false, detail: 'accuracy: not measured (FS_ACCURACY off)' };
    const cand = now.get(c.model.version)?.since(c.accuracyAtCanary.get(c.model.version));
    const live = now.get(this.#live.model.version)?.since(c.accuracyAtCanary.get(this.#live.model.version));
    const min = this.#o.config.accuracyMinPairs ?? 500;
    const cw = cand?.wape ?? null;
    const lw = live?.wape ?? null;
    if (!cand || !live || cand.n < min || live.n < min || cw === null || lw === null) {
      return { worse: false, detail: `accuracy: ${cand?.n ?? 0} canary and ${live?.n ?? 0} live pairs scored so far (compared from ${min} each)` };
    }
    const margin = this.#o.config.canaryAccuracyMargin ?? 0.2;
    return { worse: cw > lw * (1 + margin), detail: `accuracy: canary WAPE ${cw.toFixed(3)} over ${cand.n} pairs vs live ${lw.toFixed(3)} over ${live.n} (margin ${margin})` };
  }

  #enter(c: Candidate, phase: 'shadow' | 'canary'): void {
    c.phase = phase;
    if (phase === 'canary') c.accuracyAtCanary = this.#o.accuracy?.() ?? null;
    const detail = phase === 'shadow' ? `runs beside ${this.#live.model.version} on ${this.#o.config.shadowSeries} series, outputs compared only` : `serves ${this.#o.config.canaryPercent}% of series (by id hash) for ${this.#o.config.canarySeries} series`;
    this.#o.events.emit('rollout-phase', { version: c.model.version, phase, detail });
    this.#note(phase, c.model.version, detail);
  }

  #promote(c: Loaded & { policy?: RolloutPolicy }, detail: string): void {
    const old = this.#live;
    if (this.#previous) this.#retire(this.#previous);
    this.#previousBaseline = old.guard.driftBaseline;
    c.guard.shutdown();
    this.#live = { artifact: c.artifact, model: c.model, guard: this.#liveGuard(c.model, old.guard.driftBaseline), since: this.#o.clock.now(), signature: c.signature };
    old.guard.shutdown();
    this.#previous = old;
    this.#candidate = null;
    this.#o.events.emit('model-promoted', { version: c.model.version, previous: old.model.version, detail });
    this.#note('promoted', c.model.version, `${detail}; ${old.model.version} kept loaded for rollback`);
  }

  #abort(c: Candidate, check: ModelCheck, reason: string): void {
    if (this.#candidate !== c) return;
    this.#candidate = null;
    this.#rejected.set(c.model.version, { signature: c.signature, check, reason });
    this.#o.events.emit('model-rejected', { version: c.model.version, check, reason, phase: c.phase });
    this.#note('rejected', c.model.version, `${check} (${c.phase}): ${reason}`);
    this.#retire(c);
  }

  /** Close a version once batches in flight on it are done. */
  #retire(l: Loaded): void {
    l.guard.shutdown();
    const t = setTimeout(() => void l.model.close(), CLOSE_GRACE_MS);
    t.unref();
  }

  #note(event: string, version: string, detail: string): void {
    this.timeline.push({ at: this.#o.clock.now(), event, version, detail });
    if (this.timeline.length > 200) this.timeline.shift();
    this.#o.log.info({ event, version, detail }, `model lifecycle: ${event} ${version}`);
  }
}

/** The canary's share of series: a stable bucket 0..99 of the series id. */
export const canaryBucket = seriesBucket;

/** Names, sizes and modification times of a version folder's files: changes while a copy is in progress. */
async function filesSignature(dir: string): Promise<string> {
  try {
    const names = (await readdir(dir)).sort();
    const parts = await Promise.all(names.map(async (n) => {
      const s = await stat(join(dir, n));
      return `${n}:${s.size}:${s.mtimeMs}`;
    }));
    return parts.join('|');
  } catch {
    return 'missing';
  }
}

