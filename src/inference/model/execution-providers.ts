import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { InferenceSession } from 'onnxruntime-node';

import { ForecastError } from '../../core/errors.js';

/**
 * Execution-provider selection for onnxruntime-node: which providers to try, in which order,
 * with which options, and the fallback to CPU when a GPU provider cannot load.
 *
 * Why a fallback of our own: onnxruntime-node throws from `InferenceSession.create` when a
 * provider named in `executionProviders` cannot be registered (its shared library or one of
 * the CUDA libraries it needs is missing, no device is visible, or the binding was built
 * without it: "… is unsupported"). A bad GPU install must not take forecasting down, so each
 * provider gets its own attempt and the next one in the list is tried after a clear log line.
 *
 * What the Node binding forwards (onnxruntime js/node/src/session_options_helper.cc, 1.30):
 * for `cuda` and `tensorrt` only `deviceId`; every other TensorRT option (FP16, engine cache)
 * is dropped, and the TensorRT EP ignores its ORT_TENSORRT_* environment variables when it is
 * created through the V2 options the binding uses (`has_trt_options = true`). So:
 *  - FP16 on a GPU provider is done by loading the model's FP16 variant
 *    (`<name>.fp16.onnx` beside the model: float16 weights, float32 input/output), which both
 *    the CUDA and the TensorRT provider then run in half precision;
 *  - the TensorRT engine-cache directory and `trt_fp16_enable` are still put in the provider
 *    option under ORT's own option names, so a binding that forwards them picks them up, and
 *    `createSessionWithFallback` logs a warning that this binding does not apply them.
 * See docs/gpu.md.
 */

export type ProviderName = 'cpu' | 'cuda' | 'tensorrt';

export const PROVIDER_NAMES: readonly ProviderName[] = ['cpu', 'cuda', 'tensorrt'];

export interface ExecutionProviderConfig {
  /** Providers to try, in order; CPU last (the processor's config schema enforces it). Default ['cpu']. */
  providers: ProviderName[];
  /** CUDA device ordinal for the GPU providers. Default 0. */
  deviceId: number;
  /** Run GPU providers in FP16: load `<model>.fp16.onnx` when it exists. Default false. */
  fp16: boolean;
  /** Where TensorRT keeps built engines; under engines/ so they sit beside the models. */
  trtEngineCacheDir: string;
}

export const DEFAULT_EXECUTION_PROVIDER_CONFIG: Readonly<ExecutionProviderConfig> = Object.freeze({
  providers: ['cpu'] as ProviderName[],
  deviceId: 0,
  fp16: false,
  trtEngineCacheDir: join('engines', '.trt-cache'),
});

/** The TensorRT option object: ORT's own option names, of which onnxruntime-node 1.30 reads deviceId alone. */
export interface TensorRtProviderOption extends InferenceSession.ExecutionProviderOption {
  readonly name: 'tensorrt';
  deviceId: number;
  trt_fp16_enable: boolean;
  trt_engine_cache_enable: boolean;
  trt_engine_cache_path: string;
}

/**
 * Session options that run the model on `provider`. The GPU lists end with 'cpu' so that a node
 * the GPU provider has no kernel for still runs (ORT would add CPU anyway; naming it says so);
 * TensorRT is followed by CUDA for the subgraphs TensorRT does not take, as ORT recommends.
 * `base` carries the runner's other options (threads, optimisation level) through unchanged.
 */
export function buildSessionOptions(
  cfg: ExecutionProviderConfig,
  provider: ProviderName,
  base: InferenceSession.SessionOptions = {},
): InferenceSession.SessionOptions {
  const cuda: InferenceSession.CudaExecutionProviderOption = { name: 'cuda', deviceId: cfg.deviceId };
  switch (provider) {
    case 'cpu':
      return { ...base, executionProviders: ['cpu'] };
    case 'cuda':
      return { ...base, executionProviders: [cuda, 'cpu'] };
    case 'tensorrt': {
      const trt: TensorRtProviderOption = {
        name: 'tensorrt',
        deviceId: cfg.deviceId,
        trt_fp16_enable: cfg.fp16,
        trt_engine_cache_enable: true,
        trt_engine_cache_path: cfg.trtEngineCacheDir,
      };
      return { ...base, executionProviders: [trt, cuda, 'cpu'] };
    }
  }
}

/** The FP16 variant of a model: `model.onnx` → `model.fp16.onnx`. */
export function fp16ModelPath(modelPath: string): string {
  return modelPath.endsWith('.onnx') ? `${modelPath.slice(0, -'.onnx'.length)}.fp16.onnx` : `${modelPath}.fp16`;
}

/** The part of onnxruntime-node used here, so tests can pass a fake. */
export interface OrtLike<S> {
  InferenceSession: { create(path: string, options?: InferenceSession.SessionOptions): Promise<S> };
}

/** pino's (object, message) signature; only the levels used here. */
export interface ProviderLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ProviderAttempt {
  provider: ProviderName;
  /** Why it did not load; absent for the provider that runs. */
  error?: string;
}

export interface SessionWithProvider<S> {
  session: S;
  /** The provider that actually runs the model (the first of its session's list). */
  provider: ProviderName;
  precision: 'fp32' | 'fp16';
  /** The model file the session was created from (the FP16 variant when precision is fp16). */
  modelPath: string;
  attempts: ProviderAttempt[];
}

export interface CreateSessionDeps {
  /** Runner options passed through to every attempt (threads, optimisation level). */
  baseOptions?: InferenceSession.SessionOptions;
  /** For tests; defaults to fs.existsSync. */
  fileExists?: (path: string) => boolean;
}

/**
 * Try `cfg.providers` in order and return the first session that loads. One warn line per
 * provider that fails (what failed, the likely cause, what comes next) and one info line naming
 * the provider that runs. If even the last provider fails the model itself is bad: MODEL_INVALID.
 */
export async function createSessionWithFallback<S>(
  ort: OrtLike<S>,
  modelPath: string,
  cfg: ExecutionProviderConfig,
  log: ProviderLog,
  deps: CreateSessionDeps = {},
): Promise<SessionWithProvider<S>> {
  const fileExists = deps.fileExists ?? existsSync;
  const providers = cfg.providers.length > 0 ? cfg.providers : (['cpu'] as ProviderName[]);
  const attempts: ProviderAttempt[] = [];
  let lastError: unknown;

  if (providers.includes('tensorrt') && cfg.fp16) {
    log.warn(
      { provider: 'tensorrt', option: 'trt_fp16_enable' },
      'onnxruntime-node forwards only deviceId to TensorRT: FP16 comes from the .fp16.onnx model variant, and the engine cache is not applied',
    );
  }

  for (let i = 0; i < providers.length; i++) {
    const provider = providers[i] as ProviderName;
    let path = modelPath;
    let precision: 'fp32' | 'fp16' = 'fp32';
    if (cfg.fp16 && provider !== 'cpu') {
      const half = fp16ModelPath(modelPath);
      if (fileExists(half)) {
        path = half;
        precision = 'fp16';
      } else {
        log.warn({ provider, fp16ModelPath: half }, `fp16 requested but ${half} does not exist; running ${provider} in fp32`);
      }
    }
    try {
      const session = await ort.InferenceSession.create(path, buildSessionOptions(cfg, provider, deps.baseOptions));
      attempts.push({ provider });
      log.info(
        { executionProvider: provider, precision, deviceId: provider === 'cpu' ? undefined : cfg.deviceId, modelPath: path, attempts },
        `inference runs on execution provider '${provider}' (${precision})`,
      );
      return { session, provider, precision, modelPath: path, attempts };
    } catch (err) {
      lastError = err;
      const message = err instanceof Error ? err.message : String(err);
      attempts.push({ provider, error: message });
      const next = providers[i + 1];
      log.warn(
        { executionProvider: provider, error: message, hint: providerFailureHint(provider, message), next: next ?? null },
        next === undefined
          ? `execution provider '${provider}' could not load the model: ${firstLine(message)}`
          : `execution provider '${provider}' could not load: ${firstLine(message)}; falling back to '${next}'`,
      );
    }
  }
  throw new ForecastError(
    'MODEL_INVALID',
    `no execution provider could load ${modelPath} (tried ${attempts.map((a) => a.provider).join(', ')})`,
    { cause: lastError },
  );
}

/** The status endpoint's view of the provider choice. */
export interface ExecutionProviderStatus {
  executionProvider: ProviderName;
  precision: 'fp32' | 'fp16';
  requested: ProviderName[];
  /** True when a provider earlier in the list failed and a later one runs. */
  fellBack: boolean;
  attempts: ProviderAttempt[];
}

export function executionProviderStatus(
  cfg: ExecutionProviderConfig,
  result: Pick<SessionWithProvider<unknown>, 'provider' | 'precision' | 'attempts'>,
): ExecutionProviderStatus {
  return {
    executionProvider: result.provider,
    precision: result.precision,
    requested: [...cfg.providers],
    fellBack: result.attempts.some((a) => a.error !== undefined),
    attempts: result.attempts.map((a) => ({ ...a })),
  };
}

/** A human hint for the usual reasons a GPU provider does not load (docs/gpu.md has the fixes). */
export function providerFailureHint(provider: ProviderName, message: string): string {
  if (/is unsupported/i.test(message)) {
    return `this onnxruntime-node build has no '${provider}' provider`;
  }
  if (/Failed to load shared library/i.test(message)) {
    // ORT's message does not say which library: its provider .so beside libonnxruntime.so.1,
    // or one the provider links against (ORT's own log line on stderr names it).
    return provider === 'tensorrt'
      ? 'libonnxruntime_providers_tensorrt.so (beside libonnxruntime.so.1) or TensorRT 10 (libnvinfer.so.10), CUDA 13 or cuDNN 9 could not be loaded; docs/gpu.md'
      : 'libonnxruntime_providers_cuda.so (beside libonnxruntime.so.1) or a CUDA 13 library it needs (libcublas.so.13, libcudart.so.13, libcurand.so.10) could not be loaded: put them on LD_LIBRARY_PATH; docs/gpu.md';
  }
  if (/libonnxruntime_providers_(shared|cuda|tensorrt)\.so/.test(message)) {
    return 'the GPU provider libraries are not installed beside onnxruntime-node\'s libonnxruntime.so.1 (bench/gpu/prepare-payload.sh copies them from the onnxruntime-gpu wheel; docs/gpu.md)';
  }
  if (/libnvinfer|libnvonnxparser/.test(message)) {
    return 'TensorRT 10 libraries (libnvinfer.so.10) are not on the library path';
  }
  if (/lib(cublas|cublasLt|cudart|curand|cufft|cudnn|nvrtc)[^ ]*\.so/.test(message)) {
    return 'CUDA 13 / cuDNN 9 runtime libraries are not on LD_LIBRARY_PATH';
  }
  if (/no CUDA-capable device|CUDA driver version is insufficient|cudaErrorNoDevice|libcuda\.so/i.test(message)) {
    return 'no usable NVIDIA GPU or driver is visible to this process';
  }
  if (/out of memory/i.test(message)) {
    return 'the GPU has too little free memory';
  }
  return provider === 'cpu' ? 'the model itself could not be loaded' : 'see the error; docs/gpu.md lists the requirements';
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? message;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
