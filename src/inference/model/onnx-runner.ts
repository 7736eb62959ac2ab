/**
 * In-process ONNX runner: `[batch, features]` float32 in, `[batch, H, 3]` quantiles out.
 * Session options pass through untouched, so callers choose execution providers (CUDA,
 * TensorRT) and threading; the worker-thread wrapper lives in the caller.
 */
import * as ort from 'onnxruntime-node';

export interface OnnxRunnerInfo {
  inputName: string;
  outputName: string;
  features: number;
}

export class OnnxRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: OnnxRunnerInfo,
  ) {}

  static async create(
    modelPath: string,
    sessionOptions?: ort.InferenceSession.SessionOptions,
    features?: number,
  ): Promise<OnnxRunner> {
    const session = await ort.InferenceSession.create(modelPath, sessionOptions ?? {});
    const inputName = session.inputNames[0];
    const outputName = session.outputNames[0];
    if (inputName === undefined || outputName === undefined) throw new Error(`${modelPath}: model has no input or output`);
    // The feature count comes from the graph's input shape when it is static, else from the caller.
    const meta = session.inputMetadata[0];
    const dim = meta && meta.isTensor ? meta.shape[1] : undefined;
    const n = typeof dim === 'number' ? dim : features;
    if (n === undefined) throw new Error(`${modelPath}: input feature dimension unknown; pass it`);
    return new OnnxRunner(session, { inputName, outputName, features: n });
  }

  /** Runs `batch` rows of `features` (row-major, length batch * features); returns [batch, H, 3] flattened. */
  async run(features: Float32Array, batch: number): Promise<Float32Array> {
    if (features.length < batch * this.info.features) {
      throw new RangeError(`run: ${features.length} floats for ${batch} rows of ${this.info.features}`);
    }
    const view = features.length === batch * this.info.features ? features : features.subarray(0, batch * this.info.features);
    const input = new ort.Tensor('float32', view, [batch, this.info.features]);
    const out = await this.session.run({ [this.info.inputName]: input });
    const t = out[this.info.outputName];
    if (!t || !(t.data instanceof Float32Array)) throw new Error('run: model returned no float32 output');
    return t.data;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
