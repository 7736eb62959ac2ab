/**
 * The Walmart (Kaggle 2014) CSVs -> SeriesSnapshot mapping, shared by `evaluate` and the
 * replay command so both feed the model exactly what training saw
 * (training/forecast_training/walmart.py is the Python twin; test/vectors/features.json
 * checks the two against each other on test/fixtures/walmart-mini).
 *
 * - series id `<store>-<dept>`; store and item as strings; category = dept; region = the
 *   store's type (A/B/C) from stores.csv, or 'all' when unknown.
 * - sales bucket = week bucket of the row's Friday date.
 * - promotions: one span per store-week covering the week, markdown = MarkDown1..5 summed
 *   (NA -> 0), depth 0.
 * - weather: Temperature °F -> °C per store-week, precipitation unknown (null).
 */
import { seriesIdOf } from '../../state/catalog.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketEndMs, bucketOf, bucketStartMs } from '../../inference/features/bucket-clock.js';
import type { PromotionSpan, SeriesSnapshot, WeatherPoint } from '../../inference/series-snapshot.js';

export interface WalmartSalesRow {
  store: string;
  dept: string;
  /** The week's Friday, YYYY-MM-DD. */
  date: string;
  week: number;
  weeklySales: number;
  isHoliday: boolean;
}

export interface WalmartStoreWeekRow {
  store: string;
  date: string;
  week: number;
  temperatureF: number | null;
  /** MarkDown1..5 summed, NA counting 0. */
  markdown: number;
  isHoliday: boolean;
}

export interface WalmartStoreRow {
  store: string;
  type: string;
  size: number;
}

/** Buckets of future promotions a snapshot carries past the origin ("announced"). */
const PROMOTION_LOOKAHEAD = 8;
/** Buckets of past promotions a snapshot carries ("recently ended"). */
const PROMOTION_LOOKBACK = 52;

function dateToWeek(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!Number.isFinite(ms)) throw new Error(`bad date '${date}'`);
  return bucketOf(ms, 'week');
}

function parseNumber(text: string, what: string): number {
  const v = Number(text);
  if (text === '' || !Number.isFinite(v)) throw new Error(`bad ${what} '${text}'`);
  return v;
}

function parseOptionalNumber(text: string, what: string): number | null {
  return text === 'NA' || text === '' ? null : parseNumber(text, what);
}

/** Rows of a small CSV without quoting (the Walmart files have none); any line ending. */
function csvRecords(text: string, file: string, required: readonly string[]): Array<(name: string) => string> {
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.length > 0);
  const header = (lines[0] ?? '').split(',');
  const col = new Map(header.map((h, i) => [h.trim(), i]));
  for (const r of required) if (!col.has(r)) throw new Error(`${file}: missing column '${r}'`);
  return lines.slice(1).map((line, n) => {
    const cells = line.split(',');
    return (name: string) => {
      const v = cells[col.get(name)!];
      if (v === undefined) throw new Error(`${file}: line ${n + 2} has no '${name}'`);
      return v.trim();
    };
  });
}

export function parseTrainCsv(text: string): WalmartSalesRow[] {
  return csvRecords(text, 'train.csv', ['Store', 'Dept', 'Date', 'Weekly_Sales', 'IsHoliday']).map((get) => ({
    store: get('Store'),
    dept: get('Dept'),
    date: get('Date'),
    week: dateToWeek(get('Date')),
    weeklySales: parseNumber(get('Weekly_Sales'), 'Weekly_Sales'),
    isHoliday: get('IsHoliday').toUpperCase() === 'TRUE',
  }));
}

export function parseFeaturesCsv(text: string): WalmartStoreWeekRow[] {
  const md = ['MarkDown1', 'MarkDown2', 'MarkDown3', 'MarkDown4', 'MarkDown5'];
  return csvRecords(text, 'features.csv', ['Store', 'Date', 'Temperature', 'IsHoliday', ...md]).map((get) => ({
    store: get('Store'),
    date: get('Date'),
    week: dateToWeek(get('Date')),
    temperatureF: parseOptionalNumber(get('Temperature'), 'Temperature'),
    markdown: md.reduce((sum, c) => sum + (parseOptionalNumber(get(c), c) ?? 0), 0),
    isHoliday: get('IsHoliday').toUpperCase() === 'TRUE',
  }));
}

export function parseStoresCsv(text: string): WalmartStoreRow[] {
  return csvRecords(text, 'stores.csv', ['Store', 'Type', 'Size']).map((get) => ({
    store: get('Store'),
    type: get('Type'),
    size: parseNumber(get('Size'), 'Size'),
  }));
}

export function fahrenheitToCelsius(f: number): number {
  return ((f - 32) * 5) / 9;
}

interface SeriesHistory {
  store: string;
  dept: string;
  /** Week buckets ascending, with their sales. */
  weeks: Int32Array;
  sales: Float64Array;
}

/** Indexed Walmart data: snapshots at any origin, actuals and holiday flags for scoring. */
export class WalmartDataset {
  readonly seriesIds: readonly string[];
  private readonly series = new Map<string, SeriesHistory>();
  private readonly promotionsByStore = new Map<string, PromotionSpan[]>();
  private readonly weatherByStore = new Map<string, Map<number, WeatherPoint>>();
  private readonly regionByStore = new Map<string, string>();
  private readonly holidayWeeks = new Set<number>();
  readonly firstWeek: number;
  readonly lastWeek: number;

  constructor(sales: readonly WalmartSalesRow[], storeWeeks: readonly WalmartStoreWeekRow[], stores: readonly WalmartStoreRow[]) {
    if (sales.length === 0) throw new Error('train.csv has no rows');
    for (const s of stores) this.regionByStore.set(s.store, s.type);

    const grouped = new Map<string, WalmartSalesRow[]>();
    let first = Infinity;
    let last = -Infinity;
    for (const r of sales) {
      const id = seriesIdOf(r.store, r.dept);
      let rows = grouped.get(id);
      if (!rows) grouped.set(id, (rows = []));
      rows.push(r);
      if (r.isHoliday) this.holidayWeeks.add(r.week);
      first = Math.min(first, r.week);
      last = Math.max(last, r.week);
    }
    this.firstWeek = first;
    this.lastWeek = last;
    for (const [id, rows] of grouped) {
      rows.sort((a, b) => a.week - b.week);
      const weeks = new Int32Array(rows.length);
      const values = new Float64Array(rows.length);
      let n = 0;
      for (const r of rows) {
        // Duplicate rows of one week add up (none in the Kaggle files; a replayed copy might have them).
        if (n > 0 && weeks[n - 1] === r.week) values[n - 1]! += r.weeklySales;
        else {
          weeks[n] = r.week;
          values[n] = r.weeklySales;
          n++;
        }
      }
      this.series.set(id, { store: rows[0]!.store, dept: rows[0]!.dept, weeks: weeks.slice(0, n), sales: values.slice(0, n) });
    }
    this.seriesIds = [...this.series.keys()].sort(compareSeriesIds);

    for (const r of [...storeWeeks].sort((a, b) => a.week - b.week)) {
      let promos = this.promotionsByStore.get(r.store);
      if (!promos) this.promotionsByStore.set(r.store, (promos = []));
      promos.push({
        promotionId: `markdown-${r.store}-${r.date}`,
        startMs: bucketStartMs(r.week, 'week'),
        endMs: bucketEndMs(r.week, 'week'),
        depth: 0,
        markdown: r.markdown,
      });
      let weather = this.weatherByStore.get(r.store);
      if (!weather) this.weatherByStore.set(r.store, (weather = new Map()));
      weather.set(r.week, {
        temperatureC: r.temperatureF === null ? null : fahrenheitToCelsius(r.temperatureF),
        precipitationMm: null,
      });
    }
  }

  /** Reads `train.csv`, `features.csv` and (optional) `stores.csv` from a directory. */
  static async load(dir: string): Promise<WalmartDataset> {
    const read = (f: string) => readFile(join(dir, f), 'utf8');
    const [train, features] = await Promise.all([read('train.csv'), read('features.csv')]);
    const stores = await read('stores.csv').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    return new WalmartDataset(parseTrainCsv(train), parseFeaturesCsv(features), stores === null ? [] : parseStoresCsv(stores));
  }

  /** Whether train.csv flags the week as a holiday week (weight 5 in WMAE). */
  isHolidayWeek(week: number): boolean {
    return this.holidayWeeks.has(week);
  }

  /** The recorded sale of a series in a week, or undefined when there is no row. */
  actual(seriesId: string, week: number): number | undefined {
    const s = this.series.get(seriesId);
    if (!s) return undefined;
    const i = lowerBound(s.weeks, week);
    return i < s.weeks.length && s.weeks[i] === week ? s.sales[i] : undefined;
  }

  /** The snapshot of a series as serving would see it at `origin`: sales dated <= origin only. */
  snapshotAt(seriesId: string, origin: number): SeriesSnapshot {
    const s = this.series.get(seriesId);
    if (!s) throw new Error(`unknown series '${seriesId}'`);
    const end = lowerBound(s.weeks, origin + 1);
    const sales = new Map<number, number>();
    for (let i = 0; i < end; i++) sales.set(s.weeks[i]!, s.sales[i]!);
    const from = bucketStartMs(origin - PROMOTION_LOOKBACK, 'week');
    const to = bucketEndMs(origin + PROMOTION_LOOKAHEAD, 'week');
    const promotions = (this.promotionsByStore.get(s.store) ?? []).filter((p) => p.endMs > from && p.startMs < to);
    return {
      seriesId,
      store: s.store,
      item: s.dept,
      category: s.dept,
      region: this.regionByStore.get(s.store) ?? 'all',
      sales,
      lastSalesBucket: end > 0 ? s.weeks[end - 1]! : null,
      promotions,
      weather: this.weatherByStore.get(s.store) ?? new Map(),
    };
  }
}

function lowerBound(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Store then dept, numerically where both are numbers: the order of the Python pipeline. */
export function compareSeriesIds(a: string, b: string): number {
  const [sa = '', da = ''] = a.split('-');
  const [sb = '', db = ''] = b.split('-');
  return Number(sa) - Number(sb) || Number(da) - Number(db) || a.localeCompare(b);
}
