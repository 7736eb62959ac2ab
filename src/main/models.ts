import { resolve } from 'node:path';
import { ForecastError } from '../core/errors.js';
import { forecastFallback } from '../inference/fallback/fallback-forecast.js';
import type { BucketSize } from '../inference/features/bucket-clock.js';
import type { DriftReference, PrimaryModel } from '../inference/forecast.js';
import type { FallbackModel } from '../inference/forecaster.js';
import { findModelDir, loadModelArtifact, type ModelArtifact, type ModelMetadata } from '../inference/model/model-artifact.js';
import { WorkerModel, type WorkerModelOptions } from '../inference/model/worker-model.js';
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

/** What the model fixes for the whole processor: bucket size, horizons, window length. */
export interface ModelSettings {
  bucketSize: BucketSize;
  horizons: number;
  windowBuckets: number;
}

/** Default window per bucket size: the longest lookback of the families (400 days), 60 weeks. */
export const DEFAULT_WINDOW: Record<BucketSize, number> = { day: 400, week: 60 };

/** Finds and checks the configured model artifact (engines/<FS_MODEL>/<FS_MODEL_VERSION>). */
export async function findPrimaryArtifact(c: Config): Promise<ModelArtifact> {
  try {
    const dir = await findModelDir(resolve(c.enginesDir), c.modelName || undefined, c.modelVersion === 'latest' ? undefined : c.modelVersion);
    return await loadModelArtifact(dir);
  } catch (cause) {
    throw new ForecastError('MODEL_INVALID', `cannot load a model from ${c.enginesDir} (FS_ENGINES_DIR, FS_MODEL, FS_MODEL_VERSION): ${(cause as Error).message}`, { cause });
  }
}

/**
 * The model decides bucket size and horizons; a setting given explicitly must agree with it
 * (a weekly model fed daily buckets would forecast nonsense), the window defaults per bucket.
 */
export function modelSettings(c: Config, artifact: ModelArtifact): ModelSettings {
  const m = artifact.metadata;
  if (c.bucketSize !== undefined && m.bucketSize !== c.bucketSize) {
    throw new ForecastError('MODEL_INVALID', `model ${m.name}/${m.version} was trained on ${m.bucketSize} buckets but FS_BUCKET is ${c.bucketSize}; unset FS_BUCKET (the model decides) or load a ${c.bucketSize} model with FS_MODEL`);
  }
  if (c.horizons !== undefined && m.horizons.length !== c.horizons) {
    throw new ForecastError('MODEL_INVALID', `model ${m.name}/${m.version} forecasts ${m.horizons.length} horizons but FS_HORIZONS is ${c.horizons}; unset FS_HORIZONS or set it to ${m.horizons.length}`);
  }
  // a statistical component reads its own history (one more bucket: the origin can be the one
  // before the newest, whose week is not complete yet)
  const need = Math.max(artifact.family.lookback, artifact.statistical ? artifact.statistical.lookback + 1 : 0);
  const windowBuckets = c.windowBuckets ?? Math.max(DEFAULT_WINDOW[m.bucketSize], need);
  if (windowBuckets < need) {
    throw new ForecastError('CONFIG_INVALID', `FS_WINDOW_BUCKETS (${windowBuckets}) is shorter than model ${m.name}'s lookback (${need} ${m.bucketSize}s); raise it or unset it`);
  }
  return { bucketSize: m.bucketSize, horizons: m.horizons.length, windowBuckets };
}

/** Starts the checked artifact's worker. */
export async function loadPrimaryModel(c: Config, artifact: ModelArtifact, log: Logger, onWorkerEvent?: WorkerModelOptions['onWorkerEvent']): Promise<PrimaryModel> {
  const m = artifact.metadata;
  return WorkerModel.load({
    name: m.name,
    version: m.version,
    modelPath: artifact.modelPath,
    horizons: m.horizons.length,
    family: artifact.family,
    inputs: m.inputs ?? artifact.family.inputs,
    coldStartBuckets: m.coldStart?.historyBuckets ?? null,
    reference: driftReferenceOf(m),
    statistical: artifact.statistical,
    providers: {
      providers: [...c.executionProviders],
      deviceId: c.gpuDeviceId,
      fp16: c.gpuFp16,
      trtEngineCacheDir: resolve(c.enginesDir, '.trt-cache'),
    },
    threads: c.inferenceThreads,
    gpuMinBatch: c.gpuMinBatch,
    log,
    // a call this far past the guard's timeout is a hung worker, not a slow batch
    hangMs: Math.max(10_000, 10 * c.modelTimeoutMs),
    ...(onWorkerEvent ? { onWorkerEvent } : {}),
  });
}

/** The classical fallback (seasonal naive blended with smoothing, promotion uplift). */
export function loadFallbackModel(): FallbackModel {
  return { name: 'fallback-seasonal-ets', version: '1', forecast: forecastFallback };
}
