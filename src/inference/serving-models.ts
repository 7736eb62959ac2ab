import type { Forecast } from './forecast.js';
import type { ModelGuard } from './model-guard.js';
import type { ShiftVerdict } from './rollout-compare.js';
import type { SeriesSnapshot } from './series-snapshot.js';

/** One group of a batch's forecasts, as the forecaster made them: what shadow comparisons read. */
export interface ServedGroup {
  guard: ModelGuard;
  snapshots: readonly SeriesSnapshot[];
  origins: readonly number[];
  /** The input the serving model read ([series * rowsPerSeries, F]); its family's driftScale reads it. */
  features: Float32Array;
  /** [series, horizons, 3] of the primary model, or null when the fallback served the group. */
  output: Float32Array | null;
  durationMs: number;
  /** The forecasts made from it (primary, cold start or fallback), in the order of snapshots. */
  forecasts: readonly Forecast[];
}

/**
 * Which model version serves which series (the model lifecycle's routing, seen by the inference
 * stage): the live version's guard for every series, except the canary's share of series while
 * a new version is in canary. After each live batch the forecaster reports what it served, so a
 * version in shadow can run on the same batch (its outputs never leave the comparison).
 */
export interface ServingModels {
  /** The live version's guard. */
  readonly live: ModelGuard;
  /** The guard that serves this series now. */
  guardFor(seriesId: string): ModelGuard;
  /** A live batch was served (not awaited by the batch: a shadow run must not delay it). */
  served?(groups: readonly ServedGroup[]): void;
}

/** One version serving everything (tests, tools, and a processor with no lifecycle). */
export function servingOne(guard: ModelGuard): ServingModels {
  return { live: guard, guardFor: () => guard };
}

/** How a new version goes live: shadow → canary → live, canary → live, or live at once. */
export type RolloutPolicy = 'shadow' | 'canary' | 'promote';

/** The checks a new version passes before it serves anything; a failure names one of them. */
export type ModelCheck = 'artifact' | 'feature-spec' | 'sha256' | 'variant-gate' | 'compatibility' | 'load' | 'parity' | 'sample-output' | 'shadow-output-shift' | 'shadow-invalid-output' | 'shadow-failed' | 'shadow-latency' | 'canary-output-shift' | 'canary-failures' | 'canary-latency' | 'canary-accuracy' | 'operator';

export interface LifecycleEvents {
  'model-candidate': { version: string; policy: RolloutPolicy; source: 'watch' | 'admin' };
  'model-rejected': { version: string; check: ModelCheck; reason: string; phase: string };
  'rollout-phase': { version: string; phase: 'shadow' | 'canary'; detail: string };
  'model-promoted': { version: string; previous: string; detail: string };
  'model-rolled-back': { from: string; to: string; reason: string };
  'rollout-compared': { version: string; phase: 'shadow' | 'canary'; verdict: ShiftVerdict; p99Ms: number; liveP99Ms: number };
}
