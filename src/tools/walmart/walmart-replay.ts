import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketEndMs, bucketStartMs } from '../../inference/features/bucket-clock.js';
import { seriesIdOf } from '../../state/catalog.js';
import type { SeriesInfo } from '../../state/state-types.js';
import type { InputRecord } from '../input-producer.js';
import { fahrenheitToCelsius, parseFeaturesCsv, parseStoresCsv, parseTrainCsv, type WalmartSalesRow, type WalmartStoreWeekRow } from './walmart-data.js';

const HOUR_MS = 3_600_000;
/** Markdowns are planned ahead and a weather forecast stands in for the observation: both are sent this many weeks early. */
export const REPLAY_LOOKAHEAD_WEEKS = 4;

export interface WalmartReplay {
  catalog: SeriesInfo[];
  weeks: number[];
  /** Events of one week in event-time order: plans for the coming weeks, then the week's sales and observed weather. */
  eventsOfWeek(week: number): InputRecord[];
  count: number;
}

/**
 * The Walmart CSVs as the input streams a retailer would send: per store-department weekly
 * sales (eventTime = the week's Friday noon), per store-week markdown promotions
 * (MarkDown1-5 summed, covering every item of the store for that week) and weather
 * (Temperature °F -> °C; forecasts for the next weeks, then the observation).
 */
export async function loadWalmartReplay(dir: string, from?: string, to?: string): Promise<WalmartReplay> {
  const [train, features, stores] = await Promise.all(['train.csv', 'features.csv', 'stores.csv'].map((f) => readFile(join(dir, f), 'utf8')));
  const inRange = (date: string) => (!from || date >= from) && (!to || date <= to);
  const sales = parseTrainCsv(train!).filter((r) => inRange(r.date));
  const storeWeeks = parseFeaturesCsv(features!);
  const typeOf = new Map(parseStoresCsv(stores!).map((s) => [s.store, s.type]));

  const catalog = new Map<string, SeriesInfo>();
  const salesByWeek = new Map<number, WalmartSalesRow[]>();
  for (const r of sales) {
    const id = seriesIdOf(r.store, r.dept);
    if (!catalog.has(id)) catalog.set(id, { seriesId: id, store: r.store, item: r.dept, category: r.dept, region: typeOf.get(r.store) ?? 'all' });
    push(salesByWeek, r.week, r);
  }
  const storesWithSeries = new Set([...catalog.values()].map((s) => s.store));
  const storeWeekByWeek = new Map<number, WalmartStoreWeekRow[]>();
  for (const r of storeWeeks) if (storesWithSeries.has(r.store)) push(storeWeekByWeek, r.week, r);
  const weeks = [...salesByWeek.keys()].sort((a, b) => a - b);

  const eventsOfWeek = (week: number): InputRecord[] => {
    const out: InputRecord[] = [];
    const friday = bucketEndMs(week, 'week') - 12 * HOUR_MS;
    for (let ahead = 1; ahead <= REPLAY_LOOKAHEAD_WEEKS; ahead++) {
      for (const sw of storeWeekByWeek.get(week + ahead) ?? []) {
        // re-sent each week until it happens: a newer announcement replaces the older one
        if (sw.markdown > 0) out.push({ topic: 'promotions', value: markdownPromotion(sw, friday) });
        if (sw.temperatureF !== null) out.push({ topic: 'weather', value: weatherOf(sw, 'forecast', friday) });
      }
    }
    for (const r of salesByWeek.get(week) ?? []) {
      out.push({ topic: 'sales', value: { eventId: `wm-${r.store}-${r.dept}-${r.date}`, store: r.store, item: r.dept, eventTime: friday, quantity: r.weeklySales, unitPrice: null } });
    }
    for (const sw of storeWeekByWeek.get(week) ?? []) {
      if (sw.temperatureF !== null) out.push({ topic: 'weather', value: weatherOf(sw, 'observation', friday + HOUR_MS) });
    }
    return out;
  };
  let count = 0;
  for (const w of weeks) count += (salesByWeek.get(w)?.length ?? 0) + (storeWeekByWeek.get(w)?.length ?? 0) * (1 + 2 * REPLAY_LOOKAHEAD_WEEKS);
  return { catalog: [...catalog.values()], weeks, eventsOfWeek, count };
}

function markdownPromotion(sw: WalmartStoreWeekRow, announcedAt: number) {
  return {
    promotionId: `md-${sw.store}-${sw.date}`,
    kind: 'markdown',
    stores: [sw.store],
    items: [],
    categories: [],
    startTime: bucketStartMs(sw.week, 'week'),
    endTime: bucketEndMs(sw.week, 'week'),
    discountDepth: null,
    markdownAmount: Math.round(sw.markdown * 100) / 100,
    eventTime: announcedAt,
  };
}

function weatherOf(sw: WalmartStoreWeekRow, kind: 'observation' | 'forecast', eventTime: number) {
  return {
    eventId: `wx-${sw.store}-${sw.date}-${kind}`,
    scope: 'store' as const,
    location: sw.store,
    date: sw.date,
    kind,
    temperatureC: Math.round(fahrenheitToCelsius(sw.temperatureF!) * 10) / 10,
    precipitationMm: null,
    eventTime,
  };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
