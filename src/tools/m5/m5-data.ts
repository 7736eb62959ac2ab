/**
 * The M5 daily files (../shared/data/m5-daily: sales.csv.gz, prices.csv.gz, items.csv,
 * calendar.csv) -> per-series dense arrays and SeriesSnapshots, shared by `evaluate
 * --dataset m5` and the M5 replay, so both feed the model what training saw
 * (training/forecast_training/m5/data.py is the Python twin).
 *
 * - series id `<store>-<item>` (the processor's seriesIdOf); category, department, region
 *   (= the store's state) from items.csv.
 * - sales: one value per day from the series' first sale (items.csv `first_sale`), zeros
 *   included; days before it are not part of the series.
 * - prices: the weekly shelf price from the first day (Saturday) of its Walmart week,
 *   as a list of changes (a week with the same price as the one before adds nothing);
 *   a week without a price keeps the last one in force.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { PriceChange, SeriesSnapshot } from '../../inference/series-snapshot.js';
import { seriesIdOf } from '../../state/catalog.js';

const DAY_MS = 86_400_000;
import { M5_DAILY_HORIZONS as M5_HORIZON, M5_DAILY_LOOKBACK as M5_LOOKBACK } from '../../inference/features/m5-daily-spec.js';

/** Days of sales a snapshot carries (the daily family's lookback) and days forecast. */
export { M5_HORIZON, M5_LOOKBACK };

export function dayOf(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !Number.isFinite(ms)) throw new Error(`bad date '${date}' (want YYYY-MM-DD)`);
  return ms / DAY_MS;
}

export function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export interface M5Series {
  /** `store:item`, the M5 id (items.csv `id`). */
  id: string;
  seriesId: string;
  store: string;
  item: string;
  dept: string;
  category: string;
  state: string;
  /** Day of the first sale, or null when the item has not sold yet. */
  firstSale: number | null;
  /** Day of the listing (first priced week's first day). */
  listed: number;
  /** Units per day from `salesBase` on (0 where no row). */
  sales: Float64Array;
  /** Price changes, ascending. */
  prices: PriceChange[];
}

export interface M5CalendarDay {
  day: number;
  date: string;
  wmYrWk: string;
  events: Array<{ name: string; type: string }>;
  snap: Record<string, number>;
}

function readText(path: string): string {
  const buf = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

/** Calls `row(cells)` per data line of a header-first CSV without quoting; returns the column index. */
function eachRow(text: string, file: string, required: readonly string[], row: (cells: string[], col: (n: string) => number) => void): void {
  let start = 0;
  let header: Map<string, number> | null = null;
  const col = (n: string) => header!.get(n)!;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    start = end + 1;
    lineNo++;
    if (line.length === 0) continue;
    const cells = line.split(',');
    if (!header) {
      header = new Map(cells.map((h, i) => [h.trim(), i]));
      for (const r of required) if (!header.has(r)) throw new Error(`${file}: missing column '${r}' (line 1 has ${cells.join(',')})`);
      continue;
    }
    try {
      row(cells, col);
    } catch (err) {
      throw new Error(`${file}: line ${lineNo}: ${(err as Error).message}`);
    }
  }
}

export class M5Dataset {
  readonly series: M5Series[] = [];
  readonly calendar: M5CalendarDay[] = [];
  readonly #byId = new Map<string, M5Series>();
  /** Day of index 0 of every `sales` array. */
  salesBase = 0;
  /** Newest day with a sales row. */
  lastSalesDay = 0;

  private constructor(readonly dir: string) {}

  static load(dir: string): M5Dataset {
    const d = new M5Dataset(dir);
    d.#loadCalendar();
    d.#loadItems();
    d.#loadSales();
    d.#loadPrices();
    return d;
  }

  get(id: string): M5Series | undefined {
    return this.#byId.get(id);
  }

  #loadCalendar(): void {
    const file = join(this.dir, 'calendar.csv');
    eachRow(readText(file), file, ['date', 'wm_yr_wk', 'event_name_1', 'event_type_1', 'event_name_2', 'event_type_2', 'snap_CA', 'snap_TX', 'snap_WI'], (c, col) => {
      const events: Array<{ name: string; type: string }> = [];
      for (const k of ['1', '2']) {
        const name = c[col(`event_name_${k}`)] ?? '';
        if (name) events.push({ name, type: c[col(`event_type_${k}`)] ?? '' });
      }
      const date = c[col('date')]!;
      this.calendar.push({
        day: dayOf(date),
        date,
        wmYrWk: c[col('wm_yr_wk')]!,
        events,
        snap: { CA: Number(c[col('snap_CA')]), TX: Number(c[col('snap_TX')]), WI: Number(c[col('snap_WI')]) },
      });
    });
    this.calendar.sort((a, b) => a.day - b.day);
    if (this.calendar.length === 0) throw new Error(`${file}: no days`);
    this.salesBase = this.calendar[0]!.day;
  }

  #loadItems(): void {
    const file = join(this.dir, 'items.csv');
    eachRow(readText(file), file, ['id', 'item', 'dept', 'category', 'store', 'state', 'first_sale', 'listed'], (c, col) => {
      const store = c[col('store')]!;
      const item = c[col('item')]!;
      const first = c[col('first_sale')] ?? '';
      const s: M5Series = {
        id: c[col('id')]!,
        seriesId: seriesIdOf(store, item),
        store,
        item,
        dept: c[col('dept')]!,
        category: c[col('category')]!,
        state: c[col('state')]!,
        firstSale: first ? dayOf(first) : null,
        listed: dayOf(c[col('listed')]!),
        sales: new Float64Array(0),
        prices: [],
      };
      this.series.push(s);
      this.#byId.set(s.id, s);
    });
    this.series.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  #loadSales(): void {
    const file = join(this.dir, 'sales.csv.gz');
    const rows: Array<[M5Series, number, number]> = [];
    let last = this.salesBase;
    eachRow(readText(file), file, ['store', 'item', 'date', 'sales'], (c, col) => {
      const s = this.#byId.get(`${c[col('store')]}:${c[col('item')]}`);
      if (!s) throw new Error(`series ${c[col('store')]}:${c[col('item')]} is not in items.csv`);
      const day = dayOf(c[col('date')]!);
      const v = Number(c[col('sales')]);
      if (!Number.isFinite(v)) throw new Error(`bad sales '${c[col('sales')]}'`);
      rows.push([s, day, v]);
      if (day > last) last = day;
    });
    this.lastSalesDay = last;
    const n = last - this.salesBase + 1;
    for (const s of this.series) s.sales = new Float64Array(n);
    for (const [s, day, v] of rows) if (day >= this.salesBase) s.sales[day - this.salesBase] = v;
  }

  #loadPrices(): void {
    const file = join(this.dir, 'prices.csv.gz');
    const weekStart = new Map<string, number>();
    for (const d of this.calendar) if (!weekStart.has(d.wmYrWk)) weekStart.set(d.wmYrWk, d.day);
    const weekly = new Map<M5Series, Array<[number, number]>>();
    eachRow(readText(file), file, ['store', 'item', 'wm_yr_wk', 'sell_price'], (c, col) => {
      const s = this.#byId.get(`${c[col('store')]}:${c[col('item')]}`);
      if (!s) return; // prices of items outside this sample
      const start = weekStart.get(c[col('wm_yr_wk')]!);
      if (start === undefined) throw new Error(`week ${c[col('wm_yr_wk')]} is not in calendar.csv`);
      const p = Number(c[col('sell_price')]);
      if (!(p > 0)) throw new Error(`bad sell_price '${c[col('sell_price')]}'`);
      let list = weekly.get(s);
      if (!list) weekly.set(s, (list = []));
      list.push([start, p]);
    });
    for (const [s, list] of weekly) {
      list.sort((a, b) => a[0] - b[0]);
      let prev = Number.NaN;
      for (const [fromBucket, price] of list) {
        if (price !== prev) s.prices.push({ fromBucket, price });
        prev = price;
      }
    }
  }

  /** Sales of a series on a day (0 outside its history). */
  salesOn(s: M5Series, day: number): number {
    const i = day - this.salesBase;
    return i >= 0 && i < s.sales.length ? s.sales[i]! : 0;
  }

  /** Has the series a sales row for this day (first sale <= day <= last sales day)? */
  hasActual(s: M5Series, day: number): boolean {
    return s.firstSale !== null && day >= s.firstSale && day <= this.lastSalesDay;
  }

  /**
   * What the processor holds for the series at `origin`, by the protocol: sales dated <=
   * origin only (the last 400 days, zeros included, from the first sale on); prices for
   * any date up to origin + 28 (shelf prices are set ahead); attributes.
   */
  snapshotAt(s: M5Series, origin: number): SeriesSnapshot {
    const sales = new Map<number, number>();
    const known = s.firstSale !== null && s.firstSale <= origin;
    let last: number | null = null;
    if (known) {
      const from = Math.max(origin - M5_LOOKBACK + 1, s.firstSale!);
      const to = Math.min(origin, this.lastSalesDay);
      for (let d = from; d <= to; d++) sales.set(d, this.salesOn(s, d));
      last = to >= from ? to : null;
    }
    const horizonEnd = origin + M5_HORIZON;
    const prices: PriceChange[] = [];
    for (let i = 0; i < s.prices.length; i++) {
      const p = s.prices[i]!;
      if (p.fromBucket > horizonEnd) break;
      // drop changes superseded before the lookback window (the last one before it is in force)
      const next = s.prices[i + 1];
      if (next && next.fromBucket <= origin - M5_LOOKBACK) continue;
      prices.push(p);
    }
    return {
      seriesId: s.seriesId,
      store: s.store,
      item: s.item,
      category: s.category,
      region: s.state,
      department: s.dept,
      sales,
      lastSalesBucket: last,
      lastSalesEventMs: last === null ? null : (last + 1) * DAY_MS - 1,
      firstSaleBucket: known ? s.firstSale : null,
      prices,
      regularPrice: null,
      promotions: [],
      weather: new Map(),
    };
  }
}
