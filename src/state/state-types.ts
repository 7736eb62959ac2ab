import type { SeriesSnapshot } from '../inference/series-snapshot.js';

/** Catalog entry: what a series is and where it sells. */
export interface SeriesInfo {
  seriesId: string;
  store: string;
  item: string;
  category: string;
  region: string;
  /** Department within the category (M5: FOODS_1); optional, catalogs without one leave it out. */
  department?: string;
  /** First day on sale, YYYY-MM-DD, when the catalog says (a launch announced ahead may lie in the future). */
  listedDate?: string;
}

/** One sales event, bucketed, ready for the state update. */
export interface SalesUpdate {
  seriesId: string;
  eventId: string;
  bucket: number;
  quantity: number;
  eventTimeMs: number;
}

/** A promotion as stored per store (the coverage is re-checked per series on read). */
export interface StoredPromotion {
  promotionId: string;
  kind: string;
  items: string[];
  categories: string[];
  startMs: number;
  endMs: number;
  depth: number;
  markdown: number;
  eventTime: number;
}

export interface PromotionUpdate {
  store: string;
  promotion: StoredPromotion;
}

export interface StoredWeather {
  /** 2 observation, 1 forecast: an observation wins. */
  rank: number;
  eventTime: number;
  temperatureC: number | null;
  precipitationMm: number | null;
}

export interface WeatherUpdate {
  scope: 'store' | 'region';
  location: string;
  bucket: number;
  weather: StoredWeather;
}

/** One shelf-price event, bucketed, ready for the state update. */
export interface PriceUpdate {
  seriesId: string;
  eventId: string;
  /** Bucket from which `price` is in force. */
  fromBucket: number;
  price: number;
  /** The regular price when the producer sent one (the newest by event time is kept). */
  regularPrice: number | null;
  eventTimeMs: number;
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'too-old';

/**
 * The narrow state interface: only the calls the pipeline makes. Implemented by the
 * Redis store (production) and the in-memory store (pipeline harness, unit tests); one
 * contract suite runs against both.
 */
/** What a snapshot read includes, and where series whose state cannot be read are named. */
export interface ReadOptions {
  prices?: boolean;
  unreadable?: (seriesId: string, reason: string) => void;
}

export interface StateStore {
  putCatalog(series: readonly SeriesInfo[]): Promise<void>;
  loadCatalog(): Promise<SeriesInfo[]>;
  /** The catalog entries of these series that exist (another instance may have just listed them). */
  loadCatalogEntries(seriesIds: readonly string[]): Promise<SeriesInfo[]>;
  applySales(updates: readonly SalesUpdate[]): Promise<ApplyOutcome[]>;
  applyPromotions(updates: readonly PromotionUpdate[]): Promise<ApplyOutcome[]>;
  applyWeather(updates: readonly WeatherUpdate[]): Promise<ApplyOutcome[]>;
  /** Price changes per series; for one bucket the later event wins, so replays change nothing. */
  applyPrices(updates: readonly PriceUpdate[]): Promise<ApplyOutcome[]>;
  /**
   * One round trip: everything the features of these series need. `prices: false` leaves the
   * price schedules out (a model that reads no prices saves a command per series).
   * A series whose keys Redis refuses to read (WRONGTYPE: written by something else) is left
   * out of the result and named to `unreadable`; the others are returned (in their order).
   */
  readSnapshots(series: readonly SeriesInfo[], what?: ReadOptions): Promise<SeriesSnapshot[]>;
  /** Canonical dump of all state (tests compare replays with it). */
  dump(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Does a stored promotion cover this series? Both lists empty = every item of the store. */
export function promotionCovers(p: StoredPromotion, s: SeriesInfo): boolean {
  if (p.items.length === 0 && p.categories.length === 0) return true;
  return p.items.includes(s.item) || p.categories.includes(s.category);
}
