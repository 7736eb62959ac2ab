import type { Forecast } from '../inference/forecast.js';

/** One published forecast as the explorer shows it (compact: the quantiles in one typed array). */
export interface RecentForecast {
  issuedAt: number;
  source: Forecast['source'];
  modelVersion: string;
  originDate: string;
  bucketDates: string[];
  /** p10, p50, p90 per horizon, `[H * 3]`. */
  quantiles: Float64Array;
  /** Sum of p50 over the horizons. */
  total: number;
  /** Input offsets that triggered it (`topic[partition]@offset`), as many as the record carries. */
  triggers: string[];
}

/** A series whose forecast moved between two consecutive publishes. */
export interface Move {
  seriesId: string;
  at: number;
  before: number;
  after: number;
  /** after / before − 1 (null when `before` is below one unit: "new"). */
  change: number | null;
}

export interface RecentForecastsOptions {
  /** Forecasts kept per series (newest first). */
  perSeries: number;
  /** Series kept (least recently forecast dropped first): bounds memory. */
  maxSeries: number;
  /** How long moves are kept for the movers list. */
  moveWindowMs: number;
  /** Moves kept at most (oldest dropped first). */
  maxMoves: number;
}

/**
 * The last few forecasts published per series, in memory, for the explorer page: a series'
 * fan chart, how it moved after each event, and which series moved most in the last minutes
 * (what a flash promotion touched). Bounded: `maxSeries` × `perSeries` forecasts (default
 * 5,000 × 8, ~30 MB for 28 horizons); a series forecast before this process started, or
 * dropped from the bounds, shows its next forecast only.
 */
export class RecentForecasts {
  readonly #bySeries = new Map<string, RecentForecast[]>();
  readonly #moves: Move[] = [];
  /** Moves before this index have expired. */
  #head = 0;
  constructor(private readonly o: RecentForecastsOptions = { perSeries: 8, maxSeries: 5_000, moveWindowMs: 15 * 60_000, maxMoves: 50_000 }) {}

  add(forecasts: readonly Forecast[]): void {
    for (const f of forecasts) {
      const h = f.horizons.length;
      const q = new Float64Array(h * 3);
      let total = 0;
      f.horizons.forEach((x, j) => {
        q[3 * j] = x.p10;
        q[3 * j + 1] = x.p50;
        q[3 * j + 2] = x.p90;
        total += x.p50;
      });
      const entry: RecentForecast = {
        issuedAt: f.issuedAt,
        source: f.source,
        modelVersion: f.modelVersion,
        originDate: f.originDate,
        bucketDates: f.horizons.map((x) => x.bucketDate),
        quantiles: q,
        total,
        triggers: f.triggers.map((t) => `${t.topic}[${t.partition}]@${t.offset}`),
      };
      const list = this.#bySeries.get(f.seriesId);
      if (list) {
        this.#bySeries.delete(f.seriesId); // re-inserted: most recently forecast last
        const prev = list[0]!;
        if (prev.total !== total) this.#move({ seriesId: f.seriesId, at: f.issuedAt, before: prev.total, after: total, change: prev.total >= 1 ? total / prev.total - 1 : null });
        list.unshift(entry);
        if (list.length > this.o.perSeries) list.length = this.o.perSeries;
        this.#bySeries.set(f.seriesId, list);
      } else {
        this.#bySeries.set(f.seriesId, [entry]);
        if (this.#bySeries.size > this.o.maxSeries) this.#bySeries.delete(this.#bySeries.keys().next().value!);
      }
    }
  }

  /** Newest first. */
  of(seriesId: string): readonly RecentForecast[] {
    return this.#bySeries.get(seriesId) ?? [];
  }

  /** Series that moved most (by |log ratio|, each series once with its largest move) since `sinceMs`. */
  movers(sinceMs: number, limit: number): Move[] {
    const best = new Map<string, Move>();
    for (let i = this.#moves.length - 1; i >= this.#head; i--) {
      const m = this.#moves[i]!;
      if (m.at < sinceMs) break;
      const b = best.get(m.seriesId);
      if (!b || magnitude(m) > magnitude(b)) best.set(m.seriesId, m);
    }
    return [...best.values()].sort((a, b) => magnitude(b) - magnitude(a)).slice(0, limit);
  }

  get seriesCount(): number {
    return this.#bySeries.size;
  }

  #move(m: Move): void {
    this.#moves.push(m);
    const cutoff = m.at - this.o.moveWindowMs;
    while (this.#head < this.#moves.length && (this.#moves[this.#head]!.at < cutoff || this.#moves.length - this.#head > this.o.maxMoves)) this.#head++;
    // drop the expired prefix now and then, not on every move (a flash promotion moves 20,000 at once)
    if (this.#head > 1_024 && this.#head * 2 > this.#moves.length) {
      this.#moves.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/**
 * A move's size for ranking: |ln((after + 1) / (before + 1))| — symmetric for rises and
 * falls, and finite for a series moving off (or to) zero, such as a launch's first forecast.
 */
function magnitude(m: Move): number {
  return Math.abs(Math.log((m.after + 1) / (m.before + 1)));
}
