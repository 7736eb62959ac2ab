import type { Redis } from 'ioredis';
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
export interface PendingForecasts {
  record(entries: readonly IssuedForecast[]): Promise<void>;
  /** The kept forecasts for targets `from..to` of a series; origins fully scored are removed. */
  close(seriesId: string, from: number, to: number, horizons: number): Promise<PendingForecast[]>;
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
  readonly #client: Redis;
  readonly #keys: KeyBuilder;
  readonly #ttlMs: number;

  constructor(o: { client: Redis; prefix: string; ttlMs: number }) {
    this.#client = o.client;
    this.#keys = new KeyBuilder(o.prefix);
    this.#ttlMs = o.ttlMs;
  }

  async record(entries: readonly IssuedForecast[]): Promise<void> {
    if (entries.length === 0) return;
    const p = this.#client.pipeline();
    for (const e of entries) p.set(this.#keys.pendingForecasts(e.seriesId, e.origin), encodeIssued(e), 'PX', this.#ttlMs);
    const res = await p.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async close(seriesId: string, from: number, to: number, horizons: number): Promise<PendingForecast[]> {
    if (to < from) return [];
    const origins: number[] = [];
    for (let o = from - horizons; o <= to - 1; o++) origins.push(o);
    const keys = origins.map((o) => this.#keys.pendingForecasts(seriesId, o));
    const values = await this.#client.mgetBuffer(...keys);
    const kept = new Map<number, { version: string; source: string; values: Float32Array }>();
    values.forEach((b, i) => {
      if (b) kept.set(origins[i]!, decodeIssued(b));
    });
    // an origin whose last target (origin + H) is closed has nothing left to score
    const done = origins.filter((o, i) => values[i] && o + horizons <= to).map((o) => this.#keys.pendingForecasts(seriesId, o));
    if (done.length > 0) await this.#client.unlink(...done);
    return pairsOf(seriesId, kept, from, to, horizons);
  }
}

/** The same in a Map (unit tests). */
export class MemoryPendingForecasts implements PendingForecasts {
  readonly #m = new Map<string, Buffer>();

  async record(entries: readonly IssuedForecast[]): Promise<void> {
    for (const e of entries) this.#m.set(`${e.seriesId}|${e.origin}`, encodeIssued(e));
  }

  async close(seriesId: string, from: number, to: number, horizons: number): Promise<PendingForecast[]> {
    const kept = new Map<number, { version: string; source: string; values: Float32Array }>();
    for (let o = from - horizons; o <= to - 1; o++) {
      const b = this.#m.get(`${seriesId}|${o}`);
      if (!b) continue;
      kept.set(o, decodeIssued(b));
      if (o + horizons <= to) this.#m.delete(`${seriesId}|${o}`);
    }
    return pairsOf(seriesId, kept, from, to, horizons);
  }

  get size(): number {
    return this.#m.size;
  }
}
