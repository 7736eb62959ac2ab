import { z } from 'zod';
import { ForecastError } from '../core/errors.js';
import type { Catalog } from '../state/catalog.js';
import type { SeriesInfo } from '../state/state-types.js';
import { bucketOf, type BucketSize } from './features/bucket-clock.js';
import { fillPricesInForce } from './features/price-schedule.js';
import type { Forecast, HorizonForecast } from './forecast.js';
import type { Forecaster } from './forecaster.js';
import type { PriceChange, SeriesSnapshot, WeatherPoint } from './series-snapshot.js';

const DAY_MS = 86_400_000;
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'must be a real calendar date');
const id = z.string().min(1).max(256);

/** Most series one request may name or select (a large catalog's store, or a category across it). */
export const MAX_WHAT_IF_SERIES = 100_000;
/** Above this many series the answer carries only the totals unless `detail: "series"` asks. */
export const DETAIL_LIMIT = 1_000;

export const whatIfRequestSchema = z
  .object({
    /** Series ids (`<store>-<item>`); or select with store (+ category). */
    series: z.array(id).min(1).max(MAX_WHAT_IF_SERIES).optional(),
    store: id.optional(),
    category: id.optional(),
    /** Absolute shelf-price changes, as price events would set them (every selected series). */
    prices: z.array(z.object({ effectiveDate: date, price: z.number().positive().max(10_000_000) }).strict()).min(1).max(400).optional(),
    /** `depth` off the shelf price in force on each day from..to (inclusive), per series. */
    priceCut: z.object({ depth: z.number().gt(0, 'must be a fraction in (0, 1): 0.2 = 20% off').lt(1, 'must be a fraction in (0, 1), less than 1: 0.2 = 20% off'), from: date, to: date }).strict().optional(),
    /** A promotion over the selected series for the days from..to (inclusive), as a promotion event. */
    promotion: z.object({ depth: z.number().min(0, 'must be a fraction in [0, 1]: 0.2 = 20% off').max(1, 'must be a fraction in [0, 1]: 0.2 = 20% off').optional(), markdown: z.number().min(0).optional(), from: date, to: date }).strict().optional(),
    /** Weather per day for the selected series' stores, as weather reports would set it. */
    weather: z
      .array(z.object({ date, temperatureC: z.number().min(-80).max(70).nullable().optional(), precipitationMm: z.number().min(0).max(2_000).nullable().optional() }).strict())
      .min(1)
      .max(400)
      .optional(),
    /** `series`: every series' baseline and scenario; `total`: only the sums (default above 1,000 series). */
    detail: z.enum(['series', 'total']).optional(),
  })
  .strict();

export type WhatIfRequest = z.infer<typeof whatIfRequestSchema>;

export interface WhatIfSeries {
  seriesId: string;
  store: string;
  item: string;
  originDate: string;
  source: { baseline: Forecast['source']; scenario: Forecast['source'] };
  baseline: HorizonForecast[];
  scenario: HorizonForecast[];
  /** Scenario p50 minus baseline p50, per horizon. */
  deltaP50: number[];
}

export interface WhatIfTotal {
  bucketDates: string[];
  baselineP50: number[];
  scenarioP50: number[];
  deltaP50: number[];
  /** Sums over the horizons of the p50 sums, and their relative change. */
  baselineTotal: number;
  scenarioTotal: number;
  change: number | null;
}

export interface WhatIfAnswer {
  model: { name: string; version: string };
  seriesCount: number;
  /** Changes the loaded model learned no effect from (not applied: they would change nothing). */
  ignored: string[];
  /** Sources of the scenario forecasts (primary, cold_start, fallback while the breaker is open). */
  sources: Record<string, number>;
  total: WhatIfTotal;
  series?: WhatIfSeries[];
  elapsedMs: number;
}

/** A bad what-if question: the field and the fix, answered with HTTP 400 (404 for unknown series). */
export class WhatIfError extends Error {
  constructor(
    readonly status: 400 | 404,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export function parseWhatIf(body: unknown): WhatIfRequest {
  const r = whatIfRequestSchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join('.') || 'body';
    throw new WhatIfError(400, field, issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}; see docs/what-if.md` : issue.message);
  }
  const q = r.data;
  if (!q.series && !q.store) throw new WhatIfError(400, 'series', 'name series (["<store>-<item>", ...]) or a store (and optionally a category)');
  if (q.series && (q.store || q.category)) throw new WhatIfError(400, 'store', 'give either series or store/category, not both');
  if (q.category && !q.store) throw new WhatIfError(400, 'store', 'a category is selected within a store: give the store too');
  if (!q.prices && !q.priceCut && !q.promotion && !q.weather) throw new WhatIfError(400, 'prices', 'ask about something: prices, priceCut, promotion or weather');
  for (const [field, w] of [['priceCut', q.priceCut], ['promotion', q.promotion]] as const) {
    if (w && w.to < w.from) throw new WhatIfError(400, `${field}.to`, `must be on or after ${field}.from (${w.from})`);
  }
  if (q.promotion && !q.promotion.depth && !q.promotion.markdown) throw new WhatIfError(400, 'promotion.depth', 'give a depth (0.2 = 20% off) or a markdown amount');
  return q;
}

const noon = (d: string) => Date.parse(`${d}T12:00:00Z`);

/** The price in force on bucket b by a schedule (ascending), else the regular price, else null. */
function priceOn(changes: readonly PriceChange[], b: number, regular: number | null): number | null {
  const p = fillPricesInForce(changes, b, new Float64Array(1))[0]!;
  return Number.isNaN(p) ? regular : p;
}

function withChange(changes: readonly PriceChange[], c: PriceChange): PriceChange[] {
  const out = changes.filter((x) => x.fromBucket !== c.fromBucket);
  out.push(c);
  return out.sort((a, b) => a.fromBucket - b.fromBucket);
}

/**
 * The hypothetical snapshot: the live one with the question's changes applied the way the
 * state would apply the same events (a price change replaces the one of its day, a promotion
 * adds a span, a weather report sets its day). Pure: the live snapshot is not touched.
 */
export function applyScenario(live: SeriesSnapshot, q: WhatIfRequest, bucketSize: BucketSize, inputs: readonly string[]): SeriesSnapshot {
  const s: SeriesSnapshot = { ...live };
  if (inputs.includes('prices')) {
    let prices = [...(live.prices ?? [])];
    for (const p of q.prices ?? []) prices = withChange(prices, { fromBucket: bucketOf(noon(p.effectiveDate), bucketSize), price: p.price });
    if (q.priceCut) {
      const from = bucketOf(noon(q.priceCut.from), bucketSize);
      const to = bucketOf(noon(q.priceCut.to), bucketSize);
      const regular = live.regularPrice ?? null;
      const after = priceOn(prices, to + 1, regular);
      const start = priceOn(prices, from, regular);
      if (start !== null) {
        const k = 1 - q.priceCut.depth;
        const cut = prices.map((c) => (c.fromBucket > from && c.fromBucket <= to ? { fromBucket: c.fromBucket, price: c.price * k } : c));
        prices = withChange(cut, { fromBucket: from, price: start * k });
        if (after !== null) prices = withChange(prices, { fromBucket: to + 1, price: after });
      }
    }
    s.prices = prices;
  }
  if (q.promotion && inputs.includes('promotions')) {
    s.promotions = [
      ...live.promotions,
      { promotionId: 'what-if', startMs: Date.parse(`${q.promotion.from}T00:00:00Z`), endMs: Date.parse(`${q.promotion.to}T00:00:00Z`) + DAY_MS, depth: q.promotion.depth ?? 0, markdown: q.promotion.markdown ?? 0 },
    ];
  }
  if (q.weather && inputs.includes('weather')) {
    const weather = new Map<number, WeatherPoint>(live.weather);
    for (const w of q.weather) weather.set(bucketOf(noon(w.date), bucketSize), { temperatureC: w.temperatureC ?? null, precipitationMm: w.precipitationMm ?? null });
    s.weather = weather;
  }
  return s;
}

/** Does this series have a price to cut? (a cut of an unknown price changes nothing: say so) */
function hasPrice(s: SeriesSnapshot, bucket: number): boolean {
  return priceOn(s.prices ?? [], bucket, s.regularPrice ?? null) !== null;
}

interface Queued {
  infos: SeriesInfo[];
  q: WhatIfRequest;
  resolve: (r: { live: SeriesSnapshot[]; out: Forecast[] }) => void;
  reject: (e: unknown) => void;
}

export interface WhatIfOptions {
  forecaster: Forecaster;
  catalog: Catalog;
  bucketSize: BucketSize;
  /** Series per model call (the live batch size). */
  batchSize: number;
}

/**
 * What-if: the live model on the live state with hypothetical inputs, next to the forecast
 * without them. Writes no state and publishes nothing. Concurrent questions share model
 * calls: while one call runs, the next questions queue and go together in the next one.
 */
export class WhatIf {
  readonly #o: WhatIfOptions;
  readonly #queue: Queued[] = [];
  #draining = false;

  constructor(options: WhatIfOptions) {
    this.#o = options;
  }

  async ask(body: unknown): Promise<WhatIfAnswer> {
    const started = performance.now();
    const q = parseWhatIf(body);
    const o = this.#o;
    const infos = this.#select(q);
    const model = o.forecaster.model;
    const inputs = model.inputs;
    const ignored: string[] = [];
    if ((q.prices || q.priceCut) && !inputs.includes('prices')) ignored.push(`prices: model ${model.name} learned no price effect; prices not applied`);
    if (q.promotion && !inputs.includes('promotions')) ignored.push(`promotion: model ${model.name} learned no promotion effect; not applied`);
    if (q.weather && !inputs.includes('weather')) ignored.push(`weather: model ${model.name} learned no weather effect (docs/model.md); not applied`);
    const detail = q.detail ?? (infos.length <= DETAIL_LIMIT ? 'series' : 'total');

    const series: WhatIfSeries[] = [];
    const sources: Record<string, number> = {};
    let total: WhatIfTotal | null = null;
    let noPrice = 0;
    for (let i = 0; i < infos.length; i += o.batchSize) {
      const chunk = infos.slice(i, i + o.batchSize);
      const { live, out } = await this.#run(chunk, q);
      if (q.priceCut && inputs.includes('prices')) noPrice += live.filter((s) => !hasPrice(s, bucketOf(noon(q.priceCut!.from), o.bucketSize))).length;
      for (let k = 0; k < chunk.length; k++) {
        const b = out[k]!;
        const s = out[k + chunk.length]!;
        sources[s.source] = (sources[s.source] ?? 0) + 1;
        total = addTotal(total, b, s);
        if (detail === 'series') {
          series.push({
            seriesId: b.seriesId,
            store: b.store,
            item: b.item,
            originDate: b.originDate,
            source: { baseline: b.source, scenario: s.source },
            baseline: b.horizons,
            scenario: s.horizons,
            deltaP50: s.horizons.map((h, j) => h.p50 - b.horizons[j]!.p50),
          });
        }
      }
    }
    if (noPrice > 0) ignored.push(`priceCut: ${noPrice} series have no known price (no price event, no regular price); their scenario is unchanged`);
    const t = total!;
    const answer: WhatIfAnswer = { model: { name: model.name, version: model.version }, seriesCount: infos.length, ignored, sources, total: t, elapsedMs: 0 };
    if (detail === 'series') answer.series = series;
    answer.elapsedMs = Math.round((performance.now() - started) * 100) / 100;
    return answer;
  }

  #select(q: WhatIfRequest): SeriesInfo[] {
    const c = this.#o.catalog;
    if (q.series) {
      const out: SeriesInfo[] = [];
      for (const [i, id] of q.series.entries()) {
        const info = c.series(id);
        if (!info) throw new WhatIfError(404, `series[${i}]`, `'${id}' is not in the catalog (ids are <store>-<item>)`);
        out.push(info);
      }
      return out;
    }
    if (!c.hasStore(q.store!)) throw new WhatIfError(404, 'store', `'${q.store}' is not in the catalog`);
    const out = q.category ? c.seriesOfStoreCategory(q.store!, q.category) : c.seriesOfStore(q.store!);
    if (out.length === 0) throw new WhatIfError(404, 'category', `store '${q.store}' has no series in category '${q.category}'`);
    if (out.length > MAX_WHAT_IF_SERIES) throw new WhatIfError(400, 'store', `selects ${out.length} series, more than ${MAX_WHAT_IF_SERIES}; add a category`);
    return [...out];
  }

  /**
   * The baseline and scenario forecasts of one chunk of a question: `out` holds the chunk's
   * baselines, then its scenarios. Everything queued while the previous call ran goes together:
   * one state read, one model call (split back per question).
   */
  #run(infos: SeriesInfo[], q: WhatIfRequest): Promise<{ live: SeriesSnapshot[]; out: Forecast[] }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ infos, q, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const take: Queued[] = [];
        let n = 0;
        // up to a live batch of series per call (two rows sets each: baseline and scenario)
        while (this.#queue.length > 0 && (take.length === 0 || n + this.#queue[0]!.infos.length <= this.#o.batchSize)) {
          const next = this.#queue.shift()!;
          take.push(next);
          n += next.infos.length;
        }
        try {
          const o = this.#o;
          const inputs = o.forecaster.model.inputs;
          let refused: string | null = null;
          const live = await o.forecaster.readSnapshots(
            take.flatMap((t) => t.infos),
            (id, reason) => (refused ??= `${id}: ${reason}`),
          );
          if (refused !== null) throw new ForecastError('STATE_REJECTED', `state of a series asked about cannot be read: ${refused}`);
          const snaps: SeriesSnapshot[] = [];
          const infos: SeriesInfo[] = [];
          let at = 0;
          const lives: SeriesSnapshot[][] = [];
          for (const t of take) {
            const mine = live.slice(at, at + t.infos.length);
            at += t.infos.length;
            lives.push(mine);
            snaps.push(...mine, ...mine.map((s) => applyScenario(s, t.q, o.bucketSize, inputs)));
            infos.push(...t.infos, ...t.infos);
          }
          const out = await o.forecaster.forecastSnapshots(snaps, infos, [], 'what-if');
          at = 0;
          take.forEach((t, i) => {
            t.resolve({ live: lives[i]!, out: out.slice(at, at + 2 * t.infos.length) });
            at += 2 * t.infos.length;
          });
        } catch (err) {
          for (const t of take) t.reject(err);
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}

function addTotal(t: WhatIfTotal | null, b: Forecast, s: Forecast): WhatIfTotal {
  const h = b.horizons.length;
  const out = t ?? { bucketDates: b.horizons.map((x) => x.bucketDate), baselineP50: new Array<number>(h).fill(0), scenarioP50: new Array<number>(h).fill(0), deltaP50: new Array<number>(h).fill(0), baselineTotal: 0, scenarioTotal: 0, change: null };
  // series of one question may start from different days: totals are by horizon (days ahead of each origin)
  for (let j = 0; j < h; j++) {
    out.baselineP50[j]! += b.horizons[j]!.p50;
    out.scenarioP50[j]! += s.horizons[j]!.p50;
    out.deltaP50[j] = out.scenarioP50[j]! - out.baselineP50[j]!;
    out.baselineTotal += b.horizons[j]!.p50;
    out.scenarioTotal += s.horizons[j]!.p50;
  }
  out.change = out.baselineTotal > 0 ? out.scenarioTotal / out.baselineTotal - 1 : null;
  return out;
}

