import type { TypedEmitter } from '../core/typed-emitter.js';
import type { ServedGroup } from '../inference/serving-models.js';
import type { Closing, IssuedForecast, PendingForecast, PendingForecasts } from './pending-forecasts.js';

/** Scoring rounds waiting for Redis before new ones are dropped (memory stays bounded under overload). */
const MAX_PENDING_ROUNDS = 32;

/** One forecast scored against its actual. */
export interface ScoredPair extends PendingForecast {
  actual: number;
}

export interface AccuracyEvents {
  /** Pairs scored in one round (a closed bucket's actual against every forecast kept for it). */
  scored: { pairs: ScoredPair[] };
  /** A version's rolling WAPE is worse than its first window's by more than the margin (once per episode). */
  degraded: { version: string; rollingWape: number; firstWape: number; margin: number; pairs: number };
  /** Scoring failed (Redis); the forecasts of those targets stay unscored. */
  failed: { error: string };
}

/** Sums that WAPE, bias and coverage are made from. */
export class ErrorSums {
  n = 0;
  absErr = 0;
  actual = 0;
  err = 0;
  inside = 0;

  add(p: ScoredPair): void {
    this.n++;
    this.absErr += Math.abs(p.actual - p.p50);
    this.actual += p.actual;
    this.err += p.p50 - p.actual;
    if (p.actual >= p.p10 && p.actual <= p.p90) this.inside++;
  }

  /** These sums less an earlier copy of them (what was scored in between). */
  since(earlier: ErrorSums | undefined): ErrorSums {
    const d = new ErrorSums();
    d.merge(this);
    if (earlier) {
      d.n -= earlier.n;
      d.absErr -= earlier.absErr;
      d.actual -= earlier.actual;
      d.err -= earlier.err;
      d.inside -= earlier.inside;
    }
    return d;
  }

  merge(o: ErrorSums): void {
    this.n += o.n;
    this.absErr += o.absErr;
    this.actual += o.actual;
    this.err += o.err;
    this.inside += o.inside;
  }

  /** Σ|a − p50| / Σa (null while Σa = 0). */
  get wape(): number | null {
    return this.actual > 0 ? this.absErr / this.actual : null;
  }

  /** Σ(p50 − a) / Σa: > 0 over-forecasts. */
  get bias(): number | null {
    return this.actual > 0 ? this.err / this.actual : null;
  }

  /** Share of actuals inside p10–p90. */
  get coverage(): number | null {
    return this.n > 0 ? this.inside / this.n : null;
  }

  toJSON() {
    return { pairs: this.n, wape: this.wape, bias: this.bias, coverage: this.coverage };
  }
}

interface VersionStats {
  bySourceHorizon: Map<string, ErrorSums>;
  firstTarget: number;
  first: ErrorSums;
  /** Target bucket -> sums, the last `window` targets only. */
  recent: Map<number, ErrorSums>;
  newestTarget: number;
  degraded: boolean;
}

export interface OnlineAccuracyOptions {
  pending: PendingForecasts;
  horizons: number;
  /** A bucket is scored once the series' origin is this many buckets past it (late sales of it are still counted). */
  closeDelay: number;
  /** Buckets in the first and the rolling window (7 days, 4 weeks). */
  window: number;
  /** Rolling WAPE above first-window WAPE × (1 + margin) raises `degraded`. */
  margin: number;
  /** Pairs the rolling window needs before it is compared. */
  minPairs: number;
  /** Which series are scored (a stable share by id hash, to bound Redis memory on large catalogs); absent: all. */
  sample?: (seriesId: string) => boolean;
  events: TypedEmitter<AccuracyEvents>;
}

/**
 * Accuracy against actuals, online: every forecast published is kept (in Redis, with a TTL) for
 * each target bucket it covers; when a series' origin moves past a bucket, that bucket is closed
 * and its actual — the series' sales in it, from the same state snapshot the forecast batch read —
 * is scored against every forecast kept for it (one per origin and horizon: the latest issued).
 * Sums per model version, source (primary, cold_start, fallback) and horizon give WAPE, bias and
 * p10–p90 coverage; per version, the first window and a rolling window of targets drive the
 * degradation alert. Work is chained (one round at a time, in batch order) and never awaited by a
 * batch; the heap holds the sums and one number per series (the last bucket closed).
 */
export class OnlineAccuracy {
  readonly #o: OnlineAccuracyOptions;
  readonly #versions = new Map<string, VersionStats>();
  readonly #lastClosed = new Map<string, number>();
  #chain: Promise<void> = Promise.resolve();
  #pendingRounds = 0;
  #dropped = 0;

  constructor(o: OnlineAccuracyOptions) {
    this.#o = o;
  }

  /** A live batch was forecast (and is being published): keep its forecasts, score what closed. */
  observe(groups: readonly ServedGroup[]): void {
    const issued: IssuedForecast[] = [];
    const closing: Closing[] = [];
    const sales = new Map<string, ReadonlyMap<number, number>>();
    const H = this.#o.horizons;
    for (const g of groups) {
      for (let i = 0; i < g.forecasts.length; i++) {
        const f = g.forecasts[i]!;
        if (this.#o.sample && !this.#o.sample(f.seriesId)) continue;
        const snap = g.snapshots[i]!;
        const origin = f.originBucket;
        const values = new Float32Array(f.horizons.length * 3);
        for (let k = 0; k < f.horizons.length; k++) {
          const h = f.horizons[k]!;
          values[k * 3] = h.p10;
          values[k * 3 + 1] = h.p50;
          values[k * 3 + 2] = h.p90;
        }
        issued.push({ seriesId: f.seriesId, origin, version: f.modelVersion, source: f.source, values });
        const upTo = origin - this.#o.closeDelay;
        const last = this.#lastClosed.get(f.seriesId) ?? upTo - H - 1;
        if (upTo > last) {
          closing.push({ seriesId: f.seriesId, from: Math.max(last + 1, upTo - H), to: upTo });
          sales.set(f.seriesId, snap.sales);
          this.#lastClosed.set(f.seriesId, upTo);
        }
      }
    }
    if (issued.length === 0 && closing.length === 0) return;
    // bounded: if Redis falls behind, rounds are dropped (counted), never queued without end
    if (this.#pendingRounds >= MAX_PENDING_ROUNDS) {
      this.#dropped += issued.length;
      return;
    }
    this.#pendingRounds++;
    this.#chain = this.#chain
      .then(() => this.#round(issued, closing, sales))
      .catch((err: Error) => this.#o.events.emit('failed', { error: err.message }))
      .finally(() => this.#pendingRounds--);
  }

  /** Forecasts not kept because scoring had fallen MAX_PENDING_ROUNDS rounds behind. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Resolves when every round observed so far is done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#pendingRounds > 0) await this.#chain;
  }

  async #round(issued: IssuedForecast[], closing: Closing[], sales: ReadonlyMap<string, ReadonlyMap<number, number>>): Promise<void> {
    const kept = await this.#o.pending.exchange(issued, closing, this.#o.horizons);
    if (kept.length === 0) return;
    const pairs: ScoredPair[] = kept.map((p) => ({ ...p, actual: sales.get(p.seriesId)?.get(p.target) ?? 0 }));
    for (const p of pairs) this.#add(p);
    this.#o.events.emit('scored', { pairs });
    for (const [version, v] of this.#versions) this.#checkDegraded(version, v);
  }

  #add(p: ScoredPair): void {
    let v = this.#versions.get(p.version);
    if (!v) {
      v = { bySourceHorizon: new Map(), firstTarget: p.target, first: new ErrorSums(), recent: new Map(), newestTarget: p.target, degraded: false };
      this.#versions.set(p.version, v);
    }
    const key = `${p.source}|${p.horizon}`;
    let s = v.bySourceHorizon.get(key);
    if (!s) v.bySourceHorizon.set(key, (s = new ErrorSums()));
    s.add(p);
    const w = this.#o.window;
    if (p.target < v.firstTarget + w) v.first.add(p);
    if (p.target > v.newestTarget) v.newestTarget = p.target;
    if (p.target > v.newestTarget - w) {
      let r = v.recent.get(p.target);
      if (!r) v.recent.set(p.target, (r = new ErrorSums()));
      r.add(p);
    }
    for (const t of v.recent.keys()) if (t <= v.newestTarget - w) v.recent.delete(t);
  }

  #rolling(v: VersionStats): ErrorSums {
    const r = new ErrorSums();
    for (const s of v.recent.values()) r.merge(s);
    return r;
  }

  #checkDegraded(version: string, v: VersionStats): void {
    // the first window is complete only once the rolling one has moved past it
    if (v.newestTarget < v.firstTarget + 2 * this.#o.window - 1) return;
    const rolling = this.#rolling(v);
    const first = v.first.wape;
    const now = rolling.wape;
    if (first === null || now === null || rolling.n < this.#o.minPairs) return;
    const worse = now > first * (1 + this.#o.margin);
    if (worse && !v.degraded) {
      v.degraded = true;
      this.#o.events.emit('degraded', { version, rollingWape: now, firstWape: first, margin: this.#o.margin, pairs: rolling.n });
    } else if (!worse && now <= first * (1 + this.#o.margin / 2)) {
      v.degraded = false;
    }
  }

  /** Per version: overall, first and rolling window, by horizon and by source. */
  summary(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const [version, v] of this.#versions) {
      const all = new ErrorSums();
      const byH = new Map<number, ErrorSums>();
      const bySource = new Map<string, ErrorSums>();
      for (const [key, s] of v.bySourceHorizon) {
        const [source, h] = key.split('|');
        all.merge(s);
        const hs = byH.get(Number(h)) ?? new ErrorSums();
        hs.merge(s);
        byH.set(Number(h), hs);
        const ss = bySource.get(source!) ?? new ErrorSums();
        ss.merge(s);
        bySource.set(source!, ss);
      }
      out.push({
        version,
        ...all.toJSON(),
        firstWindow: v.first.toJSON(),
        rollingWindow: this.#rolling(v).toJSON(),
        degraded: v.degraded,
        byHorizon: [...byH].sort((a, b) => a[0] - b[0]).map(([horizon, s]) => ({ horizon, ...s.toJSON() })),
        bySource: Object.fromEntries([...bySource].map(([k, s]) => [k, s.toJSON()])),
      });
    }
    return out;
  }

  /** Per version, every source and horizon together (a copy: the lifecycle diffs two of them). */
  totals(): Map<string, ErrorSums> {
    const out = new Map<string, ErrorSums>();
    for (const [version, v] of this.#versions) {
      const all = new ErrorSums();
      for (const s of v.bySourceHorizon.values()) all.merge(s);
      out.set(version, all);
    }
    return out;
  }

  /** The sums by (version, source, horizon): what the metrics export. */
  cells(): Array<{ version: string; source: string; horizon: number; sums: ErrorSums }> {
    const out: Array<{ version: string; source: string; horizon: number; sums: ErrorSums }> = [];
    for (const [version, v] of this.#versions) {
      for (const [key, sums] of v.bySourceHorizon) {
        const [source, h] = key.split('|');
        out.push({ version, source: source!, horizon: Number(h), sums });
      }
    }
    return out;
  }
}
