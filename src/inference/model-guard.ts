import CircuitBreaker from 'opossum';
import { ForecastError, isBadInput } from '../core/errors.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import { DriftMonitor } from './drift-monitor.js';
import { floatsPerSeries } from './features/feature-family.js';
import type { PrimaryModel } from './forecast.js';
import { checkQuantiles } from './output-check.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface InferenceEvents {
  'breaker-state': { state: BreakerState; reason: string };
  drift: { psi: number; threshold: number };
  'drift-checked': { psiBaseline: number | null; psiTraining: number };
  /** Live outputs far from the training distribution (season, population): a warning only. */
  'training-mismatch': { psi: number; threshold: number };
  'primary-failed': { error: string; code: string };
  inference: { batch: number; durationMs: number; source: 'primary' | 'fallback' };
  /** Series left out of a batch because Redis refused to read their state (not an outage). */
  'state-unreadable': { seriesIds: string[]; reason: string };
}

export interface ModelGuardOptions {
  model: PrimaryModel;
  timeoutMs: number;
  errorThresholdPercentage: number;
  resetTimeoutMs: number;
  volumeThreshold: number;
  driftPsiThreshold: number;
  driftWindow: number;
  /** Consecutive windows over the threshold that count as drift. */
  driftConsecutive: number;
  events: TypedEmitter<InferenceEvents>;
  /** The drift baseline to start from (the previous live version's last healthy window). */
  driftBaseline?: readonly number[] | null;
  /** Drift was found: return true when it is handled (the lifecycle rolled back), and the breaker stays as it is. */
  onDrift?: (psi: number) => boolean;
  /** The breaker opened (failures, timeouts, invalid output or drift). */
  onOpen?: (reason: string) => void;
}

/**
 * The primary model behind an opossum circuit breaker. Timeouts, errors and invalid
 * output count as failures; drift (PSI over the threshold) opens the breaker directly.
 * Bad input never counts (opossum's errorFilter). While the breaker is open `run`
 * returns null and the caller serves the fallback model.
 */
export class ModelGuard {
  readonly #o: ModelGuardOptions;
  readonly #breaker: CircuitBreaker<[Float32Array, number], Float32Array>;
  readonly #drift: DriftMonitor | null;
  #state: BreakerState = 'closed';
  #lastPsi: number | null = null;
  #overThreshold = 0;
  #lastTrainingPsi: number | null = null;
  #trainingMismatch = false;

  constructor(options: ModelGuardOptions) {
    this.#o = options;
    const model = options.model;
    this.#drift = model.reference ? new DriftMonitor(model.reference, options.driftWindow, options.driftPsiThreshold, options.driftBaseline ?? null) : null;
    this.#breaker = new CircuitBreaker(
      async (features: Float32Array, batch: number) => {
        const out = await model.run(features, batch);
        const problem = checkQuantiles(out, batch, model.horizons);
        if (problem) throw new ForecastError('MODEL_OUTPUT_INVALID', `model ${model.name}/${model.version} output invalid: ${problem}`);
        return out;
      },
      {
        timeout: options.timeoutMs,
        errorThresholdPercentage: options.errorThresholdPercentage,
        resetTimeout: options.resetTimeoutMs,
        volumeThreshold: options.volumeThreshold,
        errorFilter: (err: unknown) => isBadInput(err),
      },
    );
    this.#breaker.on('open', () => this.#setState('open', 'failures or drift'));
    this.#breaker.on('halfOpen', () => {
      this.#drift?.resetWindow();
      this.#overThreshold = 0;
      this.#setState('half-open', 'reset timeout elapsed, trying the primary model');
    });
    this.#breaker.on('close', () => this.#setState('closed', 'primary model healthy again'));
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** PSI of the last full window against the last healthy one. */
  get lastPsi(): number | null {
    return this.#lastPsi;
  }

  /** PSI of the last full window against the training distribution. */
  get lastTrainingPsi(): number | null {
    return this.#lastTrainingPsi;
  }

  get model(): PrimaryModel {
    return this.#o.model;
  }

  /** The drift monitor's last healthy window (handed to the next version's guard). */
  get driftBaseline(): readonly number[] | null {
    return this.#drift?.baseline ?? null;
  }

  /** Run the primary model; null means "serve the fallback" (breaker open or call failed). */
  async run(features: Float32Array, batch: number): Promise<Float32Array | null> {
    let out: Float32Array;
    try {
      out = await this.#breaker.fire(features, batch);
    } catch (err) {
      if (!this.#breaker.opened || !(err instanceof Error && /Breaker is open/.test(err.message))) {
        const code = err instanceof ForecastError ? err.code : (err as { code?: string }).code ?? 'MODEL_FAILED';
        this.#o.events.emit('primary-failed', { error: (err as Error).message, code });
      }
      return null;
    }
    if (this.#drift) this.#checkDrift(features, out, batch);
    return out;
  }

  /**
   * Run the primary model for a hypothetical question (what-if): the same checks as `run`
   * (timeout, valid quantiles) but outside the breaker's statistics and the drift monitor,
   * so what-if traffic can neither open the breaker nor shift the drift windows. Null while
   * the breaker is open or when the call fails: the caller serves the fallback, as live.
   */
  async peek(features: Float32Array, batch: number): Promise<Float32Array | null> {
    if (this.#state === 'open') return null;
    const model = this.#o.model;
    let timer: NodeJS.Timeout | undefined;
    try {
      const out = await Promise.race([
        model.run(features, batch),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
        }),
      ]);
      return checkQuantiles(out, batch, model.horizons) ? null : out;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Force the breaker open (an operator or a failed model check). */
  open(reason: string): void {
    this.#breaker.open();
    this.#setState('open', reason);
  }

  shutdown(): void {
    this.#breaker.shutdown();
  }

  #checkDrift(features: Float32Array, out: Float32Array, batch: number): void {
    const h = this.#o.model.horizons;
    const family = this.#o.model.family;
    const width = floatsPerSeries(family);
    const normalised: number[] = [];
    for (let r = 0; r < batch; r++) {
      // the reference covers series with a year of history; a series still filling its
      // first year (a cold start, a backfill) is a different population, not drift (NaN)
      const scale = family.driftScale(features, r * width);
      if (!(scale > 0)) continue;
      for (let k = 0; k < h; k++) normalised.push(out[(r * h + k) * 3 + 1]! / scale);
    }
    if (normalised.length === 0) return;
    const v = this.#drift!.observe(normalised);
    if (!v) return;
    const threshold = this.#o.driftPsiThreshold;
    this.#lastPsi = v.psiBaseline;
    this.#lastTrainingPsi = v.psiTraining;
    this.#o.events.emit('drift-checked', { psiBaseline: v.psiBaseline, psiTraining: v.psiTraining });
    // warn once per episode: set above the threshold, cleared only below half of it
    if (!this.#trainingMismatch && v.psiTraining > threshold) {
      this.#trainingMismatch = true;
      this.#o.events.emit('training-mismatch', { psi: v.psiTraining, threshold });
    } else if (this.#trainingMismatch && v.psiTraining < threshold / 2) {
      this.#trainingMismatch = false;
    }
    // it takes `driftConsecutive` windows in a row over the threshold to call it drift
    // (one noisy window of a small catalog is not)
    this.#overThreshold = v.shifted ? this.#overThreshold + 1 : 0;
    if (this.#overThreshold >= this.#o.driftConsecutive && this.#state !== 'open') {
      this.#overThreshold = 0;
      this.#o.events.emit('drift', { psi: v.psiBaseline!, threshold });
      if (this.#o.onDrift?.(v.psiBaseline!)) return;
      this.open(`output drift: PSI ${v.psiBaseline!.toFixed(3)} against the last healthy window > ${threshold}`);
    }
  }

  #setState(state: BreakerState, reason: string): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#o.events.emit('breaker-state', { state, reason });
    if (state === 'open') this.#o.onOpen?.(reason);
  }
}
