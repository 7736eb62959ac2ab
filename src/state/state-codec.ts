import type { WeatherPoint } from '../inference/series-snapshot.js';
import type { StoredPromotion, StoredWeather } from './state-types.js';

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

