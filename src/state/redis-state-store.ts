import type { PromotionSpan, SeriesSnapshot, WeatherPoint } from '../inference/series-snapshot.js';
import { ForecastError } from '../core/errors.js';
import { KeyBuilder } from './keys.js';
import { LUA_SCRIPTS } from './lua-scripts.js';
import { canonicalPromotion, canonicalWeather, catalogJson, mergeWeather, parsePrices, parseWeather } from './state-codec.js';
import type { RedisClient, RedisPipeline } from './redis-client.js';
import {
  promotionCovers,
  type ApplyOutcome,
  type PriceUpdate,
  type PromotionUpdate,
  type ReadOptions,
  type SalesUpdate,
  type SeriesInfo,
  type StateStore,
  type StoredPromotion,
  type WeatherUpdate,
} from './state-types.js';

export interface RedisStateStoreOptions {
  client: RedisClient;
  prefix: string;
  /** Buckets kept per series window. */
  windowBuckets: number;
  /** Bucket length in ms (ended promotions older than the window are pruned with it). */
  bucketMs: number;
}

const NO_PRICES = Object.freeze({ prices: [], regularPrice: null });
const OUTCOME: Record<string, ApplyOutcome> = { '1': 'applied', '0': 'duplicate', '-1': 'too-old' };

/** Production state store: Lua updates and one pipelined read per batch. */
export class RedisStateStore implements StateStore {
  readonly keys: KeyBuilder;
  readonly #client: RedisClient;
  readonly #window: number;
  readonly #bucketMs: number;

  constructor(options: RedisStateStoreOptions) {
    this.#client = options.client;
    this.keys = new KeyBuilder(options.prefix);
    this.#window = options.windowBuckets;
    this.#bucketMs = options.bucketMs;
    for (const script of Object.values(LUA_SCRIPTS)) {
      options.client.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
  }

  async putCatalog(series: readonly SeriesInfo[]): Promise<void> {
    const chunk = 5_000;
    for (let i = 0; i < series.length; i += chunk) {
      const args: string[] = [];
      for (const s of series.slice(i, i + chunk)) {
        args.push(s.seriesId, JSON.stringify(catalogJson(s)));
      }
      await this.#exec(this.#client.pipeline().hset(this.keys.catalog(), ...args));
    }
  }

  async loadCatalog(): Promise<SeriesInfo[]> {
    const all = await this.#client.hgetall(this.keys.catalog());
    return Object.entries(all).map(([seriesId, json]) => ({ seriesId, ...(JSON.parse(json) as Omit<SeriesInfo, 'seriesId'>) }));
  }

  async loadCatalogEntries(seriesIds: readonly string[]): Promise<SeriesInfo[]> {
    if (seriesIds.length === 0) return [];
    const values = await this.#client.hmget(this.keys.catalog(), ...seriesIds);
    const out: SeriesInfo[] = [];
    values.forEach((json, i) => {
      if (json) out.push({ seriesId: seriesIds[i]!, ...(JSON.parse(json) as Omit<SeriesInfo, 'seriesId'>) });
    });
    return out;
  }

  async applySales(updates: readonly SalesUpdate[]): Promise<ApplyOutcome[]> {
    if (updates.length === 0) return [];
    const p = this.#client.pipeline();
    for (const u of updates) {
      script(p, LUA_SCRIPTS.applySales.command)(
        this.keys.sales(u.seriesId),
        this.keys.seenSales(u.seriesId),
        u.eventId,
        String(u.bucket),
        String(u.quantity),
        String(this.#window),
        String(u.eventTimeMs),
      );
    }
    return (await this.#exec(p)).map((r) => OUTCOME[String(r)] ?? 'applied');
  }

  async applyPromotions(updates: readonly PromotionUpdate[]): Promise<ApplyOutcome[]> {
    if (updates.length === 0) return [];
    const p = this.#client.pipeline();
    for (const u of updates) {
      const pruneBefore = u.promotion.startMs - this.#window * this.#bucketMs;
      script(p, LUA_SCRIPTS.applyPromotion.command)(
        this.keys.storePromotions(u.store),
        u.promotion.promotionId,
        canonicalPromotion(u.promotion),
        String(u.promotion.eventTime),
        String(pruneBefore),
      );
    }
    return (await this.#exec(p)).map((r) => (String(r) === '1' ? 'applied' : 'duplicate'));
  }

  async applyWeather(updates: readonly WeatherUpdate[]): Promise<ApplyOutcome[]> {
    if (updates.length === 0) return [];
    const p = this.#client.pipeline();
    for (const u of updates) {
      script(p, LUA_SCRIPTS.applyWeather.command)(
        this.keys.weather(u.scope, u.location),
        String(u.bucket),
        canonicalWeather(u.weather),
        String(u.weather.rank),
        String(u.weather.eventTime),
        String(u.bucket - this.#window),
      );
    }
    return (await this.#exec(p)).map((r) => (String(r) === '1' ? 'applied' : 'duplicate'));
  }

  async applyPrices(updates: readonly PriceUpdate[]): Promise<ApplyOutcome[]> {
    if (updates.length === 0) return [];
    const p = this.#client.pipeline();
    for (const u of updates) {
      script(p, LUA_SCRIPTS.applyPrice.command)(
        this.keys.prices(u.seriesId),
        String(u.fromBucket),
        String(u.price),
        String(u.eventTimeMs),
        u.regularPrice === null ? '' : String(u.regularPrice),
        String(u.fromBucket - this.#window),
      );
    }
    return (await this.#exec(p)).map((r) => (String(r) === '1' ? 'applied' : 'duplicate'));
  }

  async readSnapshots(series: readonly SeriesInfo[], what: ReadOptions = {}): Promise<SeriesSnapshot[]> {
    if (series.length === 0) return [];
    const withPrices = what.prices ?? true;
    const stores = [...new Set(series.map((s) => s.store))];
    const regions = [...new Set(series.map((s) => s.region))];
    const p = this.#client.pipeline();
    for (const s of series) p.hgetall(this.keys.sales(s.seriesId));
    if (withPrices) for (const s of series) p.hgetall(this.keys.prices(s.seriesId));
    for (const st of stores) p.hgetall(this.keys.storePromotions(st)).hgetall(this.keys.weather('store', st));
    for (const r of regions) p.hgetall(this.keys.weather('region', r));
    const settled = await this.#execSettled(p);
    // a key Redis refuses to read (WRONGTYPE) is that series' (or store's, region's) problem:
    // its series are left out and named; an outage still fails the whole read (retried)
    const refused = new Map<string, string>();
    const keyOfResult = (k: number): { key: string; series: (s: SeriesInfo) => boolean } => {
      const n = series.length;
      if (k < n) return { key: this.keys.sales(series[k]!.seriesId), series: (s) => s === series[k] };
      if (withPrices && k < 2 * n) return { key: this.keys.prices(series[k - n]!.seriesId), series: (s) => s === series[k - n] };
      const j = k - (withPrices ? 2 : 1) * n;
      if (j < 2 * stores.length) {
        const st = stores[Math.floor(j / 2)]!;
        return { key: j % 2 === 0 ? this.keys.storePromotions(st) : this.keys.weather('store', st), series: (s) => s.store === st };
      }
      const r = regions[j - 2 * stores.length]!;
      return { key: this.keys.weather('region', r), series: (s) => s.region === r };
    };
    const results = settled.map(([err, value], k) => {
      if (!err) return value as Record<string, string>;
      const { key, series: hit } = keyOfResult(k);
      for (const s of series) if (hit(s) && !refused.has(s.seriesId)) refused.set(s.seriesId, `Redis refused to read ${key}: ${err.message}; delete or repair that key (it was written by something other than forecast-stream)`);
      return {};
    });

    const promos = new Map<string, StoredPromotion[]>();
    const storeWeather = new Map<string, Map<number, WeatherPoint>>();
    const regionWeather = new Map<string, Map<number, WeatherPoint>>();
    let at = (withPrices ? 2 : 1) * series.length;
    for (const st of stores) {
      promos.set(st, Object.values(results[at++] ?? {}).map((j) => JSON.parse(j) as StoredPromotion));
      storeWeather.set(st, parseWeather(results[at++] ?? {}));
    }
    for (const r of regions) regionWeather.set(r, parseWeather(results[at++] ?? {}));

    for (const [id, reason] of refused) what.unreadable?.(id, reason);
    const out: SeriesSnapshot[] = [];
    series.forEach((s, i) => {
      if (refused.has(s.seriesId)) return;
      const raw = results[i] ?? {};
      const sales = new Map<number, number>();
      let last: number | null = null;
      let lastEvent: number | null = null;
      let first: number | null = null;
      for (const field in raw) {
        if (field.charCodeAt(0) === 95 /* _ */) {
          if (field === '_max') last = Number(raw[field]);
          else if (field === '_ts') lastEvent = Number(raw[field]);
          else if (field === '_first') first = Number(raw[field]);
          continue;
        }
        sales.set(Number(field), Number(raw[field]));
      }
      const spans: PromotionSpan[] = [];
      for (const p of promos.get(s.store) ?? []) {
        if (promotionCovers(p, s)) {
          spans.push({ promotionId: p.promotionId, startMs: p.startMs, endMs: p.endMs, depth: p.depth, markdown: p.markdown });
        }
      }
      const { prices, regularPrice } = withPrices ? parsePrices(results[series.length + i] ?? {}) : NO_PRICES;
      out.push({
        seriesId: s.seriesId,
        store: s.store,
        item: s.item,
        category: s.category,
        region: s.region,
        ...(s.department === undefined ? {} : { department: s.department }),
        sales,
        lastSalesBucket: last,
        lastSalesEventMs: lastEvent,
        firstSaleBucket: first,
        prices,
        regularPrice,
        promotions: spans,
        weather: mergeWeather(storeWeather.get(s.store), regionWeather.get(s.region)),
      });
    });
    return out;
  }

  async dump(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    let cursor = '0';
    const keys: string[] = [];
    do {
      const [next, batch] = await this.#client.scan(cursor, 'MATCH', this.keys.all(), 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    for (const key of keys.sort()) {
      if (this.keys.isBookkeeping(key)) continue;
      const type = await this.#client.type(key);
      if (type === 'hash') out[key] = sortObject(await this.#client.hgetall(key));
      else if (type === 'zset') out[key] = await this.#client.zrange(key, 0, -1, 'WITHSCORES');
      else out[key] = type;
    }
    return out;
  }

  /** Delete every key of this prefix (benchmarks and tests clean up after themselves). */
  async clearAll(): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await this.#client.scan(cursor, 'MATCH', this.keys.all(), 'COUNT', 1000);
      if (keys.length > 0) n += Number(await this.#client.unlink(...keys));
      cursor = next;
    } while (cursor !== '0');
    return n;
  }

  async close(): Promise<void> {
    await this.#client.quit();
  }

  async #exec(p: RedisPipeline): Promise<unknown[]> {
    return (await this.#execSettled(p)).map(([err, value]) => {
      if (err) throw new ForecastError('STATE_REJECTED', `value: Redis refused the state update: ${err.message}; the record cannot be stored as sent (or its series' keys were written by something else)`, { field: 'value', cause: err });
      return value;
    });
  }

  /**
   * Run a pipeline; an outage throws STATE_UNAVAILABLE (retriable), while an error reply about
   * one command's data (WRONGTYPE, a value Redis cannot hold) is returned with its result.
   */
  async #execSettled(p: RedisPipeline): Promise<Array<[Error | null, unknown]>> {
    let res: Array<[Error | null, unknown]> | null;
    try {
      res = await p.exec();
    } catch (cause) {
      throw new ForecastError('STATE_UNAVAILABLE', `Redis pipeline failed: ${(cause as Error).message}`, { retriable: true, cause });
    }
    if (!res) throw new ForecastError('STATE_UNAVAILABLE', 'Redis pipeline was discarded', { retriable: true });
    for (const [err] of res) {
      // only an error reply of the server is about this command's data; a client-side failure
      // (connection lost: ioredis' MaxRetriesPerRequestError, a timeout) or a server that is
      // loading, busy, read-only or out of memory is an outage
      if (err && (err.name !== 'ReplyError' || TRANSIENT_REPLY.test(err.message))) throw new ForecastError('STATE_UNAVAILABLE', `Redis command failed: ${err.message}`, { retriable: true, cause: err });
    }
    return res;
  }
}

const TRANSIENT_REPLY = /^(LOADING|BUSY|OOM|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MOVED|ASK|NOREPLICAS|MISCONF)\b/;

function script(p: RedisPipeline, name: string): (...args: string[]) => RedisPipeline {
  return (p[name] as (...args: string[]) => RedisPipeline).bind(p);
}

function sortObject(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
