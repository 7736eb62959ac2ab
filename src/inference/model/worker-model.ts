import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ForecastError } from '../../core/errors.js';
import type { FeatureFamily, ModelInput } from '../features/feature-family.js';
import type { DriftReference, PrimaryModel } from '../forecast.js';
import type { StatisticalComponent } from '../statistical/statistical-component.js';
import type { ExecutionProviderConfig, ProviderAttempt } from './execution-providers.js';

export interface WorkerModelOptions {
  name: string;
  version: string;
  modelPath: string;
  horizons: number;
  /** The feature family the model was trained on: row width and rows per series. */
  family: FeatureFamily;
  inputs: readonly ModelInput[];
  coldStartBuckets: number | null;
  reference: DriftReference | null;
  /** The artifact's statistical component (the forecaster applies it), or null. */
  statistical?: StatisticalComponent | null;
  providers: ExecutionProviderConfig;
  threads: number;
  /** Batches below this stay on CPU when a GPU provider runs. */
  gpuMinBatch: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** A call outstanding this long means the worker hangs: it is terminated and respawned (default 30 s). */
  hangMs?: number;
  /** The worker died (crash or killed on a hang) / came back with the model loaded. */
  onWorkerEvent?: (e: { kind: 'lost' | 'restarted'; reason: string; restarts: number }) => void;
}

/** The compiled worker script (tests run from src/ against the build in dist/). */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/\.ts$/, '.js').replace(/worker-model\.js$/, 'onnx-worker.js');
  if (!here.endsWith('.ts') && existsSync(sibling)) return sibling;
  const built = fileURLToPath(new URL('../../../dist/inference/model/onnx-worker.js', import.meta.url));
  if (!existsSync(built)) throw new ForecastError('MODEL_INVALID', `inference worker ${built} not built; run npm run build`);
  return built;
}

/**
 * The primary ONNX model, run in a worker thread (one call at a time per worker). A worker
 * that crashes, or hangs on a call longer than `hangMs` (terminated), is respawned with
 * backoff (1 s doubling to 30 s) and its model loaded again; meanwhile calls fail at once
 * (MODEL_FAILED: the guard serves the fallback), and the primary model is back after the
 * breaker's next trial. Every pending call is settled: none is left waiting on a dead worker.
 */
export class WorkerModel implements PrimaryModel {
  readonly name: string;
  readonly version: string;
  readonly horizons: number;
  readonly family: FeatureFamily;
  readonly inputs: readonly ModelInput[];
  readonly coldStartBuckets: number | null;
  readonly reference: DriftReference | null;
  readonly statistical: StatisticalComponent | null;
  provider = 'unloaded';
  precision = 'fp32';
  attempts: ProviderAttempt[] = [];
  /** Times the worker was respawned after a crash or a hang. */
  restarts = 0;

  get providerFailures(): ProviderAttempt[] {
    return this.attempts.filter((a) => a.error !== undefined);
  }
  readonly #o: WorkerModelOptions;
  #worker: Worker | null = null;
  /** Loaded and answering; false while dead or respawning. */
  #up = false;
  readonly #calls = new Map<number, { resolve: (v: Float32Array) => void; reject: (e: unknown) => void; since: number }>();
  #nextId = 1;
  #closed = false;
  #watchdog: NodeJS.Timeout | null = null;
  #respawnTimer: NodeJS.Timeout | null = null;

  private constructor(o: WorkerModelOptions) {
    this.#o = o;
    this.name = o.name;
    this.version = o.version;
    this.horizons = o.horizons;
    this.family = o.family;
    this.inputs = o.inputs;
    this.coldStartBuckets = o.coldStartBuckets;
    this.reference = o.reference;
    this.statistical = o.statistical ?? null;
  }

  static async load(o: WorkerModelOptions): Promise<WorkerModel> {
    const m = new WorkerModel(o);
    await m.#spawn();
    const hangMs = o.hangMs ?? 30_000;
    m.#watchdog = setInterval(() => m.#checkHang(hangMs), Math.min(1_000, hangMs));
    m.#watchdog.unref();
    return m;
  }

  /** Whether the worker is loaded and answering (false while it is being respawned). */
  get up(): boolean {
    return this.#up;
  }

  #spawn(): Promise<void> {
    const worker = new Worker(workerFile());
    worker.unref();
    this.#worker = worker;
    return new Promise((resolve, reject) => {
      let loaded = false;
      worker.on('message', (msg: { type: string; [k: string]: unknown }) => {
        if (msg.type === 'log') {
          const level = msg.level === 'warn' ? 'warn' : 'info';
          this.#o.log[level](msg.obj as object, String(msg.msg));
        } else if (msg.type === 'loaded') {
          this.provider = String(msg.provider);
          this.precision = String(msg.precision);
          this.attempts = msg.attempts as ProviderAttempt[];
          loaded = true;
          this.#up = true;
          resolve();
        } else if (msg.type === 'load-failed') {
          loaded = true;
          void worker.terminate();
          reject(new ForecastError('MODEL_INVALID', `loading ${this.#o.modelPath} failed: ${String(msg.message)}`));
        } else if (msg.type === 'result' || msg.type === 'error') {
          const call = this.#calls.get(msg.id as number);
          if (!call) return;
          this.#calls.delete(msg.id as number);
          if (msg.type === 'result') call.resolve(msg.output as Float32Array);
          else call.reject(new ForecastError('MODEL_FAILED', `inference failed: ${String(msg.message)}`, { retriable: true }));
        }
      });
      worker.on('error', (err) => this.#lost(worker, `crashed: ${err.message}`));
      worker.on('exit', (code) => {
        if (!loaded) reject(new ForecastError('MODEL_INVALID', `inference worker exited with ${code} while loading ${this.#o.modelPath}`));
        this.#lost(worker, `exited with code ${code}`);
      });
      worker.postMessage({
        type: 'load',
        modelPath: this.#o.modelPath,
        providers: this.#o.providers,
        threads: this.#o.threads,
        gpuMinBatch: this.#o.gpuMinBatch,
        featureCount: this.#o.family.featureCount,
        rowsPerSeries: this.#o.family.rowsPerSeries,
      });
    });
  }

  /** The worker is gone: settle its calls, say so, respawn with backoff (unless closing). */
  #lost(worker: Worker, reason: string): void {
    if (this.#worker !== worker || this.#closed) return;
    this.#worker = null;
    this.#up = false;
    for (const c of this.#calls.values()) c.reject(new ForecastError('MODEL_FAILED', `inference worker ${reason}`, { retriable: true }));
    this.#calls.clear();
    this.#o.log.warn({ reason, restarts: this.restarts }, 'inference worker lost; respawning');
    this.#o.onWorkerEvent?.({ kind: 'lost', reason, restarts: this.restarts });
    const attempt = (delay: number) => {
      this.#respawnTimer = setTimeout(() => {
        if (this.#closed) return;
        this.#spawn().then(
          () => {
            this.restarts++;
            this.#o.log.info({ restarts: this.restarts }, 'inference worker respawned, model loaded');
            this.#o.onWorkerEvent?.({ kind: 'restarted', reason, restarts: this.restarts });
          },
          (err: Error) => {
            this.#o.log.warn({ err: err.message }, 'inference worker respawn failed; trying again');
            attempt(Math.min(30_000, delay * 2));
          },
        );
      }, delay);
      this.#respawnTimer.unref();
    };
    attempt(1_000);
  }

  #checkHang(hangMs: number): void {
    const worker = this.#worker;
    if (!worker || !this.#up) return;
    const now = Date.now();
    for (const c of this.#calls.values()) {
      if (now - c.since > hangMs) {
        // not terminate(): a native run completing into a torn-down worker aborts the process.
        // The hung thread is told to close (it exits once its call returns) and a new one serves.
        this.#o.log.warn({ hangMs }, 'inference worker hangs on a call; abandoning it (it exits when the call returns) and starting another');
        this.#lost(worker, `hung for over ${hangMs} ms (abandoned)`);
        retire(worker);
        return;
      }
    }
  }

  run(features: Float32Array, batch: number): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(new ForecastError('SHUTTING_DOWN', 'model closed'));
    const worker = this.#worker;
    if (!worker || !this.#up) return Promise.reject(new ForecastError('MODEL_FAILED', 'inference worker restarting', { retriable: true }));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject, since: Date.now() });
      // copied, not transferred: the caller still reads the scales for the drift check
      worker.postMessage({ type: 'run', id, features, batch });
    });
  }

  /**
   * Fault injection for tests: crash the worker, or block it for `ms` (a hang). Only when the
   * process runs with FS_TEST_HOOKS=1; the worker ignores the message otherwise.
   */
  injectFault(kind: 'crash' | 'hang', ms = 60_000): void {
    this.#worker?.postMessage({ type: 'test-fault', kind, ms });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    if (this.#respawnTimer) clearTimeout(this.#respawnTimer);
    for (const c of this.#calls.values()) c.reject(new ForecastError('SHUTTING_DOWN', 'model closed'));
    this.#calls.clear();
    const w = this.#worker;
    this.#worker = null;
    if (w) await retire(w, 10_000);
  }
}

/**
 * Close a worker without terminate() while a native run may be in flight (that aborts the
 * process): it finishes its runs, releases its sessions and exits. Resolves when it has exited,
 * or after `waitMs` (the thread is unref'd: one still busy in a native call does not keep the
 * process alive, and exits on its own when the call returns).
 */
function retire(worker: Worker, waitMs = 0): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    timer.unref();
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      worker.postMessage({ type: 'close' });
    } catch {
      resolve();
    }
  });
}
