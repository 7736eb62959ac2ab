import type { RedisClient } from '../state/redis-client.js';
import { KeyBuilder } from '../state/keys.js';

/** One published forecast, as kept until its targets' actuals are known. */
export interface IssuedForecast {
  seriesId: string;
  origin: number;
  version: string;
  source: string;
  /** p10, p50, p90 for horizons 1..H, flattened [H, 3]. */
  values: Float32Array;
}

/** One kept forecast for one target bucket. */
export interface PendingForecast {
  seriesId: string;
  target: number;
  origin: number;
  horizon: number;
  version: string;
  source: string;
  p10: number;
  p50: number;
  p90: number;
}

/**
 * Forecasts awaiting their actuals, outside the heap: one Redis string per series and origin
 * (`<prefix>:{s:<id>}:fc:<origin>`: version, source and the float32 quantiles of every horizon;
 * a re-forecast from the same origin replaces it), written with one SET … PX per forecast and a
 * TTL, so a series that stops selling leaves nothing behind. Closing a bucket reads the origins
 * that forecast it in one MGET (same hash slot) and deletes the origins whose last target closed.
 */
export interface Closing {
  seriesId: string;
  /** Targets from..to (inclusive) are closed. */
  from: number;
  to: number;
}

export interface PendingForecasts {
  /**
   * One round trip: the kept forecasts for the closing targets (origins fully scored are then
   * removed), and the new forecasts kept.
   */
  exchange(issued: readonly IssuedForecast[], closing: readonly Closing[], horizons: number): Promise<PendingForecast[]>;
}

export function encodeIssued(f: IssuedForecast): Buffer {
  const v = Buffer.from(f.version, 'utf8');
  const s = Buffer.from(f.source, 'utf8');
  const out = Buffer.alloc(2 + v.length + s.length + f.values.length * 4);
  out.writeUInt8(v.length, 0);
  v.copy(out, 1);
  out.writeUInt8(s.length, 1 + v.length);
  s.copy(out, 2 + v.length);
  let o = 2 + v.length + s.length;
  for (const x of f.values) {
    out.writeFloatLE(x, o);
    o += 4;
  }
  return out;
}

export function decodeIssued(b: Buffer): { version: string; source: string; values: Float32Array } {
  const vl = b.readUInt8(0);
  const version = b.toString('utf8', 1, 1 + vl);
  const sl = b.readUInt8(1 + vl);
  const source = b.toString('utf8', 2 + vl, 2 + vl + sl);
  const start = 2 + vl + sl;
  const values = new Float32Array((b.length - start) / 4);
  for (let i = 0; i < values.length; i++) values[i] = b.readFloatLE(start + i * 4);
  return { version, source, values };
}

/** The pairs the kept forecasts (origin → decoded) give for targets from..to. */
function pairsOf(seriesId: string, kept: Map<number, { version: string; source: string; values: Float32Array }>, from: number, to: number, horizons: number): PendingForecast[] {
  const out: PendingForecast[] = [];
  for (let t = from; t <= to; t++) {
    for (let h = 1; h <= horizons; h++) {
      const f = kept.get(t - h);
      if (!f || f.values.length < h * 3) continue;
      out.push({ seriesId, target: t, origin: t - h, horizon: h, version: f.version, source: f.source, p10: f.values[(h - 1) * 3]!, p50: f.values[(h - 1) * 3 + 1]!, p90: f.values[(h - 1) * 3 + 2]! });
    }
  }
  return out;
}

export class RedisPendingForecasts implements PendingForecasts {
  readonly #client: RedisClient;
  readonly #keys: KeyBuilder;
  readonly #ttlMs: number;

  constructor(o: { client: RedisClient; prefix: string; ttlMs: number }) {
    this.#client = o.client;
    this.#keys = new KeyBuilder(o.prefix);
    this.#ttlMs = o.ttlMs;
  }

  async exchange(issued: readonly IssuedForecast[], closing: readonly Closing[], horizons: number): Promise<PendingForecast[]> {
    if (issued.length === 0 && closing.length === 0) return [];
    const p = this.#client.pipeline();
    const reads: Array<{ c: Closing; origins: number[] }> = [];
    for (const c of closing) {
      if (c.to < c.from) continue;
      const origins: number[] = [];
      for (let o = c.from - horizons; o <= c.to - 1; o++) origins.push(o);
      p.mgetBuffer(...origins.map((o) => this.#keys.pendingForecasts(c.seriesId, o)));
      // after the read (a pipeline runs in order): an origin whose last target closed is done
      const done = origins.filter((o) => o + horizons <= c.to).map((o) => this.#keys.pendingForecasts(c.seriesId, o));
      if (done.length > 0) p.unlink(...done);
      reads.push({ c, origins });
    }
    for (const e of issued) p.set(this.#keys.pendingForecasts(e.seriesId, e.origin), encodeIssued(e), 'PX', this.#ttlMs);
    const res = (await p.exec()) ?? [];
    const failed = res.find(([err]) => err);
    if (failed) throw failed[0];
    const out: PendingForecast[] = [];
    let i = 0;
    for (const { c, origins } of reads) {
      const values = res[i]![1] as Array<Buffer | null>;
      i += origins.some((o) => o + horizons <= c.to) ? 2 : 1;
      const kept = new Map<number, { version: string; source: string; values: Float32Array }>();
      values.forEach((b, k) => {
        if (b) kept.set(origins[k]!, decodeIssued(b));
      });
      out.push(...pairsOf(c.seriesId, kept, c.from, c.to, horizons));
    }
    return out;
  }
}

/** The same in a Map (unit tests). */
export class MemoryPendingForecasts implements PendingForecasts {
  readonly #m = new Map<string, Buffer>();

  async exchange(issued: readonly IssuedForecast[], closing: readonly Closing[], horizons: number): Promise<PendingForecast[]> {
    const out: PendingForecast[] = [];
    for (const c of closing) {
      const kept = new Map<number, { version: string; source: string; values: Float32Array }>();
      for (let o = c.from - horizons; o <= c.to - 1; o++) {
        const b = this.#m.get(`${c.seriesId}|${o}`);
        if (!b) continue;
        kept.set(o, decodeIssued(b));
        if (o + horizons <= c.to) this.#m.delete(`${c.seriesId}|${o}`);
      }
      out.push(...pairsOf(c.seriesId, kept, c.from, c.to, horizons));
    }
    for (const e of issued) this.#m.set(`${e.seriesId}|${e.origin}`, encodeIssued(e));
    return out;
  }

  get size(): number {
    return this.#m.size;
  }
}
