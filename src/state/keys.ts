/**
 * Every Redis key the processor uses is built here (BullMQ style). Each key carries a
 * hash tag (`{...}`) naming the entity it belongs to, so the keys a Lua script touches
 * always hash to one Redis Cluster slot.
 */
export class KeyBuilder {
  constructor(readonly prefix: string) {}

  /** Hash: bucket -> sales quantity, plus `_max` (newest bucket), `_min` (window start), `_ts`. */
  sales(seriesId: string): string {
    return `${this.prefix}:{s:${seriesId}}:sales`;
  }

  /** Sorted set: event id -> bucket, the sales events already applied (replay guard). */
  seenSales(seriesId: string): string {
    return `${this.prefix}:{s:${seriesId}}:seen`;
  }

  /** Hash: fromBucket -> `price|eventTime`, plus `_reg` -> `regularPrice|eventTime`. */
  prices(seriesId: string): string {
    return `${this.prefix}:{s:${seriesId}}:prices`;
  }

  /** Hash: promotion id -> promotion JSON, for every promotion running in the store. */
  storePromotions(store: string): string {
    return `${this.prefix}:{st:${store}}:promos`;
  }

  /** Hash: bucket -> weather JSON, for a store or a region. */
  weather(scope: 'store' | 'region', location: string): string {
    return `${this.prefix}:{wx:${scope}:${location}}:weather`;
  }

  /** Hash: series id -> catalog JSON (store, item, category, region). */
  catalog(): string {
    return `${this.prefix}:{catalog}:series`;
  }

  /** String: the latest forecast issued from this origin bucket (version, source, float32 quantiles), awaiting its actuals (TTL; online accuracy). */
  pendingForecasts(seriesId: string, origin: number): string {
    return `${this.prefix}:{s:${seriesId}}:fc:${origin}`;
  }

  /** Whether a key is online-accuracy bookkeeping (left out of state dumps: not input state). */
  isBookkeeping(key: string): boolean {
    return /\}:fc:-?\d+$/.test(key);
  }

  /** Pattern matching every key of this prefix (for dumps and clean-up in tests). */
  all(): string {
    return `${this.prefix}:*`;
  }
}
