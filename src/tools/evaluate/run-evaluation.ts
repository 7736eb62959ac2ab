/**
 * The rolling-origin evaluation of ../shared/data/walmart2014/README.md: for every origin
 * week o, snapshots use only sales dated <= o, every series is forecast for o+1..o+H, and
 * each (origin, horizon, series) whose target week lies in [from, to] and has a sale row is
 * scored against the actual and against seasonal naive on the same pair.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { bucketLabel, bucketOf } from '../../inference/features/bucket-clock.js';
import type { SeriesSnapshot } from '../../inference/series-snapshot.js';
import type { WalmartDataset } from '../walmart/walmart-data.js';
import { AccuracyAccumulator, type AccuracySummary } from './accuracy-accumulator.js';
import type { Forecaster } from './forecaster.js';

export interface EvaluationOptions {
  from: string;
  to: string;
  horizons: number;
  /** CSV of every scored pair, when set. */
  predictionsPath?: string;
  /** Series drawn in the HTML report. */
  chartSeries?: number;
  progress?: (message: string) => void;
}

export interface SeriesTrace {
  seriesId: string;
  /** Target week label -> actual. */
  actual: Array<[string, number]>;
  /** Per horizon: target week label -> [p10, p50, p90]. */
  forecasts: Array<Array<[string, number, number, number]>>;
}

export interface EvaluationResult extends AccuracySummary {
  window: { from: string; to: string; firstOrigin: string; lastOrigin: string; origins: number };
  horizons: number;
  series: number;
  per_horizon: Array<AccuracySummary & { horizon: number }>;
  traces: SeriesTrace[];
}

function weekOf(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !Number.isFinite(ms)) throw new Error(`bad date '${date}' (want YYYY-MM-DD)`);
  return bucketOf(ms, 'week');
}

/** The series drawn in the report: the biggest by sales in the window, plus a mid-sized one. */
function pickChartSeries(data: WalmartDataset, first: number, last: number, count: number): string[] {
  const totals = data.seriesIds.map((id) => {
    let t = 0;
    for (let w = first; w <= last; w++) t += data.actual(id, w) ?? 0;
    return [id, t] as const;
  });
  totals.sort((a, b) => b[1] - a[1]);
  const picks = totals.slice(0, Math.max(0, count - 1)).map(([id]) => id);
  const mid = totals[Math.floor(totals.length / 4)];
  if (count > 0 && mid && !picks.includes(mid[0])) picks.push(mid[0]);
  return picks;
}

function csvNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export async function runEvaluation(data: WalmartDataset, forecaster: Forecaster, opts: EvaluationOptions): Promise<EvaluationResult> {
  const H = opts.horizons;
  const first = weekOf(opts.from);
  const last = weekOf(opts.to);
  if (last < first) throw new Error(`--to ${opts.to} is before --from ${opts.from}`);
  if (last > data.lastWeek) opts.progress?.(`note: no sales after ${bucketLabel(data.lastWeek, 'week')}; later targets have no actuals`);
  const firstOrigin = first - H;
  const lastOrigin = last - 1;
  const acc = new AccuracyAccumulator(H);
  const ids = data.seriesIds;
  const chartIds = new Set(pickChartSeries(data, first, last, opts.chartSeries ?? 4));
  const traces = new Map<string, SeriesTrace>();
  for (const id of chartIds) {
    const actual: Array<[string, number]> = [];
    for (let w = first - 8; w <= last; w++) {
      const a = data.actual(id, w);
      if (a !== undefined) actual.push([bucketLabel(w, 'week'), a]);
    }
    traces.set(id, { seriesId: id, actual, forecasts: Array.from({ length: H }, () => []) });
  }

  let csv: WriteStream | undefined;
  if (opts.predictionsPath) {
    csv = createWriteStream(opts.predictionsPath);
    csv.write('store,dept,origin,target,horizon,actual,p10,p50,p90,holiday\n');
  }
  const started = Date.now();
  const snapshots: SeriesSnapshot[] = new Array(ids.length);
  for (let origin = firstOrigin; origin <= lastOrigin; origin++) {
    for (let i = 0; i < ids.length; i++) snapshots[i] = data.snapshotAt(ids[i]!, origin);
    const q = await forecaster.forecast(snapshots, origin, 'week', H);
    const originLabel = bucketLabel(origin, 'week');
    let lines = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const snap = snapshots[i]!;
      for (let h = 1; h <= H; h++) {
        const target = origin + h;
        if (target < first || target > last) continue;
        const actual = data.actual(id, target);
        if (actual === undefined) continue;
        const o = (i * H + h - 1) * 3;
        const p10 = q[o]!;
        const p50 = q[o + 1]!;
        const p90 = q[o + 2]!;
        // Seasonal naive: the sale 52 weeks before the target, 0 where there is none (the competition's rule).
        const naive = data.actual(id, target - 52) ?? 0;
        const holiday = data.isHolidayWeek(target);
        acc.add(h, actual, p10, p50, p90, naive, holiday);
        const targetLabel = bucketLabel(target, 'week');
        if (csv) {
          lines += `${snap.store},${snap.item},${originLabel},${targetLabel},${h},${csvNumber(actual)},${csvNumber(p10)},${csvNumber(p50)},${csvNumber(p90)},${holiday ? 1 : 0}\n`;
        }
        traces.get(id)?.forecasts[h - 1]!.push([targetLabel, p10, p50, p90]);
      }
    }
    if (csv && !csv.write(lines)) await new Promise<void>((r) => csv!.once('drain', () => r()));
    const done = origin - firstOrigin + 1;
    const total = lastOrigin - firstOrigin + 1;
    const running = acc.overall();
    opts.progress?.(
      `origin ${originLabel} (${done}/${total}), ${running.pairs} pairs, WMAE ${running.wmae.toFixed(1)} ` +
        `(ratio ${running.ratio_to_seasonal_naive.toFixed(3)}), ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  if (csv) await new Promise<void>((resolve, reject) => csv!.end((err?: Error | null) => (err ? reject(err) : resolve())));

  const overall = acc.overall();
  if (overall.pairs === 0) throw new Error(`no scored pairs: no sale rows in ${opts.from} .. ${opts.to}`);
  return {
    ...overall,
    window: {
      from: opts.from,
      to: opts.to,
      firstOrigin: bucketLabel(firstOrigin, 'week'),
      lastOrigin: bucketLabel(lastOrigin, 'week'),
      origins: lastOrigin - firstOrigin + 1,
    },
    horizons: H,
    series: ids.length,
    per_horizon: acc.perHorizon(),
    traces: [...traces.values()],
  };
}
