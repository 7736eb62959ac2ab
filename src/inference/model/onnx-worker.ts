/**
 * Worker-thread entry: owns the onnxruntime session so a long native run never blocks
 * the event loop (Kafka heartbeats, Redis, HTTP probes keep flowing). Messages:
 *   { type: 'load', modelPath, providers, threads } -> { type: 'loaded', provider, precision, attempts, inputName, outputName }
 *   { type: 'run', id, features, batch }            -> { type: 'result', id, output } | { type: 'error', id, message }
 *   { type: 'close' }                               -> runs still in flight finish, the sessions are released, the thread exits
 * The thread is never terminated while a native run may be in progress: onnxruntime-node aborts
 * the whole process ("terminate called after throwing an instance of 'Napi::Error'") when a run
 * completes into a worker that is being torn down. So closing is a message, not terminate().
 */
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { createSessionWithFallback, type ExecutionProviderConfig } from './execution-providers.js';

interface LoadMessage {
  type: 'load';
  modelPath: string;
  providers: ExecutionProviderConfig;
  threads: number;
  featureCount: number;
  /** Input rows per series (one per horizon for the daily GBM): the tensor is [batch * rows, features]. */
  rowsPerSeries: number;
  /** On a GPU provider, batches below this run on a CPU session (GPU calls cost ~0.2 ms fixed). */
  gpuMinBatch: number;
}

interface RunMessage {
  type: 'run';
  id: number;
  features: Float32Array;
  batch: number;
}

const port = parentPort!;
let session: ort.InferenceSession | null = null;
let cpuSession: ort.InferenceSession | null = null;
let gpuMinBatch = 0;
let inputName = 'features';
let outputName = 'quantiles';
let featureCount = 0;
let rowsPerSeries = 1;

const log = {
  info: (obj: object, msg: string) => port.postMessage({ type: 'log', level: 'info', obj, msg }),
  warn: (obj: object, msg: string) => port.postMessage({ type: 'log', level: 'warn', obj, msg }),
};

interface FaultMessage {
  type: 'test-fault';
  kind: 'crash' | 'hang';
  ms: number;
}

let closing = false;
let inFlight = 0;

port.on('message', (m: LoadMessage | RunMessage | FaultMessage | { type: 'close' }) => {
  if (m.type === 'load') void load(m);
  else if (m.type === 'test-fault') fault(m);
  else if (m.type === 'close') {
    closing = true;
    void maybeExit();
  } else void run(m);
});

/** Once closing and no native run is in flight: release the sessions and end the thread. */
async function maybeExit(): Promise<void> {
  if (!closing || inFlight > 0) return;
  await session?.release().catch(() => undefined);
  await cpuSession?.release().catch(() => undefined);
  session = null;
  cpuSession = null;
  port.close();
  process.exit(0);
}

/** Test hooks (FS_TEST_HOOKS=1 only): die, or block the thread as a stuck native call would. */
function fault(m: FaultMessage): void {
  if (process.env.FS_TEST_HOOKS !== '1') return;
  if (m.kind === 'crash') process.exit(3);
  const end = Date.now() + m.ms;
  while (Date.now() < end) {
    // busy: no message is handled meanwhile
  }
}

async function load(m: LoadMessage): Promise<void> {
  try {
    const created = await createSessionWithFallback(ort, m.modelPath, m.providers, log, {
      baseOptions: { intraOpNumThreads: m.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' },
    });
    session = created.session;
    if (created.provider !== 'cpu' && m.gpuMinBatch > 1) {
      cpuSession = await ort.InferenceSession.create(m.modelPath, { executionProviders: ['cpu'], intraOpNumThreads: m.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      gpuMinBatch = m.gpuMinBatch;
    }
    inputName = session.inputNames[0] ?? inputName;
    outputName = session.outputNames[0] ?? outputName;
    featureCount = m.featureCount;
    rowsPerSeries = m.rowsPerSeries;
    port.postMessage({ type: 'loaded', provider: created.provider, precision: created.precision, attempts: created.attempts, inputName, outputName });
  } catch (err) {
    port.postMessage({ type: 'load-failed', message: (err as Error).message });
  }
}

async function run(m: RunMessage): Promise<void> {
  if (closing) {
    port.postMessage({ type: 'error', id: m.id, message: 'model closing' });
    return;
  }
  inFlight++;
  try {
    if (!session) throw new Error('model not loaded');
    const input = new ort.Tensor('float32', m.features, [m.batch * rowsPerSeries, featureCount]);
    const use = cpuSession && m.batch < gpuMinBatch ? cpuSession : session;
    const result = await use.run({ [inputName]: input });
    const out = result[outputName]!.data as Float32Array;
    // copy out of onnxruntime's buffer and transfer it (no second copy on the way back)
    const copy = new Float32Array(out);
    port.postMessage({ type: 'result', id: m.id, output: copy }, [copy.buffer]);
  } catch (err) {
    port.postMessage({ type: 'error', id: m.id, message: (err as Error).message });
  } finally {
    inFlight--;
    if (closing) void maybeExit();
  }
}
