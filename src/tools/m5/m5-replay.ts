/**
 * The M5 files as the input streams a retailer would send, in event-time order, day by day:
 * - prices: each shelf-price change announced `PRICE_LEAD_DAYS` before it takes effect (a
 *   price cut is planned ahead; the forecasts of the days it covers move when it is
 *   announced); the replay starts by sending the price in force and the changes already
 *   announced;
 * - sales: one daily total per series and day from its listing (zeros included: the
 *   processor knows the day closed without sales, also before a launch's first sale),
 *   eventTime 23:00 UTC that day.
 * - catalog: a launch (an item listed after the replay starts) is announced on the catalog
 *   topic `LISTING_LEAD_DAYS` before its listing day, with its listing date and first shelf
 *   price as the regular price: a week before its first price announcement (topics are not
 *   ordered with each other), so it has a cold-start forecast before it sells.
 * The catalog of the items listed by then (series -> store, state, dept, category) is loaded
 * before playing.
 */
import type { SeriesInfo } from '../../state/state-types.js';
import type { CatalogRecord, InputRecord, PriceRecord } from '../input-producer.js';
import { dateOf, dayOf, type M5Dataset, type M5Series } from './m5-data.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Price changes are announced this many days before they take effect (the model's horizon). */
export const PRICE_LEAD_DAYS = 28;
/**
 * Launches are announced on the catalog topic this many days before they are listed: a week
 * before their first price announcement, because topics are not ordered with each other (a
 * fast replay plays a day in well under a second, and a price that overtakes its listing is
 * dead-lettered: docs/topics.md).
 */
export const LISTING_LEAD_DAYS = PRICE_LEAD_DAYS + 7;

export interface M5Replay {
  /** Items listed by the replay's first day plus LISTING_LEAD_DAYS (announced before it starts): load them first. */
  catalog: SeriesInfo[];
  /** Items listed later: announced on the catalog topic during the replay. */
  launches: SeriesInfo[];
  days: number[];
  /** Events of one day: price announcements first (morning), then the day's sales totals (evening). */
  eventsOfDay(day: number): InputRecord[];
  /** Prices in force when the replay starts and those announced by then. */
  initialPrices(): InputRecord[];
  /** Every event in event-time order: the initial prices, then day by day. */
  records(): Generator<InputRecord>;
  count: number;
}

export function catalogOf(s: M5Series): SeriesInfo {
  return { seriesId: s.seriesId, store: s.store, item: s.item, category: s.category, region: s.state, department: s.dept, listedDate: dateOf(s.listed) };
}

function listingRecord(s: M5Series, announcedDay: number): CatalogRecord {
  return {
    store: s.store,
    item: s.item,
    category: s.category,
    department: s.dept,
    region: s.state,
    regularPrice: s.prices[0]?.price ?? null,
    listedDate: dateOf(s.listed),
    eventTime: announcedDay * DAY_MS + 5 * HOUR_MS,
  };
}

function priceRecord(s: M5Series, fromDay: number, price: number, announcedDay: number): PriceRecord {
  const date = dateOf(fromDay);
  return { eventId: `m5p-${s.id}-${date}`, store: s.store, item: s.item, price, regularPrice: null, effectiveDate: date, eventTime: announcedDay * DAY_MS + 6 * HOUR_MS };
}

export function loadM5Replay(data: M5Dataset, from?: string, to?: string): M5Replay {
  const first = from ? dayOf(from) : Math.min(...data.series.map((s) => s.firstSale ?? Number.POSITIVE_INFINITY));
  const last = Math.min(to ? dayOf(to) : data.lastSalesDay, data.lastSalesDay);
  if (!(last >= first)) throw new Error(`nothing to replay between ${from ?? 'the first sale'} and ${to ?? dateOf(data.lastSalesDay)}`);
  // items listed by the last day exist; the others are not launched yet
  const series = data.series.filter((s) => s.listed <= last);
  const days: number[] = [];
  for (let d = first; d <= last; d++) days.push(d);
  const upfront = series.filter((s) => s.listed - LISTING_LEAD_DAYS <= first);
  const launches = series.filter((s) => s.listed - LISTING_LEAD_DAYS > first);
  const listingsBy = new Map<number, M5Series[]>();
  for (const s of launches) {
    const list = listingsBy.get(s.listed - LISTING_LEAD_DAYS) ?? [];
    list.push(s);
    listingsBy.set(s.listed - LISTING_LEAD_DAYS, list);
  }
  const changesBy = new Map<number, Array<[M5Series, number]>>();
  let count = launches.length;
  for (const s of series) {
    for (const c of s.prices) {
      const announce = c.fromBucket - PRICE_LEAD_DAYS;
      if (announce > first && announce <= last) {
        const list = changesBy.get(announce) ?? [];
        list.push([s, c.price]);
        changesBy.set(announce, list);
        count++;
      }
    }
    count += Math.max(0, last - Math.max(first, s.listed) + 1);
  }
  const initial = (): InputRecord[] => {
    const out: InputRecord[] = [];
    for (const s of series) {
      let inForce: { fromBucket: number; price: number } | null = null;
      for (const c of s.prices) {
        if (c.fromBucket <= first) inForce = c;
        else if (c.fromBucket - PRICE_LEAD_DAYS <= first) out.push({ topic: 'prices', value: priceRecord(s, c.fromBucket, c.price, first) });
      }
      if (inForce) out.unshift({ topic: 'prices', value: priceRecord(s, inForce.fromBucket, inForce.price, first) });
    }
    return out;
  };
  const eventsOfDay = (day: number): InputRecord[] => {
    const out: InputRecord[] = [];
    for (const s of listingsBy.get(day) ?? []) out.push({ topic: 'catalog', value: listingRecord(s, day) });
    for (const [s, price] of changesBy.get(day) ?? []) out.push({ topic: 'prices', value: priceRecord(s, day + PRICE_LEAD_DAYS, price, day) });
    const date = dateOf(day);
    const eventTime = day * DAY_MS + 23 * HOUR_MS;
    for (const s of series) {
      if (day < s.listed) continue;
      out.push({ topic: 'sales', value: { eventId: `m5-${s.id}-${date}`, store: s.store, item: s.item, eventTime, quantity: data.salesOn(s, day), unitPrice: null } });
    }
    return out;
  };
  function* records(): Generator<InputRecord> {
    yield* initial();
    for (const d of days) yield* eventsOfDay(d);
  }
  return { catalog: upfront.map(catalogOf), launches: launches.map(catalogOf), days, eventsOfDay, initialPrices: initial, records, count };
}
