import type { Forecaster } from '../inference/forecaster.js';
import { bucketLabel, type BucketSize } from '../inference/features/bucket-clock.js';
import type { Catalog } from '../state/catalog.js';
import type { SeriesInfo } from '../state/state-types.js';
import type { GetHandler } from './health-server.js';
import type { OpsHistory } from './ops-history.js';
import type { RecentForecast, RecentForecasts } from './recent-forecasts.js';

export interface ExplorerSources {
  catalog: Catalog;
  forecaster: Forecaster;
  recent: RecentForecasts;
  ops: OpsHistory;
  bucketSize: BucketSize;
  /** The processor's /status object (model, breaker, drift, lag, readiness). */
  status: () => Record<string, unknown>;
  now?: () => number;
}

/**
 * The read-only JSON API of the explorer page (`/ui`): series search, one series' history and
 * recent forecasts, the series that moved most, and the operations view. Reads the live state
 * and the in-memory logs; writes nothing. docs/explorer.md has the shapes.
 */
export function explorerApi(o: ExplorerSources): Record<string, GetHandler> {
  const now = o.now ?? Date.now;
  return {
    '/v1/series': async (q) => {
      const text = (q.get('q') ?? '').trim().toLowerCase();
      const store = q.get('store');
      const category = q.get('category');
      const limit = clampInt(q.get('limit'), 50, 1, 500);
      const out: SeriesInfo[] = [];
      let matched = 0;
      const groups = new Map<string, { store: string; category: string; series: number }>();
      for (const s of o.catalog.all()) {
        const g = `${s.store}\u0000${s.category}`;
        const grp = groups.get(g) ?? { store: s.store, category: s.category, series: 0 };
        grp.series++;
        groups.set(g, grp);
        if (store && s.store !== store) continue;
        if (category && s.category !== category) continue;
        if (text && !`${s.seriesId} ${s.store} ${s.item} ${s.category} ${s.department ?? ''}`.toLowerCase().includes(text)) continue;
        matched++;
        if (out.length < limit) out.push(s);
      }
      return { status: 200, body: { matched, series: out, groups: [...groups.values()].sort((a, b) => a.store.localeCompare(b.store) || a.category.localeCompare(b.category)) } };
    },
    '/v1/series/': async (q, path) => {
      const id = decodeURIComponent(path.slice('/v1/series/'.length));
      const info = o.catalog.series(id);
      if (!info) return { status: 404, body: { error: { field: 'seriesId', message: `series '${id}' is not in the catalog; search with GET /v1/series?q=...` } } };
      const historyBuckets = clampInt(q.get('history'), o.bucketSize === 'day' ? 91 : 52, 1, 400);
      let refused: string | null = null;
      const [snap] = await o.forecaster.readSnapshots([info], (_, reason) => (refused = reason));
      if (!snap) return { status: 500, body: { error: { field: 'seriesId', message: refused ?? 'state unreadable' } } };
      const recent = o.recent.of(id);
      const last = snap.lastSalesBucket;
      const history: Array<{ date: string; sales: number }> = [];
      if (last !== null) {
        // from the oldest bucket the state window holds (days before it are unknown, not zero)
        let oldest = last;
        for (const b of snap.sales.keys()) if (b < oldest) oldest = b;
        for (let b = Math.max(last - historyBuckets + 1, oldest); b <= last; b++) history.push({ date: bucketLabel(b, o.bucketSize), sales: snap.sales.get(b) ?? 0 });
      }
      const model = o.forecaster.model;
      return {
        status: 200,
        body: {
          series: info,
          bucketSize: o.bucketSize,
          model: { name: model.name, version: model.version, horizons: model.horizons },
          lastSalesDate: last === null ? null : bucketLabel(last, o.bucketSize),
          history,
          recent: recent.map((r, i) => view(r, recent[i + 1], now())),
        },
      };
    },
    '/v1/movers': async (q) => {
      // the last `minutes` (1..15), or everything since `since` (epoch ms, e.g. "watch from now")
      const minutes = clampInt(q.get('minutes'), 5, 1, 15);
      const since = q.get('since') === null ? now() - minutes * 60_000 : Math.max(now() - 15 * 60_000, Number(q.get('since')) || 0);
      const limit = clampInt(q.get('limit'), 20, 1, 500);
      const movers = o.recent.movers(since, limit).map((m) => ({ ...m, ...pick(o.catalog.series(m.seriesId)) }));
      return { status: 200, body: { since, movers } };
    },
    '/v1/ops': async () => {
      const status = o.status();
      return {
        status: 200,
        body: {
          ...status,
          breakerHistory: o.ops.breaker.slice(-50).reverse(),
          driftHistory: o.ops.drift.slice(-120),
          forecastsBySource: o.ops.forecastsBySource,
          fallbackShare: o.ops.fallbackShare(),
          deadLetters: o.ops.deadLetters(),
          explorer: { seriesWithRecentForecasts: o.recent.seriesCount },
        },
      };
    },
  };
}

function view(r: RecentForecast, previous: RecentForecast | undefined, now: number) {
  const h = r.bucketDates.length;
  const p10: number[] = [];
  const p50: number[] = [];
  const p90: number[] = [];
  for (let j = 0; j < h; j++) {
    p10.push(r.quantiles[3 * j]!);
    p50.push(r.quantiles[3 * j + 1]!);
    p90.push(r.quantiles[3 * j + 2]!);
  }
  return {
    issuedAt: r.issuedAt,
    ageMs: now - r.issuedAt,
    source: r.source,
    modelVersion: r.modelVersion,
    originDate: r.originDate,
    bucketDates: r.bucketDates,
    p10,
    p50,
    p90,
    total: r.total,
    change: previous && previous.total > 0 ? r.total / previous.total - 1 : null,
    triggers: r.triggers,
  };
}

function pick(s: SeriesInfo | undefined) {
  return s ? { store: s.store, item: s.item, category: s.category } : {};
}

function clampInt(v: string | null, dflt: number, lo: number, hi: number): number {
  const n = v === null || v === '' ? dflt : Math.trunc(Number(v));
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : dflt;
}
