import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { ForecastError } from '../../../src/core/errors.js';
import {
  buildSessionOptions,
  createSessionWithFallback,
  DEFAULT_EXECUTION_PROVIDER_CONFIG,
  executionProviderStatus,
  fp16ModelPath,
  providerFailureHint,
  type ExecutionProviderConfig,
  type ProviderLog,
  type ProviderName,
} from '../../../src/inference/model/execution-providers.js';

// 38 → 8 → 12 MLP with the model contract's quantile head (features [b,38] → quantiles [b,4,3]),
// written by `python3 bench/gpu/make_models.py DIR --tiny-only`.
const TINY_MODEL = fileURLToPath(new URL('../../fixtures/tiny-quantile-mlp.onnx', import.meta.url));

function cfg(over: Partial<ExecutionProviderConfig> = {}): ExecutionProviderConfig {
  return { ...DEFAULT_EXECUTION_PROVIDER_CONFIG, providers: ['cpu'], ...over };
}

function recordingLog(): ProviderLog & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
  };
}

/** A fake onnxruntime: providers in `broken` throw the way onnxruntime-node does when a library is missing. */
function fakeOrt(broken: Partial<Record<ProviderName, string>>) {
  const calls: { path: string; options: ort.InferenceSession.SessionOptions | undefined }[] = [];
  return {
    calls,
    InferenceSession: {
      create: async (path: string, options?: ort.InferenceSession.SessionOptions) => {
        calls.push({ path, options });
        const first = options?.executionProviders?.[0];
        const name = (typeof first === 'string' ? first : first?.name) as ProviderName;
        const error = broken[name];
        if (error !== undefined) throw new Error(error);
        return { provider: name, path };
      },
    },
  };
}

const CUDA_MISSING = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';

describe('buildSessionOptions', () => {
  it('maps cpu to the CPU provider alone', () => {
    expect(buildSessionOptions(cfg(), 'cpu')).toEqual({ executionProviders: ['cpu'] });
  });

  it('maps cuda to the CUDA provider on the configured device, CPU behind it', () => {
    expect(buildSessionOptions(cfg({ deviceId: 1 }), 'cuda')).toEqual({
      executionProviders: [{ name: 'cuda', deviceId: 1 }, 'cpu'],
    });
  });

  it('maps tensorrt to TensorRT (FP16, engine cache) then CUDA then CPU', () => {
    const opts = buildSessionOptions(cfg({ deviceId: 2, fp16: true, trtEngineCacheDir: 'engines/.trt-cache' }), 'tensorrt');
    expect(opts.executionProviders).toEqual([
      {
        name: 'tensorrt',
        deviceId: 2,
        trt_fp16_enable: true,
        trt_engine_cache_enable: true,
        trt_engine_cache_path: 'engines/.trt-cache',
      },
      { name: 'cuda', deviceId: 2 },
      'cpu',
    ]);
  });

  it('passes the runner options through and does not change them', () => {
    const base = { intraOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
    expect(buildSessionOptions(cfg(), 'cuda', base)).toEqual({ ...base, executionProviders: [{ name: 'cuda', deviceId: 0 }, 'cpu'] });
    expect(base).toEqual({ intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  });

  it('defaults to CPU with the engine cache under engines/', () => {
    expect(DEFAULT_EXECUTION_PROVIDER_CONFIG.providers).toEqual(['cpu']);
    expect(DEFAULT_EXECUTION_PROVIDER_CONFIG.trtEngineCacheDir).toMatch(/^engines[/\\]/);
    expect(Object.isFrozen(DEFAULT_EXECUTION_PROVIDER_CONFIG)).toBe(true);
  });
});

describe('fp16ModelPath', () => {
  it('puts .fp16 before .onnx', () => {
    expect(fp16ModelPath('engines/demand/3/model.onnx')).toBe('engines/demand/3/model.fp16.onnx');
    expect(fp16ModelPath('model')).toBe('model.fp16');
  });
});

describe('createSessionWithFallback', () => {
  it('uses the first provider that loads', async () => {
    const fake = fakeOrt({});
    const log = recordingLog();
    const r = await createSessionWithFallback(fake, 'm.onnx', cfg({ providers: ['cuda', 'cpu'] }), log);
    expect(r.provider).toBe('cuda');
    expect(r.precision).toBe('fp32');
    expect(r.attempts).toEqual([{ provider: 'cuda' }]);
    expect(fake.calls).toHaveLength(1);
    expect(log.lines).toEqual([expect.objectContaining({ level: 'info', msg: "inference runs on execution provider 'cuda' (fp32)" })]);
  });

  it('falls back to CPU when the GPU provider throws, with one clear line per failure', async () => {
    const fake = fakeOrt({ tensorrt: 'OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library', cuda: CUDA_MISSING });
    const log = recordingLog();
    const c = cfg({ providers: ['tensorrt', 'cuda', 'cpu'] });
    const r = await createSessionWithFallback(fake, 'm.onnx', c, log);

    expect(r.provider).toBe('cpu');
    expect(r.session).toEqual({ provider: 'cpu', path: 'm.onnx' });
    expect(r.attempts).toEqual([
      { provider: 'tensorrt', error: 'OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library' },
      { provider: 'cuda', error: CUDA_MISSING },
      { provider: 'cpu' },
    ]);
    expect(fake.calls.map((x) => x.options?.executionProviders)).toEqual([
      buildSessionOptions(c, 'tensorrt').executionProviders,
      buildSessionOptions(c, 'cuda').executionProviders,
      ['cpu'],
    ]);
    const warns = log.lines.filter((l) => l.level === 'warn');
    expect(warns.map((w) => w.msg)).toEqual([
      "execution provider 'tensorrt' could not load: OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library; falling back to 'cuda'",
      `execution provider 'cuda' could not load: ${CUDA_MISSING}; falling back to 'cpu'`,
    ]);
    expect(warns[1]?.obj).toMatchObject({ executionProvider: 'cuda', next: 'cpu', hint: expect.stringContaining('libcublas.so.13') });
    expect(log.lines.at(-1)).toMatchObject({ level: 'info', msg: "inference runs on execution provider 'cpu' (fp32)" });

    expect(executionProviderStatus(c, r)).toEqual({
      executionProvider: 'cpu',
      precision: 'fp32',
      requested: ['tensorrt', 'cuda', 'cpu'],
      fellBack: true,
      attempts: r.attempts,
    });
  });

  it('passes the runner options to every attempt', async () => {
    const fake = fakeOrt({ cuda: CUDA_MISSING });
    await createSessionWithFallback(fake, 'm.onnx', cfg({ providers: ['cuda', 'cpu'] }), recordingLog(), { baseOptions: { intraOpNumThreads: 1 } });
    expect(fake.calls.map((c) => c.options?.intraOpNumThreads)).toEqual([1, 1]);
  });

  it('loads the FP16 variant on a GPU provider when fp16 is on, and the FP32 model on CPU', async () => {
    const fake = fakeOrt({ cuda: CUDA_MISSING });
    const exists = (p: string) => p === 'engines/d/1/model.fp16.onnx';
    const r = await createSessionWithFallback(fake, 'engines/d/1/model.onnx', cfg({ providers: ['cuda', 'cpu'], fp16: true }), recordingLog(), { fileExists: exists });
    expect(fake.calls.map((c) => c.path)).toEqual(['engines/d/1/model.fp16.onnx', 'engines/d/1/model.onnx']);
    expect(r).toMatchObject({ provider: 'cpu', precision: 'fp32', modelPath: 'engines/d/1/model.onnx' });

    const ok = await createSessionWithFallback(fakeOrt({}), 'engines/d/1/model.onnx', cfg({ providers: ['cuda', 'cpu'], fp16: true }), recordingLog(), { fileExists: exists });
    expect(ok).toMatchObject({ provider: 'cuda', precision: 'fp16', modelPath: 'engines/d/1/model.fp16.onnx' });
  });

  it('says so and runs FP32 when fp16 is on but the model has no FP16 variant', async () => {
    const log = recordingLog();
    const r = await createSessionWithFallback(fakeOrt({}), 'm.onnx', cfg({ providers: ['cuda', 'cpu'], fp16: true }), log, { fileExists: () => false });
    expect(r.precision).toBe('fp32');
    expect(log.lines[0]).toMatchObject({ level: 'warn', msg: expect.stringContaining('m.fp16.onnx does not exist') });
  });

  it('warns that TensorRT FP16 / engine cache options are not forwarded by onnxruntime-node', async () => {
    const log = recordingLog();
    await createSessionWithFallback(fakeOrt({}), 'm.onnx', cfg({ providers: ['tensorrt', 'cpu'], fp16: true }), log, { fileExists: () => true });
    expect(log.lines[0]).toMatchObject({ level: 'warn', obj: { provider: 'tensorrt' } });
  });

  it('throws MODEL_INVALID when even the last provider cannot load the model', async () => {
    const log = recordingLog();
    const err = await createSessionWithFallback(fakeOrt({ cuda: CUDA_MISSING, cpu: 'Load model from m.onnx failed: Protobuf parsing failed.' }), 'm.onnx', cfg({ providers: ['cuda', 'cpu'] }), log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForecastError);
    expect(err).toMatchObject({ code: 'MODEL_INVALID', message: 'no execution provider could load m.onnx (tried cuda, cpu)' });
    expect((err as ForecastError).cause).toBeInstanceOf(Error);
    expect(log.lines.at(-1)).toMatchObject({ level: 'warn', msg: "execution provider 'cpu' could not load the model: Load model from m.onnx failed: Protobuf parsing failed." });
  });
});

describe('providerFailureHint', () => {
  it('names the usual causes', () => {
    expect(providerFailureHint('cuda', "sessionOptions.executionProviders[0] is unsupported: 'cuda'")).toContain('no \'cuda\' provider');
    expect(providerFailureHint('tensorrt', 'libnvinfer.so.10: cannot open shared object file')).toContain('TensorRT 10');
    expect(providerFailureHint('cuda', 'libcudnn.so.9: cannot open shared object file')).toContain('LD_LIBRARY_PATH');
    expect(providerFailureHint('cuda', 'CUDA failure 100: no CUDA-capable device is detected')).toContain('no usable NVIDIA GPU');
  });
});

describe('with the installed onnxruntime-node', () => {
  it('runs the model on CPU', async () => {
    const log = recordingLog();
    const r = await createSessionWithFallback(ort, TINY_MODEL, cfg({ providers: ['cpu'] }), log);
    expect(r.provider).toBe('cpu');
    await expectValidForecast(r.session);
    await r.session.release();
  });

  it('falls back to CPU when the CUDA provider cannot load, or runs CUDA where it can', async () => {
    const log = recordingLog();
    const r = await createSessionWithFallback(ort, TINY_MODEL, cfg({ providers: ['cuda', 'cpu'] }), log);
    // On a machine without the CUDA provider libraries (CI, the dev box) onnxruntime-node
    // throws for 'cuda' and CPU runs; on a GPU machine with them, CUDA runs.
    expect(['cuda', 'cpu']).toContain(r.provider);
    if (r.provider === 'cpu') {
      expect(r.attempts[0]).toMatchObject({ provider: 'cuda', error: expect.any(String) });
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    }
    await expectValidForecast(r.session);
    await r.session.release();
  });
});

async function expectValidForecast(session: ort.InferenceSession): Promise<void> {
  const batch = 3;
  const x = new Float32Array(batch * 38).map((_, i) => Math.sin(i) * 2);
  for (let b = 0; b < batch; b++) x[b * 38 + 14] = Math.log(10); // log_scale: series of ~10 units
  const out = await session.run({ features: new ort.Tensor('float32', x, [batch, 38]) });
  const q = out.quantiles;
  expect(q?.dims).toEqual([batch, 4, 3]);
  const data = q?.data as Float32Array;
  for (let i = 0; i < data.length; i += 3) {
    const [p10, p50, p90] = [data[i]!, data[i + 1]!, data[i + 2]!];
    expect(Number.isFinite(p90)).toBe(true);
    expect(p10).toBeGreaterThanOrEqual(0);
    expect(p50).toBeGreaterThanOrEqual(p10);
    expect(p90).toBeGreaterThanOrEqual(p50);
  }
}
