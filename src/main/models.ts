import { resolve } from 'node:path';
import { ForecastError } from '../core/errors.js';
import { forecastFallback } from '../inference/fallback/fallback-forecast.js';
import { FEATURE_COUNT } from '../inference/features/feature-spec.js';
import type { DriftReference, PrimaryModel } from '../inference/forecast.js';
import type { FallbackModel } from '../inference/forecaster.js';
import { findModelDir, loadModelArtifact, type ModelMetadata } from '../inference/model/model-artifact.js';
import { WorkerModel } from '../inference/model/worker-model.js';
import type { Config } from '../ops/config.js';
import type { Logger } from '../ops/logger.js';

/**
 * Drift reference from the training metadata: quantiles of p50/scale per horizon become
 * bins (pooled over horizons by averaging each quantile) with the probability mass between
 * consecutive quantile levels.
 */
export function driftReferenceOf(m: ModelMetadata): DriftReference | null {
  const { probs, p50OverScale } = m.referenceDistribution;
  if (probs.length < 2 || p50OverScale.length === 0) return null;
  const pooled = probs.map((_, i) => p50OverScale.reduce((sum, row) => sum + (row[i] ?? 0), 0) / p50OverScale.length);
  const edges = [Number.NEGATIVE_INFINITY, ...pooled, Number.POSITIVE_INFINITY];
  const proportions = [probs[0]!, ...probs.slice(1).map((p, i) => p - probs[i]!), 1 - probs.at(-1)!];
  return { edges, proportions };
}

/** Loads engines/<model>/<version>, checks it against this build, starts its worker. */
export async function loadPrimaryModel(c: Config, log: Logger): Promise<PrimaryModel> {
  let artifact;
  try {
    const dir = await findModelDir(resolve(c.enginesDir), c.modelName || undefined, c.modelVersion === 'latest' ? undefined : c.modelVersion);
    artifact = await loadModelArtifact(dir);
  } catch (cause) {
    throw new ForecastError('MODEL_INVALID', `cannot load a model from ${c.enginesDir} (FS_ENGINES_DIR, FS_MODEL, FS_MODEL_VERSION): ${(cause as Error).message}`, { cause });
  }
  const m = artifact.metadata;
  if (m.bucketSize !== c.bucketSize) {
    throw new ForecastError('MODEL_INVALID', `model ${m.name}/${m.version} was trained on ${m.bucketSize} buckets but bucketSize is ${c.bucketSize}; set FS_BUCKET=${m.bucketSize} or load a ${c.bucketSize} model`);
  }
  if (m.horizons.length !== c.horizons) {
    throw new ForecastError('MODEL_INVALID', `model ${m.name}/${m.version} forecasts ${m.horizons.length} horizons but horizons is ${c.horizons}; set FS_HORIZONS=${m.horizons.length}`);
  }
  return WorkerModel.load({
    name: m.name,
    version: m.version,
    modelPath: artifact.modelPath,
    horizons: m.horizons.length,
    featureCount: FEATURE_COUNT,
    reference: driftReferenceOf(m),
    providers: {
      providers: [...c.executionProviders],
      deviceId: c.gpuDeviceId,
      fp16: c.gpuFp16,
      trtEngineCacheDir: resolve(c.enginesDir, '.trt-cache'),
    },
    threads: c.inferenceThreads,
    gpuMinBatch: c.gpuMinBatch,
    log,
  });
}

/** The classical fallback (seasonal naive blended with smoothing, promotion uplift). */
export function loadFallbackModel(): FallbackModel {
  return { name: 'fallback-seasonal-ets', version: '1', forecast: forecastFallback };
}
