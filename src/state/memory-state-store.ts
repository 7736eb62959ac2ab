import type { SeriesSnapshot } from '../inference/series-snapshot.js';
import { canonicalPromotion, canonicalWeather, mergeWeather } from './state-codec.js';
import {
  promotionCovers,
  type ApplyOutcome,
  type PriceUpdate,
  type PromotionUpdate,
  type SalesUpdate,
  type SeriesInfo,
  type StateStore,
  type StoredPromotion,
  type StoredWeather,
  type WeatherUpdate,
} from './state-types.js';

interface SeriesWindow {
  sales: Map<number, number>;
  seen: Map<string, number>;
  max: number | null;
  min: number | null;
  ts: number;
  first: number | null;
}

/** A stored value with the event time that wrote it (later wins; ties: lower text). */
interface Timed {
  value: number;
  eventTime: number;
}

function newer(cur: Timed | undefined, value: number, eventTime: number): boolean {
  if (!cur) return true;
  if (cur.eventTime !== eventTime) return eventTime > cur.eventTime;
  return String(value) < String(cur.value);
}

/**
 * In-memory state store with the same semantics as the Redis one (the contract suite
 * checks both). Used by the pipeline harness and fast unit tests.
 */
export class MemoryStateStore implements StateStore {
  readonly #window: number;
  readonly #bucketMs: number;
  readonly #catalog = new Map<string, SeriesInfo>();
  readonly #series = new Map<string, SeriesWindow>();
  readonly #promos = new Map<string, Map<string, string>>();
  readonly #weather = new Map<string, Map<number, string>>();
  readonly #prices = new Map<string, { changes: Map<number, Timed>; regular: Timed | undefined }>();

  constructor(options: { windowBuckets: number; bucketMs: number }) {
    this.#window = options.windowBuckets;
    this.#bucketMs = options.bucketMs;
  }

  async putCatalog(series: readonly SeriesInfo[]): Promise<void> {
    for (const s of series) this.#catalog.set(s.seriesId, { ...s });
  }

  async loadCatalog(): Promise<SeriesInfo[]> {
    return [...this.#catalog.values()].map((s) => ({ ...s }));
  }

  async loadCatalogEntries(seriesIds: readonly string[]): Promise<SeriesInfo[]> {
    return seriesIds.flatMap((id) => {
      const s = this.#catalog.get(id);
      return s ? [{ ...s }] : [];
    });
  }

  async applySales(updates: readonly SalesUpdate[]): Promise<ApplyOutcome[]> {
    return updates.map((u) => {
      let w = this.#series.get(u.seriesId);
      if (!w) this.#series.set(u.seriesId, (w = { sales: new Map(), seen: new Map(), max: null, min: null, ts: 0, first: null }));
      if (w.min !== null && u.bucket < w.min) return 'too-old';
      if (w.seen.has(u.eventId)) return 'duplicate';
      w.sales.set(u.bucket, (w.sales.get(u.bucket) ?? 0) + u.quantity);
      w.seen.set(u.eventId, u.bucket);
      w.ts = Math.max(w.ts, u.eventTimeMs);
      if (u.quantity > 0 && (w.first === null || u.bucket < w.first)) w.first = u.bucket;
      if (w.max === null || u.bucket > w.max) {
        w.max = u.bucket;
        w.min = u.bucket - this.#window + 1;
        for (const b of w.sales.keys()) if (b < w.min) w.sales.delete(b);
        for (const [id, b] of w.seen) if (b < w.min) w.seen.delete(id);
      }
      return 'applied';
    });
  }

  async applyPromotions(updates: readonly PromotionUpdate[]): Promise<ApplyOutcome[]> {
    return updates.map((u) => {
      let hash = this.#promos.get(u.store);
      if (!hash) this.#promos.set(u.store, (hash = new Map()));
      const json = canonicalPromotion(u.promotion);
      const cur = hash.get(u.promotion.promotionId);
      if (cur !== undefined) {
        if (cur === json) return 'duplicate';
        const old = JSON.parse(cur) as StoredPromotion;
        const t = u.promotion.eventTime;
        if (old.eventTime > t || (old.eventTime === t && cur > json)) return 'duplicate';
      }
      hash.set(u.promotion.promotionId, json);
      const prune = u.promotion.startMs - this.#window * this.#bucketMs;
      for (const [id, j] of hash) {
        if (id !== u.promotion.promotionId && (JSON.parse(j) as StoredPromotion).endMs < prune) hash.delete(id);
      }
      return 'applied';
    });
  }

  async applyWeather(updates: readonly WeatherUpdate[]): Promise<ApplyOutcome[]> {
    return updates.map((u) => {
      const key = `${u.scope}:${u.location}`;
      let hash = this.#weather.get(key);
      if (!hash) this.#weather.set(key, (hash = new Map()));
      const json = canonicalWeather(u.weather);
      const cur = hash.get(u.bucket);
      if (cur !== undefined) {
        if (cur === json) return 'duplicate';
        const old = JSON.parse(cur) as StoredWeather;
        const { rank: r, eventTime: t } = u.weather;
        if (old.rank > r || (old.rank === r && (old.eventTime > t || (old.eventTime === t && cur > json)))) return 'duplicate';
      }
      hash.set(u.bucket, json);
      for (const b of hash.keys()) if (b < u.bucket - this.#window) hash.delete(b);
      return 'applied';
    });
  }

  async applyPrices(updates: readonly PriceUpdate[]): Promise<ApplyOutcome[]> {
    return updates.map((u) => {
      let p = this.#prices.get(u.seriesId);
      if (!p) this.#prices.set(u.seriesId, (p = { changes: new Map(), regular: undefined }));
      let changed = false;
      if (u.regularPrice !== null && newer(p.regular, u.regularPrice, u.eventTimeMs)) {
        p.regular = { value: u.regularPrice, eventTime: u.eventTimeMs };
        changed = true;
      }
      const cur = p.changes.get(u.fromBucket);
      const same = cur !== undefined && cur.value === u.price && cur.eventTime === u.eventTimeMs;
      if (!same && newer(cur, u.price, u.eventTimeMs)) {
        p.changes.set(u.fromBucket, { value: u.price, eventTime: u.eventTimeMs });
        changed = true;
      }
      if (changed) {
        // drop changes before the window except the newest of them: it is still in force
        const prune = u.fromBucket - this.#window;
        const old = [...p.changes.keys()].filter((b) => b < prune);
        const keep = Math.max(...old);
        for (const b of old) if (b !== keep) p.changes.delete(b);
      }
      return changed ? 'applied' : 'duplicate';
    });
  }

  async readSnapshots(series: readonly SeriesInfo[]): Promise<SeriesSnapshot[]> {
    return series.map((s) => {
      const w = this.#series.get(s.seriesId);
      const pr = this.#prices.get(s.seriesId);
      const promos = [...(this.#promos.get(s.store)?.values() ?? [])].map((j) => JSON.parse(j) as StoredPromotion);
      return {
        seriesId: s.seriesId,
        store: s.store,
        item: s.item,
        category: s.category,
        region: s.region,
        ...(s.department === undefined ? {} : { department: s.department }),
        sales: new Map(w?.sales ?? []),
        lastSalesBucket: w?.max ?? null,
        lastSalesEventMs: w ? w.ts : null,
        firstSaleBucket: w?.first ?? null,
        prices: [...(pr?.changes ?? [])].sort(([a], [b]) => a - b).map(([fromBucket, t]) => ({ fromBucket, price: t.value })),
        regularPrice: pr?.regular?.value ?? null,
        promotions: promos
          .filter((p) => promotionCovers(p, s))
          .map((p) => ({ promotionId: p.promotionId, startMs: p.startMs, endMs: p.endMs, depth: p.depth, markdown: p.markdown })),
        weather: mergeWeather(this.#weatherOf('store', s.store), this.#weatherOf('region', s.region)),
      };
    });
  }

  #weatherOf(scope: string, location: string) {
    const hash = this.#weather.get(`${scope}:${location}`);
    const m = new Map<number, { temperatureC: number | null; precipitationMm: number | null }>();
    for (const [b, j] of hash ?? []) {
      const w = JSON.parse(j) as StoredWeather;
      m.set(b, { temperatureC: w.temperatureC, precipitationMm: w.precipitationMm });
    }
    return m;
  }

  async dump(): Promise<Record<string, unknown>> {
    const sortEntries = <K, V>(m: Map<K, V>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      catalog: sortEntries(this.#catalog),
      series: sortEntries(this.#series).map(([id, w]) => [id, sortEntries(w.sales), sortEntries(w.seen), w.max, w.min, w.ts, w.first]),
      prices: sortEntries(this.#prices).map(([id, p]) => [id, sortEntries(p.changes), p.regular ?? null]),
      promos: sortEntries(this.#promos).map(([k, h]) => [k, sortEntries(h)]),
      weather: sortEntries(this.#weather).map(([k, h]) => [k, sortEntries(h)]),
    };
  }

  async close(): Promise<void> {}
}
