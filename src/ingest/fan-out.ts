import type { Catalog } from '../state/catalog.js';
import type { SeriesInfo } from '../state/state-types.js';
import type { PromotionEvent, WeatherEvent } from './input-events.js';

/** Series a promotion covers: its items or categories in its stores; neither = every item of the stores. */
export function seriesOfPromotion(p: PromotionEvent, catalog: Catalog): SeriesInfo[] {
  const out: SeriesInfo[] = [];
  const whole = p.items.length === 0 && p.categories.length === 0;
  const items = new Set(p.items);
  for (const store of p.stores) {
    if (whole) {
      out.push(...catalog.seriesOfStore(store));
      continue;
    }
    const seen = new Set<string>();
    for (const c of p.categories) {
      for (const s of catalog.seriesOfStoreCategory(store, c)) {
        seen.add(s.seriesId);
        out.push(s);
      }
    }
    if (items.size > 0) {
      for (const s of catalog.seriesOfStore(store)) if (items.has(s.item) && !seen.has(s.seriesId)) out.push(s);
    }
  }
  return out;
}

/** Series a weather report touches: every series of the store, or of every store of the region. */
export function seriesOfWeather(w: WeatherEvent, catalog: Catalog): readonly SeriesInfo[] {
  if (w.scope === 'store') return catalog.seriesOfStore(w.location);
  return catalog.storesOfRegion(w.location).flatMap((st) => catalog.seriesOfStore(st));
}
