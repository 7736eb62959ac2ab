/**
 * What the inference stage knows about one series at forecast time: everything the
 * feature builder and the fallback model read, assembled from Redis state in one
 * pipelined round trip (or from CSV rows by `evaluate`, or by the training pipeline).
 *
 * Buckets are integers (see `bucket-clock.ts`): day index since the Unix epoch, or week
 * index with weeks ending on Friday (the Walmart convention).
 */
export interface PromotionSpan {
  promotionId: string;
  /** Inclusive start, epoch ms. */
  startMs: number;
  /** Exclusive end, epoch ms. */
  endMs: number;
  /** Fractional discount depth in [0, 1] (0 when only a markdown amount is known). */
  depth: number;
  /** Markdown amount in currency units (0 when only a depth is known). */
  markdown: number;
}

export interface WeatherPoint {
  /** Mean temperature in degrees Celsius, or null when unknown. */
  temperatureC: number | null;
  /** Precipitation in millimetres, or null when unknown. */
  precipitationMm: number | null;
}

/** A shelf-price change: `price` is in force from bucket `fromBucket` until the next change. */
export interface PriceChange {
  fromBucket: number;
  price: number;
}

export interface SeriesSnapshot {
  seriesId: string;
  store: string;
  item: string;
  category: string;
  region: string;
  /** Department (M5: FOODS_1); absent in catalogs that have none. */
  department?: string;
  /** First bucket the series ever sold in (kept beyond the window), or null/absent when unknown. */
  firstSaleBucket?: number | null;
  /** Shelf-price changes, ascending by fromBucket, including announced future ones (empty: unknown). */
  prices?: readonly PriceChange[];
  /** The item's regular (non-promoted) price as producers last sent it, or null. */
  regularPrice?: number | null;
  /** Sales quantity per bucket; buckets absent from the map had no sales (0). */
  sales: ReadonlyMap<number, number>;
  /** Newest bucket with a sales record, or null when the series has none yet. */
  lastSalesBucket: number | null;
  /** Event time of the newest sale (epoch ms); tells whether the newest bucket is complete. */
  lastSalesEventMs?: number | null;
  /** Promotions covering this series (running, announced or recently ended). */
  promotions: readonly PromotionSpan[];
  /** Weather for the series' store (falling back to its region) per bucket. */
  weather: ReadonlyMap<number, WeatherPoint>;
}
