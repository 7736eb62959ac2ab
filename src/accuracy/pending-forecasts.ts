import type { Redis } from 'ioredis';
import { KeyBuilder } from '../state/keys.js';

/** One issued forecast for one target bucket, as kept until the bucket's actual is known. */
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
 * Forecasts awaiting their actuals, outside the heap: one Redis hash per series and target
 * bucket (`<prefix>:{s:<id>}:fc:<target>`), field `<origin>:<horizon>` = the latest forecast
 * issued from that origin (a re-forecast from the same origin replaces it), with a TTL, so a
 * series that never sells again leaves nothing behind.
 */
export interface PendingForecasts {
  record(entries: readonly PendingForecast[]): Promise<void>;
  /** The forecasts kept for these targets of a series, removed as they are read. */
  take(seriesId: string, targets: readonly number[]): Promise<PendingForecast[]>;
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

  async record(entries: readonly PendingForecast[]): Promise<void> {
    if (entries.length === 0) return;
    const p = this.#client.pipeline();
    const touched = new Set<string>();
    for (const e of entries) {
      const key = this.#keys.pendingForecasts(e.seriesId, e.target);
      p.hset(key, `${e.origin}:${e.horizon}`, `${e.version}|${e.source}|${e.p10}|${e.p50}|${e.p90}`);
      touched.add(key);
    }
    for (const key of touched) p.pexpire(key, this.#ttlMs);
    const res = await p.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async take(seriesId: string, targets: readonly number[]): Promise<PendingForecast[]> {
    if (targets.length === 0) return [];
    const p = this.#client.pipeline();
    for (const t of targets) {
      const key = this.#keys.pendingForecasts(seriesId, t);
      p.hgetall(key);
      p.unlink(key);
    }
    const res = (await p.exec()) ?? [];
    const out: PendingForecast[] = [];
    targets.forEach((target, i) => {
      const [err, fields] = res[i * 2] ?? [null, {}];
      if (err) throw err;
      for (const [field, value] of Object.entries((fields ?? {}) as Record<string, string>)) {
        const [origin, horizon] = field.split(':').map(Number);
        const [version, source, p10, p50, p90] = value.split('|');
        out.push({ seriesId, target, origin: origin!, horizon: horizon!, version: version!, source: source!, p10: Number(p10), p50: Number(p50), p90: Number(p90) });
      }
    });
    return out;
  }
}

/** The same in a Map (unit tests). */
export class MemoryPendingForecasts implements PendingForecasts {
  readonly #m = new Map<string, Map<string, PendingForecast>>();

  async record(entries: readonly PendingForecast[]): Promise<void> {
    for (const e of entries) {
      const k = `${e.seriesId}|${e.target}`;
      let m = this.#m.get(k);
      if (!m) this.#m.set(k, (m = new Map()));
      m.set(`${e.origin}:${e.horizon}`, { ...e });
    }
  }

  async take(seriesId: string, targets: readonly number[]): Promise<PendingForecast[]> {
    const out: PendingForecast[] = [];
    for (const t of targets) {
      const k = `${seriesId}|${t}`;
      out.push(...(this.#m.get(k)?.values() ?? []));
      this.#m.delete(k);
    }
    return out;
  }

  get size(): number {
    return this.#m.size;
  }
}
