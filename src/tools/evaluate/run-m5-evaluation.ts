/**
 * The M5 accuracy protocol of ../shared/data/m5-daily/README.md, with the production
 * feature code and model:
 * - rolling: origins o = from-1, from+6, ... while o < to; at each, sales dated <= o only,
 *   every series first sold by o forecast for o+1..o+28; pairs with the target in
 *   [from, to] scored (WAPE of p50, seasonal naive = the last 7 days before the origin
 *   repeated, p10-p90 coverage), also per horizon, per weekday, on promotion days (target-day
 *   price >= 10% below the series' highest price of the 56 days before it) and event days.
 * - launch: every series listed L in [from, to-27], origin L-1 (no sales of its own yet),
 *   days L..L+27; main figure the WAPE of each launch's 28-day total against the
 *   day-by-day median of earlier launches of the department in the store (over all stores
 *   where the store has none), listed at least 28 days before the origin.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { fillPricesInForce } from '../../inference/features/price-schedule.js';
import type { SeriesSnapshot } from '../../inference/series-snapshot.js';
import { dateOf, dayOf, M5_HORIZON, type M5Dataset, type M5Series } from '../m5/m5-data.js';
import type { Forecaster } from './forecaster.js';
import { WapeAccumulator, type WapeSummary } from './wape-accumulator.js';

export interface M5EvaluationOptions {
  task: 'rolling' | 'launch';
  from: string;
  to: string;
  predictionsPath?: string;
  /** Series drawn in the HTML report. */
  chartSeries?: number;
  progress?: (message: string) => void;
}

export interface M5Trace {
  seriesId: string;
  actual: Array<[string, number]>;
  /** One forecast per origin: [target date, p10, p50, p90] per day. */
  forecasts: Array<{ origin: string; days: Array<[string, number, number, number]> }>;
}

export interface M5RollingResult extends WapeSummary {
  task: 'rolling';
  window: { from: string; to: string; firstOrigin: string; lastOrigin: string; origins: number };
  series: number;
  seasonal_naive: number;
  ratio_to_seasonal_naive: number;
  per_horizon: Array<WapeSummary & { horizon: number }>;
  per_weekday: Array<WapeSummary & { weekday: string }>;
  promotion_days: WapeSummary;
  event_days: WapeSummary;
  traces: M5Trace[];
}

export interface M5LaunchResult {
  task: 'launch';
  window: { from: string; to: string };
  launches: number;
  /** Sum over launches of |28-day actual - sum p50| / sum of 28-day actuals. */
  total_wape: number;
  baseline_total_wape: number;
  ratio_to_baseline: number;
  /** Day by day, beside it (favours forecasting zero for lumpy launches). */
  daily: WapeSummary;
  per_horizon: Array<WapeSummary & { horizon: number }>;
  traces: M5Trace[];
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
/** 1970-01-01 (day 0) was a Thursday. */
export const weekdayOf = (day: number): number => (((day + 3) % 7) + 7) % 7;

/** Price in force per day from `base` for `days` days (the last change at or before it), NaN before the first. */
export function dailyPrices(s: M5Series, base: number, days: number): Float64Array {
  return fillPricesInForce(s.prices, base, new Float64Array(days));
}

/** Promotion days: the day's price at least 10% below the highest price of the 56 days before it. */
export function promotionDays(s: M5Series, base: number, days: number): Uint8Array {
  const price = dailyPrices(s, base, days);
  const out = new Uint8Array(days);
  for (let i = 0; i < days; i++) {
    const p = price[i]!;
    if (!(p > 0)) continue;
    let max = Number.NaN;
    for (let d = Math.max(0, i - 56); d < i; d++) {
      const q = price[d]!;
      if (q > 0 && !(q <= max)) max = q;
    }
    if (max > 0 && p <= 0.9 * max) out[i] = 1;
  }
  return out;
}

function csvNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

async function writeLines(csv: WriteStream | undefined, lines: string): Promise<void> {
  if (csv && lines && !csv.write(lines)) await new Promise<void>((r) => csv.once('drain', () => r()));
}

async function openCsv(path: string | undefined): Promise<WriteStream | undefined> {
  if (!path) return undefined;
  const csv = createWriteStream(path);
  csv.write('store,item,origin,target,p10,p50,p90\n');
  return csv;
}

async function closeCsv(csv: WriteStream | undefined): Promise<void> {
  if (csv) await new Promise<void>((resolve, reject) => csv.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

export async function runM5Rolling(data: M5Dataset, forecaster: Forecaster, opts: M5EvaluationOptions): Promise<M5RollingResult> {
  const from = dayOf(opts.from);
  const to = dayOf(opts.to);
  if (to < from) throw new Error(`--to ${opts.to} is before --from ${opts.from}`);
  if (to > data.lastSalesDay) opts.progress?.(`note: no sales after ${dateOf(data.lastSalesDay)}; later targets have no actuals`);
  const H = M5_HORIZON;
  const origins: number[] = [];
  for (let o = from - 1; o < to; o += 7) origins.push(o);
  const total = new WapeAccumulator();
  const byH = Array.from({ length: H }, () => new WapeAccumulator());
  const byWd = Array.from({ length: 7 }, () => new WapeAccumulator());
  const promo = new WapeAccumulator();
  const events = new WapeAccumulator();
  const eventDays = new Set(data.calendar.filter((d) => d.events.length > 0).map((d) => d.day));
  const chart = pickChartSeries(data, from, to, opts.chartSeries ?? 4);
  const traces = new Map<string, M5Trace>();
  for (const s of chart) {
    const actual: Array<[string, number]> = [];
    for (let d = Math.max(from - 28, s.firstSale ?? from); d <= Math.min(to, data.lastSalesDay); d++) actual.push([dateOf(d), data.salesOn(s, d)]);
    traces.set(s.seriesId, { seriesId: s.seriesId, actual, forecasts: [] });
  }
  const promoCache = new Map<M5Series, Uint8Array>();
  const span = to - data.salesBase + 1;
  const promoDays = (s: M5Series): Uint8Array => {
    let flags = promoCache.get(s);
    if (!flags) promoCache.set(s, (flags = promotionDays(s, data.salesBase, span)));
    return flags;
  };
  const csv = await openCsv(opts.predictionsPath);
  const started = Date.now();
  const seen = new Set<string>();
  for (const [n, o] of origins.entries()) {
    const live = data.series.filter((s) => s.firstSale !== null && s.firstSale <= o);
    const snaps: SeriesSnapshot[] = live.map((s) => data.snapshotAt(s, o));
    const q = await forecaster.forecast(snaps, o, 'day', H);
    const originLabel = dateOf(o);
    let lines = '';
    for (let i = 0; i < live.length; i++) {
      const s = live[i]!;
      seen.add(s.id);
      const trace = traces.get(s.seriesId);
      const days: Array<[string, number, number, number]> = [];
      for (let h = 1; h <= H; h++) {
        const t = o + h;
        if (t < from || t > to || !data.hasActual(s, t)) continue;
        const at = (i * H + h - 1) * 3;
        const p10 = q[at]!;
        const p50 = q[at + 1]!;
        const p90 = q[at + 2]!;
        const actual = data.salesOn(s, t);
        // seasonal naive: the last 7 days before the origin, repeated
        const naive = data.salesOn(s, o - 6 + ((h - 1) % 7));
        total.add(actual, p10, p50, p90, naive);
        byH[h - 1]!.add(actual, p10, p50, p90, naive);
        byWd[weekdayOf(t)]!.add(actual, p10, p50, p90, naive);
        if (promoDays(s)[t - data.salesBase] === 1) promo.add(actual, p10, p50, p90, naive);
        if (eventDays.has(t)) events.add(actual, p10, p50, p90, naive);
        if (csv) lines += `${s.store},${s.item},${originLabel},${dateOf(t)},${csvNumber(p10)},${csvNumber(p50)},${csvNumber(p90)}\n`;
        if (trace) days.push([dateOf(t), p10, p50, p90]);
      }
      if (trace && days.length > 0) trace.forecasts.push({ origin: originLabel, days });
    }
    await writeLines(csv, lines);
    const r = total.summary();
    opts.progress?.(`origin ${originLabel} (${n + 1}/${origins.length}), ${live.length} series, ${r.pairs} pairs, WAPE ${r.wape.toFixed(3)} (ratio ${r.ratio_to_baseline.toFixed(3)}), ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  await closeCsv(csv);
  const overall = total.summary();
  if (overall.pairs === 0) throw new Error(`no scored pairs: no sales in ${opts.from} .. ${opts.to}`);
  return {
    task: 'rolling',
    ...overall,
    seasonal_naive: overall.baseline_wape,
    ratio_to_seasonal_naive: overall.ratio_to_baseline,
    window: { from: opts.from, to: opts.to, firstOrigin: dateOf(origins[0]!), lastOrigin: dateOf(origins.at(-1)!), origins: origins.length },
    series: seen.size,
    per_horizon: byH.map((a, h) => ({ horizon: h + 1, ...a.summary() })),
    per_weekday: byWd.map((a, w) => ({ weekday: WEEKDAYS[w]!, ...a.summary() })),
    promotion_days: promo.summary(),
    event_days: events.summary(),
    traces: [...traces.values()],
  };
}

/** The biggest series by sales in the window, and one of median size. */
function pickChartSeries(data: M5Dataset, from: number, to: number, count: number): M5Series[] {
  const totals = data.series.map((s) => {
    let t = 0;
    for (let d = from; d <= Math.min(to, data.lastSalesDay); d++) t += data.salesOn(s, d);
    return [s, t] as const;
  });
  totals.sort((a, b) => b[1] - a[1]);
  const picks = totals.slice(0, Math.max(0, count - 1)).map(([s]) => s);
  const mid = totals[Math.floor(totals.length / 2)];
  if (count > 0 && mid && !picks.includes(mid[0])) picks.push(mid[0]);
  return picks;
}

/** Sales of a launch's first 28 days from its listing (0 before the first sale). */
function launchCurve(data: M5Dataset, s: M5Series): number[] {
  return Array.from({ length: M5_HORIZON }, (_, d) => (data.hasActual(s, s.listed + d) ? data.salesOn(s, s.listed + d) : 0));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The README's launch baseline: day-by-day median of earlier launches of the department in the store (else over all stores). */
export function launchBaseline(data: M5Dataset, s: M5Series, origin: number): number[] | null {
  const earlier = (sameStore: boolean) =>
    data.series.filter((e) => e !== s && e.dept === s.dept && (!sameStore || e.store === s.store) && e.listed <= origin - 28 && e.listed + M5_HORIZON - 1 <= data.lastSalesDay);
  let group = earlier(true);
  if (group.length === 0) group = earlier(false);
  if (group.length === 0) return null;
  const curves = group.map((e) => launchCurve(data, e));
  return Array.from({ length: M5_HORIZON }, (_, d) => median(curves.map((c) => c[d]!)));
}

export async function runM5Launch(data: M5Dataset, forecaster: Forecaster, opts: M5EvaluationOptions): Promise<M5LaunchResult> {
  const from = dayOf(opts.from);
  const to = dayOf(opts.to);
  const H = M5_HORIZON;
  const launches = data.series.filter((s) => s.listed >= from && s.listed <= to - 27 && s.listed + H - 1 <= data.lastSalesDay);
  if (launches.length === 0) throw new Error(`no launches listed in ${opts.from} .. ${dateOf(to - 27)}`);
  const daily = new WapeAccumulator();
  const byH = Array.from({ length: H }, () => new WapeAccumulator());
  let errTotal = 0;
  let baseTotal = 0;
  let actualTotal = 0;
  const csv = await openCsv(opts.predictionsPath);
  const traces: M5Trace[] = [];
  // launches sharing a listing day share an origin: forecast them in one batch
  const byOrigin = new Map<number, M5Series[]>();
  for (const s of launches) {
    const list = byOrigin.get(s.listed - 1) ?? [];
    list.push(s);
    byOrigin.set(s.listed - 1, list);
  }
  let done = 0;
  for (const [o, group] of [...byOrigin].sort((a, b) => a[0] - b[0])) {
    const snaps = group.map((s) => data.snapshotAt(s, o));
    const q = await forecaster.forecast(snaps, o, 'day', H);
    let lines = '';
    for (let i = 0; i < group.length; i++) {
      const s = group[i]!;
      const actual = launchCurve(data, s);
      const base = launchBaseline(data, s, o) ?? new Array<number>(H).fill(0);
      let a28 = 0;
      let f28 = 0;
      let b28 = 0;
      const days: Array<[string, number, number, number]> = [];
      for (let h = 1; h <= H; h++) {
        const at = (i * H + h - 1) * 3;
        const [p10, p50, p90] = [q[at]!, q[at + 1]!, q[at + 2]!];
        const a = actual[h - 1]!;
        daily.add(a, p10, p50, p90, base[h - 1]!);
        byH[h - 1]!.add(a, p10, p50, p90, base[h - 1]!);
        a28 += a;
        f28 += p50;
        b28 += base[h - 1]!;
        if (csv) lines += `${s.store},${s.item},${dateOf(o)},${dateOf(o + h)},${csvNumber(p10)},${csvNumber(p50)},${csvNumber(p90)}\n`;
        days.push([dateOf(o + h), p10, p50, p90]);
      }
      errTotal += Math.abs(a28 - f28);
      baseTotal += Math.abs(a28 - b28);
      actualTotal += a28;
      if (traces.length < (opts.chartSeries ?? 4) && a28 > 0) {
        traces.push({ seriesId: s.seriesId, actual: actual.map((v, d) => [dateOf(s.listed + d), v]), forecasts: [{ origin: dateOf(o), days }] });
      }
    }
    await writeLines(csv, lines);
    done += group.length;
    opts.progress?.(`launch origin ${dateOf(o)}: ${done}/${launches.length} launches, total WAPE so far ${(errTotal / Math.max(actualTotal, 1e-9)).toFixed(3)}`);
  }
  await closeCsv(csv);
  return {
    task: 'launch',
    window: { from: opts.from, to: opts.to },
    launches: launches.length,
    total_wape: errTotal / actualTotal,
    baseline_total_wape: baseTotal / actualTotal,
    ratio_to_baseline: errTotal / baseTotal,
    daily: daily.summary(),
    per_horizon: byH.map((a, h) => ({ horizon: h + 1, ...a.summary() })),
    traces,
  };
}
