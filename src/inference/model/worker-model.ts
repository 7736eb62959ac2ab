import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ForecastError } from '../../core/errors.js';
import type { FeatureFamily, ModelInput } from '../features/feature-family.js';
import type { DriftReference, PrimaryModel } from '../forecast.js';
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
  providers: ExecutionProviderConfig;
  threads: number;
  /** Batches below this stay on CPU when a GPU provider runs. */
  gpuMinBatch: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
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

/** The primary ONNX model, run in a worker thread. One call at a time per worker. */
export class WorkerModel implements PrimaryModel {
  readonly name: string;
  readonly version: string;
  readonly horizons: number;
  readonly family: FeatureFamily;
  readonly inputs: readonly ModelInput[];
  readonly coldStartBuckets: number | null;
  readonly reference: DriftReference | null;
  provider = 'unloaded';
  precision = 'fp32';
  attempts: ProviderAttempt[] = [];

  get providerFailures(): ProviderAttempt[] {
    return this.attempts.filter((a) => a.error !== undefined);
  }
  readonly #o: WorkerModelOptions;
  readonly #worker: Worker;
  readonly #calls = new Map<number, { resolve: (v: Float32Array) => void; reject: (e: unknown) => void }>();
  #nextId = 1;
  #closed = false;

  private constructor(o: WorkerModelOptions) {
    this.#o = o;
    this.name = o.name;
    this.version = o.version;
    this.horizons = o.horizons;
    this.family = o.family;
    this.inputs = o.inputs;
    this.coldStartBuckets = o.coldStartBuckets;
    this.reference = o.reference;
    this.#worker = new Worker(workerFile());
    this.#worker.unref();
  }

  static async load(o: WorkerModelOptions): Promise<WorkerModel> {
    const m = new WorkerModel(o);
    await m.#load();
    return m;
  }

  #load(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#worker.on('message', (msg: { type: string; [k: string]: unknown }) => {
        if (msg.type === 'log') {
          const level = msg.level === 'warn' ? 'warn' : 'info';
          this.#o.log[level](msg.obj as object, String(msg.msg));
        } else if (msg.type === 'loaded') {
          this.provider = String(msg.provider);
          this.precision = String(msg.precision);
          this.attempts = msg.attempts as ProviderAttempt[];
          resolve();
        } else if (msg.type === 'load-failed') {
          void this.close();
          reject(new ForecastError('MODEL_INVALID', `loading ${this.#o.modelPath} failed: ${String(msg.message)}`));
        } else if (msg.type === 'result' || msg.type === 'error') {
          const call = this.#calls.get(msg.id as number);
          if (!call) return;
          this.#calls.delete(msg.id as number);
          if (msg.type === 'result') call.resolve(msg.output as Float32Array);
          else call.reject(new ForecastError('MODEL_FAILED', `inference failed: ${String(msg.message)}`, { retriable: true }));
        }
      });
      this.#worker.on('error', (err) => {
        for (const c of this.#calls.values()) c.reject(new ForecastError('MODEL_FAILED', `inference worker crashed: ${err.message}`, { cause: err }));
        this.#calls.clear();
        reject(err);
      });
      this.#worker.postMessage({
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

  run(features: Float32Array, batch: number): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(new ForecastError('SHUTTING_DOWN', 'model closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      // copied, not transferred: the caller still reads the scales for the drift check
      this.#worker.postMessage({ type: 'run', id, features, batch });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#calls.values()) c.reject(new ForecastError('SHUTTING_DOWN', 'model closed'));
    this.#calls.clear();
    await this.#worker.terminate();
  }
}
