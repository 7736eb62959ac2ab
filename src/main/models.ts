import { basename, dirname, join, resolve } from 'node:path';
import { ForecastError } from '../core/errors.js';
import { forecastFallback } from '../inference/fallback/fallback-forecast.js';
import type { BucketSize } from '../inference/features/bucket-clock.js';
import type { DriftReference, PrimaryModel } from '../inference/forecast.js';
import type { FallbackModel } from '../inference/forecaster.js';
import { checkVariantGate, compareVersions, findModelDir, listVersions, loadModelArtifact, type ModelArtifact, type ModelMetadata } from '../inference/model/model-artifact.js';
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

/** A version passed over at start-up, and why. */
export interface SkippedVersion {
  version: string;
  reason: string;
}

/**
 * Finds and checks the configured model artifact (engines/<FS_MODEL>/<FS_MODEL_VERSION>). A
 * version that cannot be used (corrupt or missing files, bad metadata, another feature spec)
 * does not stop the process: the newest good version of the same model is used instead and
 * the ones passed over are listed in `skipped` (the processor raises a critical alert for
 * each). Only when no version at all can be used is it an error.
 */
export async function findStartupArtifact(c: Config): Promise<{ artifact: ModelArtifact; skipped: SkippedVersion[] }> {
  const engines = resolve(c.enginesDir);
  const wanted = c.modelVersion === 'latest' ? undefined : c.modelVersion;
  let first: string;
  try {
    first = await findModelDir(engines, c.modelName || undefined, wanted);
  } catch (cause) {
    throw new ForecastError('MODEL_INVALID', `cannot load a model from ${c.enginesDir} (FS_ENGINES_DIR, FS_MODEL, FS_MODEL_VERSION): ${(cause as Error).message}`, { cause });
  }
  const name = basename(dirname(first));
  const skipped: SkippedVersion[] = [];
  const tryDir = async (dir: string): Promise<ModelArtifact | null> => {
    try {
      const a = await loadModelArtifact(dir);
      // an FP16/INT8 variant whose training gate did not pass is not served
      const gate = checkVariantGate(a.metadata);
      if (gate) throw new Error(`variant gate: ${gate}`);
      return a;
    } catch (cause) {
      skipped.push({ version: basename(dir), reason: (cause as Error).message });
      return null;
    }
  };
  const found = await tryDir(first);
  if (found) return { artifact: found, skipped };
  const others = (await listVersions(engines, name).catch(() => [] as string[])).filter((v) => v !== basename(first));
  for (const v of others) {
    const a = await tryDir(join(engines, name, v));
    if (a) return { artifact: a, skipped };
  }
  throw new ForecastError('MODEL_INVALID', `cannot load a model from ${c.enginesDir} (FS_ENGINES_DIR, FS_MODEL, FS_MODEL_VERSION): no usable version of ${name}: ${skipped.map((s) => `${s.version}: ${s.reason}`).join('; ')}`);
}

/**
 * The next older version of the same model that loads and fits the settings the process has
 * already sized its state for (a version whose worker could not load it is passed over).
 */
export async function olderUsableArtifact(c: Config, failed: ModelArtifact, settings: ModelSettings, skipped: SkippedVersion[]): Promise<ModelArtifact | null> {
  const engines = resolve(c.enginesDir);
  const name = failed.metadata.name;
  const tried = new Set([failed.metadata.version, ...skipped.map((s) => s.version)]);
  for (const v of await listVersions(engines, name).catch(() => [] as string[])) {
    if (tried.has(v) || compareVersions(v, failed.metadata.version) > 0) continue;
    try {
      const a = await loadModelArtifact(join(engines, name, v));
      const s = modelSettings(c, a);
      if (s.bucketSize !== settings.bucketSize || s.horizons !== settings.horizons || s.windowBuckets > settings.windowBuckets) throw new Error('does not fit the state this process keeps');
      return a;
    } catch (cause) {
      skipped.push({ version: v, reason: (cause as Error).message });
    }
  }
  return null;
}

/** The artifact the processor would start with (the newest good one; see findStartupArtifact). */
export async function findPrimaryArtifact(c: Config): Promise<ModelArtifact> {
  return (await findStartupArtifact(c)).artifact;
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
