import type { PriceChange, WeatherPoint } from '../inference/series-snapshot.js';
import type { SeriesInfo, StoredPromotion, StoredWeather } from './state-types.js';

/** How state values are serialised: canonical JSON, so equal state means equal bytes. */

/** Fixed key order, so the same promotion always serialises to the same bytes. */
export function canonicalPromotion(p: StoredPromotion): string {
  return JSON.stringify({
    promotionId: p.promotionId,
    kind: p.kind,
    items: p.items,
    categories: p.categories,
    startMs: p.startMs,
    endMs: p.endMs,
    depth: p.depth,
    markdown: p.markdown,
    eventTime: p.eventTime,
  });
}

export function canonicalWeather(w: StoredWeather): string {
  return JSON.stringify({ rank: w.rank, eventTime: w.eventTime, temperatureC: w.temperatureC, precipitationMm: w.precipitationMm });
}

export function parseWeather(raw: Record<string, string>): Map<number, WeatherPoint> {
  const m = new Map<number, WeatherPoint>();
  for (const [bucket, json] of Object.entries(raw)) {
    const w = JSON.parse(json) as StoredWeather;
    m.set(Number(bucket), { temperatureC: w.temperatureC, precipitationMm: w.precipitationMm });
  }
  return m;
}

/** Store weather wins over region weather, bucket by bucket. */
export function mergeWeather(
  store: ReadonlyMap<number, WeatherPoint> | undefined,
  region: ReadonlyMap<number, WeatherPoint> | undefined,
): Map<number, WeatherPoint> {
  const m = new Map<number, WeatherPoint>(region ?? []);
  for (const [b, w] of store ?? []) m.set(b, w);
  return m;
}


/** Catalog entry as stored (series id is the hash field). */
export function catalogJson(s: SeriesInfo): Omit<SeriesInfo, 'seriesId'> {
  const out: Omit<SeriesInfo, 'seriesId'> = { store: s.store, item: s.item, category: s.category, region: s.region };
  if (s.department !== undefined) out.department = s.department;
  if (s.listedDate !== undefined) out.listedDate = s.listedDate;
  return out;
}

/** Price hash (fromBucket -> `price|eventTime`, `_reg`) to ascending changes and the regular price. */
export function parsePrices(raw: Record<string, string>): { prices: PriceChange[]; regularPrice: number | null } {
  const prices: PriceChange[] = [];
  let regularPrice: number | null = null;
  for (const field in raw) {
    const v = raw[field]!;
    const price = Number(v.slice(0, v.indexOf('|')));
    if (field === '_reg') regularPrice = price;
    else prices.push({ fromBucket: Number(field), price });
  }
  prices.sort((a, b) => a.fromBucket - b.fromBucket);
  return { prices, regularPrice };
}
