import { bucketEndMs, bucketOf, bucketStartMs } from '../../inference/features/bucket-clock.js';
import type { SeriesInfo } from '../../state/state-types.js';
import { seriesIdOf } from '../../state/catalog.js';
import type { InputRecord, PromotionRecord } from '../input-producer.js';
import { normal, poisson, seededRandom } from './seeded-random.js';

const DAY_MS = 86_400_000;

export interface SyntheticOptions {
  seed: number;
  stores: number;
  itemsPerStore: number;
  categories: number;
  regions: number;
  /** Weeks of weekly history before the live days (the model needs a season of it). */
  historyWeeks: number;
  /** First live day, epoch ms at midnight UTC. */
  liveStartMs: number;
  /** Chance per day that a new promotion is announced. */
  promotionsPerDay: number;
}

interface SeriesModel {
  info: SeriesInfo;
  level: number;
  dayOfWeek: number[];
  annualAmp: number;
  /** Sells only in its season (garden, heating, holiday goods): zero for months. */
  seasonalOnly: boolean;
  /** Growth per year (0.1 = +10 %). */
  trend: number;
  annualPhase: number;
  tempSensitivity: number;
  promoElasticity: number;
}

/**
 * A seeded synthetic retail stream: daily SKU-level sales with weekly seasonality, an
 * annual cycle, promotion lift (elasticity x depth) and a weather effect (temperature
 * sensitivity per category). Same seed, same events, byte for byte.
 */
export class SyntheticGenerator {
  readonly catalog: SeriesInfo[];
  readonly #o: SyntheticOptions;
  readonly #rand: () => number;
  readonly #series: SeriesModel[];
  readonly #storeTemp = new Map<string, number>();
  readonly #todayTemp = new Map<string, number>();
  readonly #promos: PromotionRecord[] = [];
  #promoSeq = 0;

  constructor(options: SyntheticOptions) {
    this.#o = options;
    this.#rand = seededRandom(options.seed);
    const r = this.#rand;
    this.#series = [];
    for (let s = 1; s <= options.stores; s++) {
      const store = `S${String(s).padStart(3, '0')}`;
      const region = `R${((s - 1) % options.regions) + 1}`;
      this.#storeTemp.set(store, 5 + r() * 15);
      for (let i = 1; i <= options.itemsPerStore; i++) {
        const item = `SKU${String(i).padStart(5, '0')}`;
        const category = `C${((i - 1) % options.categories) + 1}`;
        const weekendBoost = 0.2 + r() * 0.6;
        // a retail-like mix: mostly steady items, some strongly seasonal ones, some slow movers
        const kind = r();
        this.#series.push({
          info: { seriesId: seriesIdOf(store, item), store, item, category, region },
          level: kind < 0.15 ? Math.exp(-0.5 + r() * 1.5) : Math.exp(1 + r() * 2.5),
          dayOfWeek: [1, 0.85, 0.85, 0.9, 1, 1 + weekendBoost, 1 + weekendBoost * 0.8],
          annualAmp: kind > 0.7 ? 0.7 + r() * 0.3 : 0.03 + r() * 0.15,
          trend: (r() - 0.5) * 0.2,
          seasonalOnly: kind > 0.88,
          annualPhase: r() * 2 * Math.PI,
          tempSensitivity: (Number(category.slice(1)) % 2 === 0 ? 1 : -1) * r() * 0.02,
          promoElasticity: 1 + r() * 2,
        });
      }
    }
    this.catalog = this.#series.map((m) => m.info);
  }

  /** One sales event per series per week (a weekly total), for the weeks before the live days. */
  *history(): Generator<InputRecord> {
    const { historyWeeks, liveStartMs } = this.#o;
    for (let w = historyWeeks; w >= 1; w--) {
      // the w-th whole week (Saturday..Friday) before the week of the first live day
      const week = bucketOf(liveStartMs, 'week') - w;
      const dayMs = bucketStartMs(week, 'week');
      const weekEnd = bucketEndMs(week, 'week');
      for (const m of this.#series) {
        let qty = 0;
        for (let d = 0; d < 7; d++) qty += this.#expected(m, dayMs + d * DAY_MS, 1);
        yield {
          topic: 'sales',
          // a weekly total, stamped on the week's last day (Friday) so the week reads as complete
          value: { eventId: `h-${m.info.seriesId}-${w}`, store: m.info.store, item: m.info.item, eventTime: weekEnd - 12 * 3_600_000, quantity: poisson(this.#rand, qty), unitPrice: null },
        };
      }
    }
  }

  /** Events of live day `d` (0-based): weather first, new promotions, then every series' sales. */
  *day(d: number): Generator<InputRecord> {
    const dayMs = this.#o.liveStartMs + d * DAY_MS;
    const date = new Date(dayMs).toISOString().slice(0, 10);
    const r = this.#rand;
    for (const [store, base] of this.#storeTemp) {
      const t = base + 10 * Math.sin((2 * Math.PI * dayOfYear(dayMs)) / 365.25 - 1.8) + 2 * normal(r);
      this.#todayTemp.set(store, t);
      yield {
        topic: 'weather',
        value: { eventId: `wx-${store}-${date}`, scope: 'store', location: store, date, kind: 'observation', temperatureC: round(t, 1), precipitationMm: round(Math.max(0, normal(r) * 3), 1), eventTime: dayMs + 20 * 3_600_000 },
      };
    }
    if (r() < this.#o.promotionsPerDay) yield { topic: 'promotions', value: this.#newPromotion(dayMs) };
    for (const m of this.#series) {
      const qty = poisson(r, this.#expected(m, dayMs, 1));
      if (qty === 0) continue;
      yield {
        topic: 'sales',
        value: { eventId: `d-${m.info.seriesId}-${date}`, store: m.info.store, item: m.info.item, eventTime: dayMs + 18 * 3_600_000, quantity: qty, unitPrice: round(2 + m.level, 2) },
      };
    }
  }

  #newPromotion(dayMs: number): PromotionRecord {
    const r = this.#rand;
    const stores = [...this.#storeTemp.keys()].filter(() => r() < 0.5);
    if (stores.length === 0) stores.push([...this.#storeTemp.keys()][0]!);
    const category = `C${1 + Math.floor(r() * this.#o.categories)}`;
    const depth = round(0.1 + r() * 0.3, 2);
    const start = dayMs + (1 + Math.floor(r() * 5)) * DAY_MS;
    const p: PromotionRecord = {
      promotionId: `P${String(++this.#promoSeq).padStart(5, '0')}-${this.#o.seed}`,
      kind: 'discount',
      stores,
      items: [],
      categories: [category],
      startTime: start,
      endTime: start + (3 + Math.floor(r() * 7)) * DAY_MS,
      discountDepth: depth,
      markdownAmount: null,
      eventTime: dayMs + 9 * 3_600_000,
    };
    this.#promos.push(p);
    return p;
  }

  #expected(m: SeriesModel, dayMs: number, scale: number): number {
    const dow = new Date(dayMs).getUTCDay();
    const wave = Math.sin((2 * Math.PI * dayOfYear(dayMs)) / 365.25 + m.annualPhase);
    const annual = m.seasonalOnly ? 3 * Math.max(0, wave) ** 2 : 1 + m.annualAmp * wave;
    const temp = this.#todayTemp.get(m.info.store) ?? this.#storeTemp.get(m.info.store) ?? 15;
    const weather = Math.max(0.3, 1 + m.tempSensitivity * (temp - 15));
    let promo = 1;
    for (const p of this.#promos) {
      if (dayMs >= p.startTime && dayMs < p.endTime && p.stores.includes(m.info.store) && p.categories.includes(m.info.category)) {
        promo = Math.max(promo, 1 + m.promoElasticity * (p.discountDepth ?? 0));
      }
    }
    const growth = Math.exp((m.trend * (dayMs - this.#o.liveStartMs)) / (365.25 * DAY_MS));
    return scale * holidayLift(dayMs) * m.level * growth * m.dayOfWeek[dow]! * (m.seasonalOnly ? annual : Math.max(0.02, annual)) * weather * promo;
  }
}

/** The year-end rush: the weeks before Christmas and Thanksgiving week sell more. */
function holidayLift(ms: number): number {
  const d = new Date(ms);
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  if (month === 11 && day >= 8 && day <= 24) return 2;
  if (month === 10 && day >= 22 && day <= 29) return 1.5;
  return 1;
}

function dayOfYear(ms: number): number {
  const d = new Date(ms);
  return (ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
