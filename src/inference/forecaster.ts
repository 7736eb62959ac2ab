import type { Clock } from '../core/clock.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import type { BatchItem } from '../batching/affected-batcher.js';
import type { Catalog } from '../state/catalog.js';
import type { SeriesInfo, StateStore } from '../state/state-types.js';
import { bucketEndMs, bucketLabel, bucketOf, type BucketSize } from './features/bucket-clock.js';
import { floatsPerSeries } from './features/feature-family.js';
import type { Forecast, ForecastSource } from './forecast.js';
import type { InferenceEvents, ModelGuard } from './model-guard.js';
import type { SeriesSnapshot } from './series-snapshot.js';

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
  guard: ModelGuard;
  fallback: FallbackModel;
  bucketSize: BucketSize;
  clock: Clock;
  events: TypedEmitter<InferenceEvents>;
}

/**
 * The inference stage for one batch: read every series' window in one pipelined round
 * trip, build the `[batch, F]` tensor, run the guarded primary model (fallback when it
 * is unavailable), and shape the forecasts with their provenance.
 */
export class Forecaster {
  readonly #o: ForecasterOptions;
  constructor(options: ForecasterOptions) {
    this.#o = options;
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

  /** Forecast catalog series directly (full refresh uses this without Kafka triggers). */
  async forecastSeries(infos: readonly SeriesInfo[], triggers: ReadonlyArray<BatchItem['triggers']> = []): Promise<Forecast[]> {
    const o = this.#o;
    const batch = infos.length;
    if (batch === 0) return [];
    const snapshots = await o.store.readSnapshots(infos, { prices: o.guard.model.inputs.includes('prices') });
    const now = o.clock.now();
    const fallbackOrigin = bucketOf(now, o.bucketSize) - 1;
    const origins = snapshots.map((s) => forecastOrigin(s, o.bucketSize, fallbackOrigin));

    // the features of the loaded model's family; a fresh buffer per batch (copied to the worker)
    const family = o.guard.model.family;
    const width = floatsPerSeries(family);
    const features = new Float32Array(batch * width);
    for (let i = 0; i < batch; i++) family.build(snapshots[i]!, origins[i]!, features, i * width);

    const started = performance.now();
    const primary = await o.guard.run(features, batch);
    const model = o.guard.model;
    const horizons = model.horizons;
    const source: ForecastSource = primary ? 'primary' : 'fallback';
    o.events.emit('inference', { batch, durationMs: performance.now() - started, source });

    const out: Forecast[] = [];
    for (let i = 0; i < batch; i++) {
      const snap = snapshots[i]!;
      const origin = origins[i]!;
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
        triggers: triggers[i] ?? [],
      });
    }
    return out;
  }
}
