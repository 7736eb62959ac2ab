import type { SeriesInfo } from '../../src/state/state-types.js';
import type { PromotionRecord, SalesRecord, WeatherRecord } from '../../src/tools/input-producer.js';

const DAY_MS = 86_400_000;

/** 3 stores x 4 items in 2 categories, 2 regions. */
export function scenarioCatalog(tag: string): SeriesInfo[] {
  const out: SeriesInfo[] = [];
  for (let s = 1; s <= 3; s++) {
    for (let i = 1; i <= 4; i++) {
      const store = `${tag}S${s}`;
      const item = `I${i}`;
      out.push({ seriesId: `${store}-${item}`, store, item, category: i <= 2 ? 'CA' : 'CB', region: s === 3 ? 'R2' : 'R1' });
    }
  }
  return out;
}

/** Ten weeks of weekly sales for every series, ending last week (so no event is in the future). */
export function salesHistory(catalog: SeriesInfo[], weeks = 10, now = Date.now()): SalesRecord[] {
  const out: SalesRecord[] = [];
  for (let w = weeks; w >= 1; w--) {
    for (const [k, s] of catalog.entries()) {
      out.push({ eventId: `hist-${s.seriesId}-${w}`, store: s.store, item: s.item, eventTime: now - w * 7 * DAY_MS, quantity: 10 + ((k * 7 + w * 3) % 13), unitPrice: 2.5 });
    }
  }
  return out;
}

export function sale(s: SeriesInfo, id: string, quantity: number, now = Date.now()): SalesRecord {
  return { eventId: id, store: s.store, item: s.item, eventTime: now - 3_600_000, quantity, unitPrice: null };
}

export function promotion(id: string, stores: string[], categories: string[], now = Date.now()): PromotionRecord {
  return {
    promotionId: id,
    kind: 'flash',
    stores,
    items: [],
    categories,
    startTime: now + DAY_MS,
    endTime: now + 4 * DAY_MS,
    discountDepth: 0.3,
    markdownAmount: null,
    eventTime: now - 60_000,
  };
}

export function weather(store: string, id: string, now = Date.now()): WeatherRecord {
  return {
    eventId: id,
    scope: 'store',
    location: store,
    date: new Date(now + DAY_MS).toISOString().slice(0, 10),
    kind: 'forecast',
    temperatureC: 21.5,
    precipitationMm: 2,
    eventTime: now - 60_000,
  };
}
