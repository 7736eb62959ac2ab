import type { Clock } from '../core/clock.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import type { BatchItem } from '../batching/affected-batcher.js';
import type { Catalog } from '../state/catalog.js';
import type { SeriesInfo, StateStore } from '../state/state-types.js';
import { bucketEndMs, bucketLabel, bucketOf, type BucketSize } from './features/bucket-clock.js';
import { buildBatch } from './features/feature-family.js';
import type { Forecast, ForecastSource, PrimaryModel } from './forecast.js';
import type { InferenceEvents, ModelGuard } from './model-guard.js';
import type { SeriesSnapshot } from './series-snapshot.js';
import { servingOne, type ServedGroup, type ServingModels } from './serving-models.js';
import { applyStatistical } from './statistical/statistical-component.js';

const DAY_MS = 86_400_000;

/**
 * The bucket a forecast starts from: the series' newest bucket once it is complete, else
 * the one before. Models are trained on whole buckets, so a week with two days of sales
 * in it would read as a collapse. A bucket counts as complete once the series has a sale
 * on its last day (for weeks, the Friday; weekly-total feeds such as the Walmart replay
 * stamp totals on that day). A series without sales starts from the bucket before now.
 */
export function forecastOrigin(s: SeriesSnapshot, size: BucketSize, noSalesOrigin: number): number {
  if (s.lastSalesBucket === null) return noSalesOrigin;
  const lastDayStart = bucketEndMs(s.lastSalesBucket, size) - DAY_MS;
  return s.lastSalesEventMs === undefined || s.lastSalesEventMs === null || s.lastSalesEventMs >= lastDayStart
    ? s.lastSalesBucket
    : s.lastSalesBucket - 1;
}

/** The classical model served while the breaker is open (no ONNX, same windows). */
export interface FallbackModel {
  readonly name: string;
  readonly version: string;
  /** p10, p50, p90 for horizons 1..H, flattened `[H, 3]`. */
  forecast(snapshot: SeriesSnapshot, origin: number, bucketSize: BucketSize, horizons: number): ArrayLike<number>;
}

export interface ForecasterOptions {
  store: StateStore;
  catalog: Catalog;
  /** The one version served when `models` is not given. */
  guard?: ModelGuard;
  /** Which version serves which series (the model lifecycle: live, canary, shadow). */
  models?: ServingModels;
  fallback: FallbackModel;
  bucketSize: BucketSize;
  clock: Clock;
  events: TypedEmitter<InferenceEvents>;
  /** Told what every live batch served (online accuracy keeps the forecasts and scores closed buckets). */
  onServed?: (groups: readonly ServedGroup[]) => void;
}

/**
 * The inference stage for one batch: read every series' window in one pipelined round
 * trip, build the `[batch, F]` tensor, run the guarded primary model (fallback when it
 * is unavailable), and shape the forecasts with their provenance.
 */
export class Forecaster {
  readonly #o: ForecasterOptions;
  readonly #models: ServingModels;
  /** Newest sales bucket of any series forecast so far: the data's "today" (a replay's too). */
  #newestSales: number | null = null;
  constructor(options: ForecasterOptions) {
    this.#o = options;
    const models = options.models ?? (options.guard ? servingOne(options.guard) : null);
    if (!models) throw new Error('Forecaster needs a guard or the serving models');
    this.#models = models;
  }

  /**
   * The origin of a series without sales: the data's newest day (the newest sales bucket this
   * process has seen, never past the wall clock's yesterday; the wall clock alone before any),
   * or the day before its listing when that lies later (a launch announced ahead is forecast
   * for its first days on sale, as the launch protocol does).
   */
  #noSalesOrigin(info: SeriesInfo, now: number): number {
    const o = this.#o;
    const wall = bucketOf(now, o.bucketSize) - 1;
    const data = this.#newestSales === null ? wall : Math.min(this.#newestSales, wall);
    if (!info.listedDate) return data;
    const listed = bucketOf(Date.parse(`${info.listedDate}T12:00:00Z`), o.bucketSize);
    return Math.max(data, listed - 1);
  }

  async forecast(items: readonly BatchItem[]): Promise<Forecast[]> {
    const o = this.#o;
    const infos: SeriesInfo[] = [];
    const kept: BatchItem[] = [];
    for (const item of items) {
      const info = o.catalog.series(item.seriesId);
      if (info) {
        infos.push(info);
        kept.push(item);
      }
    }
    return this.forecastSeries(infos, kept.map((k) => k.triggers));
  }

  /** The primary model the forecasts come from (its inputs, horizons, name and version). */
  get model(): PrimaryModel {
    return this.#models.live.model;
  }

  /** Forecast catalog series directly (full refresh uses this without Kafka triggers). */
  async forecastSeries(infos: readonly SeriesInfo[], triggers: ReadonlyArray<BatchItem['triggers']> = []): Promise<Forecast[]> {
    if (infos.length === 0) return [];
    const unreadable = new Map<string, string>();
    const snapshots = await this.readSnapshots(infos, (id, reason) => unreadable.set(id, reason));
    for (const s of snapshots) if (s.lastSalesBucket !== null && (this.#newestSales === null || s.lastSalesBucket > this.#newestSales)) this.#newestSales = s.lastSalesBucket;
    if (unreadable.size === 0) return this.forecastSnapshots(snapshots, infos, triggers, 'live');
    // a series whose state Redis refuses to read is named (alert, metric) and left out, so the
    // rest of its batch is forecast and its partition is not rewound forever over one bad key
    this.#o.events.emit('state-unreadable', { seriesIds: [...unreadable.keys()], reason: unreadable.values().next().value! });
    const keep = infos.map((i) => !unreadable.has(i.seriesId));
    return this.forecastSnapshots(snapshots, infos.filter((_, i) => keep[i]), triggers.length === 0 ? [] : triggers.filter((_, i) => keep[i]), 'live');
  }

  /**
   * The live state of these series, as the loaded model's features read it (one round trip);
   * series whose state Redis refuses to read are left out and named to `unreadable`.
   */
  readSnapshots(infos: readonly SeriesInfo[], unreadable?: (seriesId: string, reason: string) => void): Promise<SeriesSnapshot[]> {
    // every version served reads the same inputs (the lifecycle refuses a version that reads others)
    return this.#o.store.readSnapshots(infos, { prices: this.#models.live.model.inputs.includes('prices'), ...(unreadable ? { unreadable } : {}) });
  }

  /** The live state of these series and the origin each would be forecast from (a new model version's check sample). */
  async sampleInputs(infos: readonly SeriesInfo[]): Promise<{ snapshots: SeriesSnapshot[]; origins: number[] }> {
    const snapshots = await this.readSnapshots(infos);
    const now = this.#o.clock.now();
    const byId = new Map(infos.map((i) => [i.seriesId, i]));
    const origins = snapshots.map((s) => (s.lastSalesBucket === null ? this.#noSalesOrigin(byId.get(s.seriesId)!, now) : forecastOrigin(s, this.#o.bucketSize, 0)));
    return { snapshots, origins };
  }

  /**
   * Forecasts from snapshots: `live` through the guarded model (breaker, drift monitor),
   * `what-if` for hypothetical snapshots (ModelGuard.peek: same model and checks, no effect on
   * the breaker or the drift windows). For the same snapshots both give the same numbers.
   */
  async forecastSnapshots(
    snapshots: readonly SeriesSnapshot[],
    infos: readonly SeriesInfo[],
    triggers: ReadonlyArray<BatchItem['triggers']>,
    mode: 'live' | 'what-if',
  ): Promise<Forecast[]> {
    const o = this.#o;
    const batch = snapshots.length;
    if (batch === 0) return [];
    const now = o.clock.now();
    const origins = snapshots.map((s, i) => (s.lastSalesBucket === null ? this.#noSalesOrigin(infos[i]!, now) : forecastOrigin(s, o.bucketSize, 0)));

    // which version serves which series: one group unless a canary runs (read once per batch,
    // so a version switch between batches never splits or repeats one)
    const groups = new Map<ModelGuard, number[]>();
    for (let i = 0; i < batch; i++) {
      const g = this.#models.guardFor(snapshots[i]!.seriesId);
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push(i);
    }
    const out: Forecast[] = new Array<Forecast>(batch);
    const served: ServedGroup[] = [];
    for (const [guard, idx] of groups) {
      const snaps = idx.length === batch ? snapshots : idx.map((i) => snapshots[i]!);
      const orgs = idx.length === batch ? origins : idx.map((i) => origins[i]!);
      const { forecasts, group } = await this.#runGroup(guard, snaps, orgs, mode, now);
      for (let k = 0; k < idx.length; k++) {
        const i = idx[k]!;
        forecasts[k]!.triggers = triggers[i] ?? [];
        out[i] = forecasts[k]!;
      }
      served.push(group);
    }
    if (mode === 'live') {
      this.#models.served?.(served);
      this.#o.onServed?.(served);
    }
    return out;
  }

  /** One version's share of a batch: its family's features, its guarded run, its forecasts. */
  async #runGroup(guard: ModelGuard, snapshots: readonly SeriesSnapshot[], origins: readonly number[], mode: 'live' | 'what-if', now: number): Promise<{ forecasts: Forecast[]; group: ServedGroup }> {
    const o = this.#o;
    const batch = snapshots.length;
    // the features of the serving model's family; a fresh buffer per batch (copied to the worker)
    const model = guard.model;
    const features = buildBatch(model.family, snapshots, origins);

    const started = performance.now();
    const primary = mode === 'live' ? await guard.run(features, batch) : await guard.peek(features, batch);
    const horizons = model.horizons;
    // the model's statistical component, averaged into the ONNX median (not into the fallback)
    if (primary && model.statistical) applyStatistical(model.statistical, primary, snapshots, origins, horizons);
    const durationMs = performance.now() - started;
    if (mode === 'live') o.events.emit('inference', { batch, durationMs, source: primary ? 'primary' : 'fallback' });
    const young = model.coldStartBuckets;

    const out: Forecast[] = [];
    for (let i = 0; i < batch; i++) {
      const snap = snapshots[i]!;
      const origin = origins[i]!;
      // the model's launch branch serves a series without enough history of its own
      const first = snap.firstSaleBucket ?? null;
      const source: ForecastSource = !primary ? 'fallback' : young !== null && (first === null || origin - first + 1 < young) ? 'cold_start' : 'primary';
      const values = primary ? primary.subarray(i * horizons * 3, (i + 1) * horizons * 3) : o.fallback.forecast(snap, origin, o.bucketSize, horizons);
      const hs = [];
      for (let h = 0; h < horizons; h++) {
        hs.push({
          horizon: h + 1,
          bucketDate: bucketLabel(origin + h + 1, o.bucketSize),
          p10: values[h * 3]!,
          p50: values[h * 3 + 1]!,
          p90: values[h * 3 + 2]!,
        });
      }
      out.push({
        seriesId: snap.seriesId,
        store: snap.store,
        item: snap.item,
        issuedAt: now,
        bucketSize: o.bucketSize,
        originBucket: origin,
        originDate: bucketLabel(origin, o.bucketSize),
        horizons: hs,
        modelName: primary ? model.name : o.fallback.name,
        modelVersion: primary ? model.version : o.fallback.version,
        source,
        featureAgeMs: snap.lastSalesBucket === null ? null : Math.max(0, now - bucketEndMs(snap.lastSalesBucket, o.bucketSize)),
        triggers: [],
      });
    }
    return { forecasts: out, group: { guard, snapshots, origins, features, output: primary, durationMs, forecasts: out } };
  }
}
