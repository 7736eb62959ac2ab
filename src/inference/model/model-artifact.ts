/**
 * A model version on disk: `engines/<name>/<version>/model.json` (metadata written by
 * `make train`) next to `model.onnx`. The metadata is validated before anything runs, and a
 * model trained on another feature spec is refused: its inputs would mean something else.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MODEL_INPUTS, type FeatureFamily } from '../features/feature-family.js';
import { familyOf } from '../features/families.js';
import { StatisticalMetadataSchema, statisticalComponentOf, type StatisticalComponent } from '../statistical/statistical-component.js';

export const ModelMetadataSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  format: z.literal('onnx'),
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bucketSize: z.enum(['day', 'week']),
  featureSpec: z.object({
    /** Feature family (absent: walmart-weekly, the first one, for artifacts written before families). */
    family: z.string().min(1).default('walmart-weekly'),
    version: z.number().int(),
    hash: z.string(),
    names: z.array(z.string()),
  }),
  /** Inputs the model learned an effect from (default: every input its family reads). */
  inputs: z.array(z.enum(MODEL_INPUTS)).optional(),
  /**
   * The model's cold-start branch (trained on launches: rows at the day before listing and
   * young series): forecasts of a series with fewer than historyBuckets buckets since its first
   * sale (or none) are marked source 'cold_start'. Absent: the model has none.
   */
  coldStart: z.object({ historyBuckets: z.number().int().positive() }).passthrough().optional(),
  /**
   * A statistical component the server computes per series and averages into the ONNX median
   * (src/inference/statistical/); absent: the ONNX output is served as it is.
   */
  statistical: StatisticalMetadataSchema.optional(),
  /** Input rows per series: 1, or one per horizon (the daily GBM). */
  rowsPerSeries: z.number().int().positive().default(1),
  input: z.object({ name: z.string(), shape: z.tuple([z.literal(-1), z.number().int().positive()]) }),
  output: z.object({
    name: z.string(),
    shape: z.tuple([z.literal(-1), z.number().int().positive(), z.literal(3)]),
  }),
  horizons: z.array(z.number().int().positive()).min(1),
  quantiles: z.tuple([z.number(), z.number(), z.number()]),
  training: z.object({ trainUntil: z.string(), firstOrigin: z.string() }).passthrough(),
  referenceDistribution: z.object({
    probs: z.array(z.number()),
    p50OverScale: z.array(z.array(z.number())),
    widthOverScale: z.array(z.array(z.number())),
  }).passthrough(),
  /**
   * A version derived from another one (training/tools/make_variant.py, make_precision_variants.py).
   * A precision variant (`precision` 'fp16' | 'int8') carries the gate training ran against its
   * FP32 source; checkVariantGate re-checks it at load. Other derived versions (the lifecycle
   * test variants) have no `precision` and no gate.
   */
  variant: z.object({
    precision: z.string().optional(),
    from: z.string().optional(),
    gate: z.object({}).passthrough().optional(),
  }).passthrough().optional(),
}).passthrough();

export type ModelMetadata = z.infer<typeof ModelMetadataSchema>;

/** The issue's rule: a precision variant may move the held-back WAPE by less than 2% (relative). */
export const VARIANT_MAX_REL_WAPE_CHANGE = 0.02;
const VARIANT_PRECISIONS = ['fp16', 'int8'];

/**
 * Why a precision variant must not serve, or null when it may (and for every version that is not
 * one). The metadata must carry a gate that passed and is consistent with its own numbers:
 * `|relChange| < 0.02` and equal to `(wape - baseWape) / baseWape`, `maxRelDiff <= tolerance`,
 * finite numbers, the held-back window named, and for INT8 a calibration set that holds rows of
 * holiday and promotion weeks. Pure: reads the metadata only (the numbers were measured in
 * training, on data the processor does not have).
 */
export function checkVariantGate(m: ModelMetadata): string | null {
  const v = m.variant;
  if (v === undefined || v.precision === undefined) return null;
  const id = `${m.name}/${m.version}`;
  if (!VARIANT_PRECISIONS.includes(v.precision)) return `${id}: variant precision '${v.precision}' is not one of ${VARIANT_PRECISIONS.join(', ')}`;
  if (typeof v.from !== 'string' || v.from.length === 0) return `${id}: ${v.precision} variant does not name the version it was made from`;
  const g = v.gate as Record<string, unknown> | undefined;
  if (g === undefined || g === null || typeof g !== 'object') return `${id}: ${v.precision} variant carries no gate result`;
  const num = (k: string): number | null => (typeof g[k] === 'number' && Number.isFinite(g[k]) ? (g[k] as number) : null);
  for (const k of ['baseWape', 'wape', 'relChange', 'maxAbsDiff', 'maxRelDiff', 'tolerance']) {
    if (num(k) === null) return `${id}: gate.${k} is missing or not a finite number`;
  }
  const [baseWape, wape, relChange, maxAbsDiff, maxRelDiff, tolerance] = ['baseWape', 'wape', 'relChange', 'maxAbsDiff', 'maxRelDiff', 'tolerance'].map((k) => num(k)!) as [number, number, number, number, number, number];
  if (typeof g.heldBack !== 'string' || g.heldBack.length === 0) return `${id}: gate.heldBack does not name the held-back window`;
  if (typeof g.passed !== 'boolean') return `${id}: gate.passed is missing`;
  if (!g.passed) return `${id}: its ${v.precision} gate failed in training (WAPE ${baseWape} -> ${wape}, relative change ${relChange}, max relative difference ${maxRelDiff} vs tolerance ${tolerance})`;
  if (baseWape <= 0 || wape < 0 || maxAbsDiff < 0 || maxRelDiff < 0 || tolerance <= 0) return `${id}: gate figures out of range (baseWape ${baseWape}, wape ${wape}, maxAbsDiff ${maxAbsDiff}, maxRelDiff ${maxRelDiff}, tolerance ${tolerance})`;
  const recomputed = (wape - baseWape) / baseWape;
  // The figures are rounded to 6 decimals when written: allow that much.
  if (Math.abs(recomputed - relChange) > 1e-5 + 1e-6 / baseWape) return `${id}: gate.relChange ${relChange} does not match its WAPEs (${baseWape} -> ${wape}: ${recomputed.toFixed(6)})`;
  if (Math.abs(relChange) >= VARIANT_MAX_REL_WAPE_CHANGE) return `${id}: held-back WAPE moved ${(100 * relChange).toFixed(2)}% (${baseWape} -> ${wape}); a variant must stay within ${100 * VARIANT_MAX_REL_WAPE_CHANGE}%`;
  if (maxRelDiff > tolerance) return `${id}: outputs differ from FP32 by up to ${maxRelDiff} (relative), over the stated tolerance ${tolerance}`;
  if (v.precision === 'int8') {
    const c = g.calibration as Record<string, unknown> | null | undefined;
    if (c === undefined || c === null || typeof c !== 'object') return `${id}: int8 variant carries no calibration result`;
    if (typeof c.rows !== 'number' || !Number.isInteger(c.rows) || c.rows <= 0) return `${id}: int8 calibration.rows is missing or not a positive integer`;
    if (typeof c.windows !== 'string' || c.windows.length === 0) return `${id}: int8 calibration.windows does not name the calibration windows`;
    if (c.includesHolidays !== true) return `${id}: int8 calibration set holds no holiday weeks`;
    if (c.includesPromotions !== true) return `${id}: int8 calibration set holds no promotion (markdown) weeks`;
  }
  return null;
}

export interface ModelArtifact {
  dir: string;
  metadata: ModelMetadata;
  /** The feature family the model was trained on, ready to build its input. */
  family: FeatureFamily;
  /** Absolute path of the ONNX file. */
  modelPath: string;
  /** The statistical component model.json asks for, or null. */
  statistical: StatisticalComponent | null;
}

export class ModelArtifactError extends Error {
  override readonly name = 'ModelArtifactError';
}

/** Versions compare by their numeric parts, then as text ("1-2012-04-27" < "2-2011-01-01"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[^0-9]+/).filter(Boolean).map(Number);
  const pb = b.split(/[^0-9]+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

/** The directory of `engines/<name>/<version>`, or of the newest version when none is given. */
export async function findModelDir(enginesDir: string, name?: string, version?: string): Promise<string> {
  const names = name ? [name] : (await readdir(enginesDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  if (names.length !== 1) {
    throw new ModelArtifactError(`${enginesDir}: expected one model name, found [${names.join(', ')}]; pass one`);
  }
  const modelDir = join(enginesDir, names[0]!);
  if (version) return join(modelDir, version);
  const versions = (await readdir(modelDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  const newest = versions.sort(compareVersions).at(-1);
  if (!newest) throw new ModelArtifactError(`${modelDir}: no versions`);
  return join(modelDir, newest);
}

/** Validates metadata (shape only; the family check needs the artifact's files). Throws ModelArtifactError naming the problem. */
export function parseModelMetadata(raw: unknown, where: string): ModelMetadata {
  const parsed = ModelMetadataSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ModelArtifactError(`${where}: invalid model metadata: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Checks metadata against the feature family this build computes for it. */
export function checkModelAgainstFamily(m: ModelMetadata, family: FeatureFamily, where: string): void {
  if (m.featureSpec.hash !== family.specHash) {
    throw new ModelArtifactError(
      `${where}: model ${m.name}/${m.version} was trained on feature spec ${family.id} v${m.featureSpec.version} (hash ${m.featureSpec.hash.slice(0, 12)}…), ` +
        `this build computes v${family.specVersion} (hash ${family.specHash.slice(0, 12)}…): retrain it (make train) or deploy a matching build`,
    );
  }
  if (m.bucketSize !== family.bucketSize) {
    throw new ModelArtifactError(`${where}: model declares ${m.bucketSize} buckets, its family ${family.id} builds ${family.bucketSize}`);
  }
  if (m.input.shape[1] !== family.featureCount) {
    throw new ModelArtifactError(`${where}: model input has ${m.input.shape[1]} features, the ${family.id} spec has ${family.featureCount}`);
  }
  if (m.rowsPerSeries !== family.rowsPerSeries) {
    throw new ModelArtifactError(`${where}: model takes ${m.rowsPerSeries} rows per series, the ${family.id} family builds ${family.rowsPerSeries}`);
  }
  if (m.output.shape[1] !== m.horizons.length) {
    throw new ModelArtifactError(`${where}: output shape has ${m.output.shape[1]} horizons, metadata lists ${m.horizons.length}`);
  }
  const extra = (m.inputs ?? []).filter((i) => !family.inputs.includes(i));
  if (extra.length > 0) {
    throw new ModelArtifactError(`${where}: model lists inputs [${extra.join(', ')}] that the ${family.id} features do not read`);
  }
  if (m.horizons.length !== family.horizons) {
    throw new ModelArtifactError(`${where}: model forecasts ${m.horizons.length} horizons, the ${family.id} family covers ${family.horizons}`);
  }
}

/** Validates metadata against this build's feature spec; `dir` holds the files some families read (a calendar). */
export async function checkModelMetadata(raw: unknown, where: string, dir: string): Promise<{ metadata: ModelMetadata; family: FeatureFamily }> {
  const metadata = parseModelMetadata(raw, where);
  let family: FeatureFamily;
  try {
    family = await familyOf(metadata, dir);
  } catch (cause) {
    throw new ModelArtifactError(`${where}: ${(cause as Error).message}`, { cause });
  }
  checkModelAgainstFamily(metadata, family, where);
  return { metadata, family };
}

/** Loads and validates `model.json` of a version directory, and checks the ONNX file's sha256. */
export async function loadModelArtifact(dir: string): Promise<ModelArtifact> {
  const metaPath = join(dir, 'model.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(metaPath, 'utf8'));
  } catch (cause) {
    throw new ModelArtifactError(`${metaPath}: cannot read model metadata`, { cause });
  }
  const { metadata, family } = await checkModelMetadata(raw, metaPath, dir);
  const modelPath = join(dir, metadata.file);
  const digest = createHash('sha256').update(await readFile(modelPath)).digest('hex');
  if (digest !== metadata.sha256) {
    throw new ModelArtifactError(`${modelPath}: sha256 ${digest.slice(0, 12)}… does not match model.json (${metadata.sha256.slice(0, 12)}…)`);
  }
  let statistical: StatisticalComponent | null = null;
  if (metadata.statistical) {
    try {
      statistical = statisticalComponentOf(metadata.statistical, metaPath);
    } catch (cause) {
      throw new ModelArtifactError((cause as Error).message, { cause });
    }
  }
  return { dir, metadata, family, modelPath, statistical };
}

/** The version folders of engines/<name>/, newest first. */
export async function listVersions(enginesDir: string, name: string): Promise<string[]> {
  const dir = join(enginesDir, name);
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort(compareVersions)
    .reverse();
}

/** Feature rows and the outputs training computed for them (parity.json beside model.json; optional). */
export interface ParityVectors {
  rows: number;
  tolerance: number;
  features: number[];
  outputs: number[];
}

/** The version's parity vectors, or null when it ships none. */
export async function readParity(dir: string): Promise<ParityVectors | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'parity.json'), 'utf8');
  } catch {
    return null;
  }
  const parsed = z
    .object({ rows: z.number().int().positive(), tolerance: z.number().positive(), features: z.array(z.number()), outputs: z.array(z.number()) })
    .safeParse(JSON.parse(text));
  if (!parsed.success) throw new ModelArtifactError(`${join(dir, 'parity.json')}: invalid parity vectors: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}
