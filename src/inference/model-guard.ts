import CircuitBreaker from 'opossum';
import { ForecastError, isBadInput } from '../core/errors.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import { DriftMonitor } from './drift-monitor.js';
import { FEATURE_COUNT, FEATURE_INDEX } from './features/feature-spec.js';
import type { PrimaryModel } from './forecast.js';
import { checkQuantiles } from './output-check.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface InferenceEvents {
  'breaker-state': { state: BreakerState; reason: string };
  drift: { psi: number; threshold: number };
  'primary-failed': { error: string; code: string };
  inference: { batch: number; durationMs: number; source: 'primary' | 'fallback' };
}

export interface ModelGuardOptions {
  model: PrimaryModel;
  timeoutMs: number;
  errorThresholdPercentage: number;
  resetTimeoutMs: number;
  volumeThreshold: number;
  driftPsiThreshold: number;
  driftWindow: number;
  events: TypedEmitter<InferenceEvents>;
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

  constructor(options: ModelGuardOptions) {
    this.#o = options;
    const model = options.model;
    this.#drift = model.reference ? new DriftMonitor(model.reference, options.driftWindow) : null;
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
      this.#drift?.reset();
      this.#setState('half-open', 'reset timeout elapsed, trying the primary model');
    });
    this.#breaker.on('close', () => this.#setState('closed', 'primary model healthy again'));
  }

  get state(): BreakerState {
    return this.#state;
  }

  get lastPsi(): number | null {
    return this.#lastPsi;
  }

  get model(): PrimaryModel {
    return this.#o.model;
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
    const normalised = new Float64Array(batch * h);
    for (let r = 0; r < batch; r++) {
      const scale = Math.exp(features[r * FEATURE_COUNT + FEATURE_INDEX.logScale]!);
      for (let k = 0; k < h; k++) normalised[r * h + k] = out[(r * h + k) * 3 + 1]! / scale;
    }
    this.#drift!.observe(normalised);
    const psi = this.#drift!.psi();
    if (psi === null) return;
    this.#lastPsi = psi;
    if (psi > this.#o.driftPsiThreshold && this.#state !== 'open') {
      this.#o.events.emit('drift', { psi, threshold: this.#o.driftPsiThreshold });
      this.open(`output drift: PSI ${psi.toFixed(3)} > ${this.#o.driftPsiThreshold}`);
    }
  }

  #setState(state: BreakerState, reason: string): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#o.events.emit('breaker-state', { state, reason });
  }
}
