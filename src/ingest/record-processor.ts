import type avro from 'avsc';
import { ForecastError, isBadInput } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { parseSchema, type SchemaCodec } from '../core/schema-codec.js';
import { loadSchema } from '../core/schemas.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import { bucketOf, type BucketSize } from '../inference/features/bucket-clock.js';
import type { Catalog } from '../state/catalog.js';
import type { PriceUpdate, PromotionUpdate, SalesUpdate, SeriesInfo, StateStore, WeatherUpdate } from '../state/state-types.js';
import type { DeadLetter, DeadLetterSink } from './dead-letter.js';
import { seriesOfPromotion, seriesOfWeather } from './fan-out.js';
import type { InputEvent, RawRecord, SourceOffset } from './input-events.js';
import { validateCatalog, validatePrice, validatePromotion, validateSales, validateWeather, type ValidationContext } from './validate-event.js';

/** The reader schema of every input topic (the processor's own Avro files). */
export function inputReaders(): RecordProcessorOptions['readers'] {
  return {
    sales: parseSchema(loadSchema('sales')),
    promotion: parseSchema(loadSchema('promotion')),
    weather: parseSchema(loadSchema('weather')),
    price: parseSchema(loadSchema('price')),
    catalog: parseSchema(loadSchema('catalog')),
  };
}

export type BadInputPolicy = 'dlq' | 'skip' | 'fail';

export interface IngestEvents {
  'records-processed': { topic: string; count: number };
  'record-rejected': { topic: string; code: string; policy: BadInputPolicy; field: string; reason: string };
  'sales-too-old': { seriesId: string; bucket: number };
  'sales-duplicate': { seriesId: string };
  /** A chunk failed on a dependency (Redis, registry) and is tried again. */
  'chunk-retry': { code: string; attempt: number };
  'ingest-resumed': { code: string; stalledMs: number; attempts: number };
  /** Fetching paused / resumed because the batcher is full / below half of its capacity. */
  'ingest-paused': { pending: number; capacity: number };
  'ingest-unpaused': { pending: number; capacity: number };
  'item-listed': { seriesId: string; change: 'added' | 'changed' | 'same'; listedDate: string | null };
  /** FS_EXACTLY_ONCE: an epoch's transaction (its forecasts and `partitions` offsets) committed, or failed (and was aborted); `ms`: barrier to commit. */
  'epoch-committed': { partitions: number; ms: number };
  'epoch-failed': { error: string; ms: number };
}

export interface TopicNames {
  sales: string;
  promotions: string;
  weather: string;
  prices: string;
  catalog: string;
}

export interface RecordProcessorOptions {
  codec: SchemaCodec;
  readers: { sales: avro.Type; promotion: avro.Type; weather: avro.Type; price: avro.Type; catalog: avro.Type };
  topics: TopicNames;
  catalog: Catalog;
  store: StateStore;
  deadLetters: DeadLetterSink;
  policy: BadInputPolicy;
  bucketSize: BucketSize;
  maxFutureMs: number;
  clock: Clock;
  events: TypedEmitter<IngestEvents>;
  /**
   * Which event kinds re-forecast the series they touch (default: all). The model decides:
   * an input it learned no effect from is stored, but re-sending an unchanged forecast for it
   * would pretend a reaction.
   */
  reforecastOn?: { prices: boolean; promotions: boolean; weather: boolean };
}

/** Series affected by a chunk of records, each with the input offsets that touched it. */
export type AffectedSeries = Map<string, SourceOffset[]>;

export interface ProcessResult {
  affected: AffectedSeries;
  accepted: number;
  rejected: number;
}

const ALL_INPUTS = { prices: true, promotions: true, weather: true };
const RANK_OBSERVATION = 2;
const RANK_FORECAST = 1;

/**
 * The ingest stage for one chunk of records from one partition: decode through the
 * registry, validate, dead-letter the bad ones (policy is data: dlq | skip | fail), apply
 * the good ones to state in one pipelined round trip per event kind, and return the
 * affected series (fan-out). Retriable failures (registry or Redis down) throw, so the
 * consumer retries the chunk; replays are harmless because state updates are idempotent.
 */
export class RecordProcessor {
  readonly #o: RecordProcessorOptions;
  /** Positions of records dead-lettered (or skipped) already: a retried chunk does not send or count them twice. */
  readonly #rejected = new Set<string>();

  constructor(options: RecordProcessorOptions) {
    this.#o = options;
  }

  async process(records: readonly RawRecord[]): Promise<ProcessResult> {
    const o = this.#o;
    const ctx: ValidationContext = { catalog: o.catalog, nowMs: o.clock.now(), maxFutureMs: o.maxFutureMs };
    const good: Array<{ event: InputEvent; source: SourceOffset; record: RawRecord }> = [];
    let bad: DeadLetter[] = [];
    const decodeAll = async (list: readonly RawRecord[]) => {
      const failed: DeadLetter[] = [];
      for (const record of list) {
        try {
          good.push({ event: await this.#decode(record, ctx), source: { topic: record.topic, partition: record.partition, offset: record.offset }, record });
        } catch (err) {
          if (!isBadInput(err)) throw err;
          failed.push({ record, error: err as ForecastError });
        }
      }
      return failed;
    };
    bad = await decodeAll(records);
    // an item listed through another instance (its catalog partition is not ours) is in Redis
    // before this instance's 15-s reload: look the unknown ones up once before rejecting them
    const unknown = [...new Set(bad.flatMap((b) => (b.error.seriesId && (b.error.code === 'UNKNOWN_SERIES' || b.error.code === 'UNKNOWN_STORE') ? [b.error.seriesId] : [])))];
    if (unknown.length > 0) {
      const found = await o.store.loadCatalogEntries(unknown);
      if (found.length > 0) {
        for (const info of found) o.catalog.upsert(info);
        const ids = new Set(found.map((f) => f.seriesId));
        const retry = bad.filter((b) => b.error.seriesId !== undefined && ids.has(b.error.seriesId));
        bad = [...bad.filter((b) => !retry.includes(b)), ...(await decodeAll(retry.map((b) => b.record)))];
      }
    }
    if (bad.length > 0) await this.#reject(bad);

    let affected: AffectedSeries;
    const refused: DeadLetter[] = [];
    try {
      affected = await this.#apply(good);
    } catch (err) {
      if (!(err instanceof ForecastError && err.code === 'STATE_REJECTED')) throw err;
      // Redis refused one of the updates (a wrong-typed key, a value it cannot hold): apply the
      // events one by one (updates are idempotent, so those already applied change nothing) and
      // dead-letter the ones it refuses, instead of retrying the chunk for ever
      affected = new Map();
      for (const g of good) {
        try {
          for (const [id, srcs] of await this.#apply([g])) affected.set(id, [...(affected.get(id) ?? []), ...srcs]);
        } catch (e) {
          if (!(e instanceof ForecastError && e.code === 'STATE_REJECTED')) throw e;
          refused.push({ record: g.record, error: e });
        }
      }
      if (refused.length > 0) await this.#reject(refused);
    }
    if (records.length > 0) o.events.emit('records-processed', { topic: records[0]!.topic, count: records.length });
    return { affected, accepted: good.length - refused.length, rejected: bad.length + refused.length };
  }

  /** Apply good events to state and return the series they affect (fan-out). */
  async #apply(good: ReadonlyArray<{ event: InputEvent; source: SourceOffset }>): Promise<AffectedSeries> {
    const o = this.#o;
    const sales: SalesUpdate[] = [];
    const salesSources: Array<{ seriesId: string; source: SourceOffset }> = [];
    const promotions: PromotionUpdate[] = [];
    const weather: WeatherUpdate[] = [];
    const prices: PriceUpdate[] = [];
    const listings: SeriesInfo[] = [];
    const affected: AffectedSeries = new Map();
    const reforecast = o.reforecastOn ?? ALL_INPUTS;
    const touch = (seriesId: string, source: SourceOffset) => {
      const list = affected.get(seriesId);
      if (list) list.push(source);
      else affected.set(seriesId, [source]);
    };

    for (const { event: e, source } of good) {
      if (e.kind === 'sales') {
        sales.push({ seriesId: e.seriesId, eventId: e.eventId, bucket: bucketOf(e.eventTimeMs, o.bucketSize), quantity: e.quantity, eventTimeMs: e.eventTimeMs });
        salesSources.push({ seriesId: e.seriesId, source });
      } else if (e.kind === 'promotion') {
        for (const store of e.stores) {
          promotions.push({
            store,
            promotion: {
              promotionId: e.promotionId,
              kind: e.promotionKind,
              items: e.items,
              categories: e.categories,
              startMs: e.startMs,
              endMs: e.endMs,
              depth: e.depth,
              markdown: e.markdown,
              eventTime: e.eventTimeMs,
            },
          });
        }
        if (reforecast.promotions) for (const s of seriesOfPromotion(e, o.catalog)) touch(s.seriesId, source);
      } else if (e.kind === 'price') {
        prices.push({
          seriesId: e.seriesId,
          eventId: e.eventId,
          fromBucket: bucketOf(e.effectiveMs, o.bucketSize),
          price: e.price,
          regularPrice: e.regularPrice,
          eventTimeMs: e.eventTimeMs,
        });
        // a replayed price change re-forecasts too: the forecast it caused may not have been published
        if (reforecast.prices) touch(e.seriesId, source);
      } else if (e.kind === 'listing') {
        listings.push(e.info);
        // the regular price is the price in force from the listing on (or from the record's day)
        if (e.regularPrice !== null) {
          prices.push({
            seriesId: e.info.seriesId,
            eventId: `catalog@${e.eventTimeMs}`,
            fromBucket: bucketOf(e.listedMs ?? e.eventTimeMs, o.bucketSize),
            price: e.regularPrice,
            regularPrice: e.regularPrice,
            eventTimeMs: e.eventTimeMs,
          });
        }
        // a listing is forecast at once (cold start for an item without sales)
        touch(e.info.seriesId, source);
      } else {
        weather.push({
          scope: e.scope,
          location: e.location,
          bucket: bucketOf(e.dateMs, o.bucketSize),
          weather: { rank: e.observation ? RANK_OBSERVATION : RANK_FORECAST, eventTime: e.eventTimeMs, temperatureC: e.temperatureC, precipitationMm: e.precipitationMm },
        });
        if (reforecast.weather) for (const s of seriesOfWeather(e, o.catalog)) touch(s.seriesId, source);
      }
    }

    // the catalog first: the in-memory index only learns an item once Redis holds it
    if (listings.length > 0) {
      await o.store.putCatalog(listings);
      for (const info of listings) {
        const change = o.catalog.upsert(info);
        o.events.emit('item-listed', { seriesId: info.seriesId, change, listedDate: info.listedDate ?? null });
      }
    }
    const [salesOutcomes] = await Promise.all([
      o.store.applySales(sales),
      o.store.applyPromotions(promotions),
      o.store.applyWeather(weather),
      o.store.applyPrices(prices),
    ]);
    salesOutcomes.forEach((outcome, i) => {
      const { seriesId, source } = salesSources[i]!;
      if (outcome === 'too-old') {
        // older than the window: counted and dropped, it cannot change any forecast
        o.events.emit('sales-too-old', { seriesId, bucket: sales[i]!.bucket });
        return;
      }
      // a duplicate (replay after a crash) still re-forecasts: the forecast it caused may
      // never have been published
      if (outcome === 'duplicate') o.events.emit('sales-duplicate', { seriesId });
      touch(seriesId, source);
    });
    return affected;
  }

  async #decode(record: RawRecord, ctx: ValidationContext): Promise<InputEvent> {
    const o = this.#o;
    if (!record.value) throw new ForecastError('DECODE_FAILED', 'value: record has no value (tombstone); send an Avro event', { field: 'value' });
    if (record.topic === o.topics.sales) return validateSales((await o.codec.decode(record.value, o.readers.sales)) as Record<string, unknown>, ctx);
    if (record.topic === o.topics.promotions) return validatePromotion((await o.codec.decode(record.value, o.readers.promotion)) as Record<string, unknown>, ctx);
    if (record.topic === o.topics.weather) return validateWeather((await o.codec.decode(record.value, o.readers.weather)) as Record<string, unknown>, ctx);
    if (record.topic === o.topics.prices) return validatePrice((await o.codec.decode(record.value, o.readers.price)) as Record<string, unknown>, ctx);
    if (record.topic === o.topics.catalog) return validateCatalog((await o.codec.decode(record.value, o.readers.catalog)) as Record<string, unknown>, ctx);
    throw new ForecastError('DECODE_FAILED', `topic: '${record.topic}' is not an input topic of this processor`, { field: 'topic' });
  }

  async #reject(all: DeadLetter[]): Promise<void> {
    const o = this.#o;
    // a chunk retried after a dependency failure (or replayed after a rewind) meets its bad
    // records again: they were dead-lettered and counted once already
    const at = (b: DeadLetter) => `${b.record.topic}\u0000${b.record.partition}\u0000${b.record.offset}`;
    const bad = all.filter((b) => !this.#rejected.has(at(b)));
    if (bad.length === 0) return;
    for (const b of bad) o.events.emit('record-rejected', { topic: b.record.topic, code: b.error.code, policy: o.policy, field: b.error.field ?? '', reason: b.error.message.slice(0, 300) });
    if (o.policy === 'fail') {
      const first = bad[0]!;
      throw new ForecastError('VALIDATION_FAILED', `bad input at ${first.record.topic}[${first.record.partition}]@${first.record.offset} with policy 'fail': ${first.error.message}`, {
        cause: first.error,
        field: first.error.field,
      });
    }
    if (o.policy === 'dlq') await o.deadLetters.send(bad);
    if (this.#rejected.size > 100_000) this.#rejected.clear();
    for (const b of bad) this.#rejected.add(at(b));
  }
}
