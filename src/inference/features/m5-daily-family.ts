/**
 * Builds the `m5-daily` features (docs/features-m5-daily.md): 28 rows of 48 floats per
 * series (one per day ahead), from the sales window, the shelf-price schedule, the event
 * and SNAP calendar shipped with the model (`calendar.json`) and the attribute codes in its
 * model.json. `training/forecast_training/m5/features.py` is the reference implementation;
 * test/vectors/features-m5-daily.json checks this one against it bit for bit.
 *
 * On the hot path: per series the sales and prices are copied once into dense arrays
 * (400 + 28 days), so the 28 rows are array reads, not map lookups.
 *
 * Serving adds one rule the M5 data never exercises: a promotion event with a discount depth
 * lowers the price in force on the days it covers (price x (1 - depth)), and a regular price
 * sent with a price event stands in where no shelf price is known, so a flash promotion moves the daily model
 * through the price features it learned from real price cuts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SeriesSnapshot } from '../series-snapshot.js';
import type { FeatureFamily } from './feature-family.js';
import {
  M5_AGE_COLUMN,
  M5_DAILY_FEATURE_COUNT as F,
  M5_DAILY_HORIZONS as H,
  M5_DAILY_LOOKBACK as L,
  M5_DAILY_NAMES,
  M5_DAILY_SPEC_HASH,
  M5_DAILY_SPEC_VERSION,
  M5_EVENT_NAMES as EVENT_NAMES,
  M5_EVENT_TYPES as EVENT_TYPES,
  M5_EWM_ALPHAS_MILLI,
  M5_MEAN_WINDOWS,
  M5_SCALE_COLUMN,
} from './m5-daily-spec.js';
import { fillPricesInForce } from './price-schedule.js';

export const M5_DAILY = 'm5-daily';

const DAY_MS = 86_400_000;
/** Price days kept per series: o-363 (the 364-day reference) .. o+28. */
const PRICE_BACK = 363;
const PRICE_SPAN = PRICE_BACK + 1 + H;

export interface M5Calendar {
  firstDay: number;
  /** Bit k set: the day has an event of EVENT_TYPES[k]. */
  events: Uint8Array;
  /** SNAP flags per state code name. */
  snap: Map<string, Uint8Array>;
  /** v2: 1 + index in M5_EVENT_NAMES of the day's first event name; 0 = none (or a name the spec does not know). */
  eventId: Uint8Array;
}

export interface M5Codes {
  store: Record<string, number>;
  dept: Record<string, number>;
  category: Record<string, number>;
  state: Record<string, number>;
}

interface CalendarDoc {
  firstDay: number;
  states: string[];
  days: Array<{ day: number; events: string[]; names?: string[]; snap: Record<string, number> }>;
}

export function parseM5Calendar(doc: CalendarDoc): M5Calendar {
  const n = doc.days.length;
  const events = new Uint8Array(n);
  const snap = new Map(doc.states.map((s) => [s, new Uint8Array(n)]));
  const eventId = new Uint8Array(n);
  for (const d of doc.days) {
    const i = d.day - doc.firstDay;
    if (i < 0 || i >= n) throw new Error(`calendar day ${d.day} outside ${doc.firstDay}..${doc.firstDay + n - 1}`);
    for (const t of d.events) {
      const k = EVENT_TYPES.indexOf(t);
      if (k < 0) throw new Error(`calendar day ${d.day}: unknown event type '${t}' (known: ${EVENT_TYPES.join(', ')})`);
      events[i]! |= 1 << k;
    }
    for (const [s, flags] of snap) flags[i] = d.snap[s] ? 1 : 0;
    const first = d.names?.[0];
    if (first !== undefined) eventId[i] = EVENT_NAMES.indexOf(first) + 1; // -1 + 1 = 0: unknown name
  }
  return { firstDay: doc.firstDay, events, snap, eventId };
}

function code(map: Record<string, number>, key: string | undefined): number {
  if (key === undefined) return -1;
  const v = map[key];
  return v === undefined ? -1 : v;
}

/** Reusable scratch buffers (one builder per family instance; the processor builds batches one at a time). */
class Scratch {
  readonly sales = new Float64Array(L); // sales[i] = S(o - i)
  readonly price = new Float64Array(PRICE_SPAN); // price[i] = P(o - 363 + i), NaN unknown
}

export function m5DailyFamily(calendar: M5Calendar, codes: M5Codes): FeatureFamily {
  const scratch = new Scratch();
  const eventsOn = (day: number): number => {
    const i = day - calendar.firstDay;
    return i >= 0 && i < calendar.events.length ? calendar.events[i]! : 0;
  };
  const eventIdOn = (day: number): number => {
    const i = day - calendar.firstDay;
    return i >= 0 && i < calendar.eventId.length ? calendar.eventId[i]! : 0;
  };
  const snapOn = (state: string, day: number): number => {
    const flags = calendar.snap.get(state);
    const i = day - calendar.firstDay;
    return flags && i >= 0 && i < flags.length ? flags[i]! : 0;
  };

  const build = (snap: SeriesSnapshot, o: number, out: Float32Array, offset: number): void => {
    if (offset < 0 || offset + H * F > out.length) throw new RangeError(`feature rows at ${offset} do not fit a buffer of ${out.length}`);
    const S = scratch.sales;
    S.fill(0);
    for (const [d, v] of snap.sales) {
      const i = o - d;
      if (i >= 0 && i < L) S[i] = v;
    }
    const first = snap.firstSaleBucket ?? null;
    const age = first === null ? 0 : Math.min(L, Math.max(0, o - first + 1));
    const eff = (w: number) => Math.max(1, Math.min(w, age));
    const sumBack = (w: number) => {
      let s = 0;
      for (let i = 0; i < w; i++) s += S[i]!;
      return s;
    };
    const scale = Math.max(sumBack(56) / eff(56), 0.1);
    const means = M5_MEAN_WINDOWS.map((w) => sumBack(w) / eff(w) / scale);
    let daysSinceSale = L;
    for (let k = 0; k < L; k++) {
      if (S[k]! > 0) {
        daysSinceSale = k;
        break;
      }
    }
    const e28 = eff(28);
    let zeros = 0;
    for (let k = 0; k < e28; k++) if (S[k]! <= 0) zeros++;
    const zeroShare = zeros / e28;
    // v2 per-series features (the reference's float64 operations in its order)
    const nEwm = Math.max(1, Math.min(L, age));
    const ewm = M5_EWM_ALPHAS_MILLI.map((a) => {
      const c = (1000 - a) / 1000;
      let w = 1;
      let num = 0;
      let den = 0;
      for (let k = 0; k < nEwm; k++) {
        num += w * S[k]!;
        den += w;
        w = w * c;
      }
      return num / den / scale;
    });
    let sumR = 0;
    let maxR = 0;
    let nz = 0;
    for (let k = 0; k < 28; k++) {
      const v = S[k]!;
      sumR += v;
      if (k === 0 || v > maxR) maxR = v;
      if (v > 0) nz++;
    }
    const meanR = sumR / e28;
    let varR = 0;
    for (let k = 0; k < e28; k++) {
      const dv = S[k]! - meanR;
      varR += dv * dv;
    }
    const std28 = Math.sqrt(varR / e28) / scale;
    const max28 = maxR / scale;
    const nzMean28 = sumR / Math.max(1, nz) / scale;
    let lyBase = -1;
    if (first !== null && o - 391 >= first) {
      let s = 0;
      for (let k = 364; k <= 391; k++) s += S[k]!;
      lyBase = s / 28 / scale;
    }
    const at = (d: number) => {
      const i = o - d;
      return i >= 0 && i < L ? S[i]! : 0;
    };

    // prices in force o-363 .. o+28
    const P = scratch.price;
    const base = o - PRICE_BACK;
    fillPricesInForce(snap.prices ?? [], base, P);
    // serving only (M5 has neither): a regular price stands in where no shelf price is known
    const regular = snap.regularPrice ?? null;
    if (regular !== null && regular > 0) for (let i = 0; i < PRICE_SPAN; i++) if (P[i] !== P[i]) P[i] = regular;
    applyPromotions(snap, P, base);
    const priceOn = (d: number) => P[d - base]!;
    const maxPrice = (a: number, b: number) => {
      let m = Number.NaN;
      for (let d = a; d <= b; d++) {
        const q = P[d - base]!;
        if (q === q && !(q <= m)) m = q;
      }
      return m;
    };
    const pOrigin = priceOn(o);
    const maxRef = maxPrice(o - PRICE_BACK, o);

    const cStore = code(codes.store, snap.store);
    const cDept = code(codes.dept, snap.department);
    const cCat = code(codes.category, snap.category);
    const cState = code(codes.state, snap.region);

    for (let h = 1; h <= H; h++) {
      const t = o + h;
      const r = offset + (h - 1) * F;
      const date = new Date(t * DAY_MS);
      out[r] = h;
      out[r + 1] = (((t + 3) % 7) + 7) % 7;
      out[r + 2] = date.getUTCDate();
      out[r + 3] = date.getUTCMonth() + 1;
      out[r + 4] = scale;
      for (let j = 0; j < 7; j++) out[r + 5 + j] = S[j]! / scale;
      for (let j = 0; j < 5; j++) out[r + 12 + j] = means[j]!;
      const d1 = t - 7 * Math.ceil(h / 7);
      out[r + 17] = at(d1) / scale;
      for (const [col, n] of [[18, 4], [19, 12]] as const) {
        let sum = 0;
        let c = 0;
        for (let j = 0; j < n; j++) {
          sum += at(d1 - 7 * j);
          if (first !== null && d1 - 7 * j >= first) c++;
        }
        out[r + col] = sum / Math.max(1, c) / scale;
      }
      if (first === null || t - 364 < first) out[r + 20] = -1;
      else {
        let sum = 0;
        for (let j = -3; j <= 3; j++) sum += at(t - 364 + j);
        out[r + 20] = sum / 7 / scale;
      }
      out[r + 21] = age;
      out[r + 22] = daysSinceSale;
      out[r + 23] = zeroShare;
      const pt = priceOn(t);
      const known = pt === pt;
      out[r + 24] = known ? Math.log(pt) : -10;
      const m56 = maxPrice(t - 56, t - 1);
      out[r + 25] = known && m56 === m56 ? 1.0 - pt / m56 : -1;
      out[r + 26] = known && pOrigin === pOrigin ? pt / pOrigin : -1;
      out[r + 27] = known && maxRef === maxRef ? pt / maxRef : -1;
      const ev = eventsOn(t);
      for (let j = 0; j < 4; j++) out[r + 28 + j] = (ev >> j) & 1;
      out[r + 32] = snapOn(snap.region, t);
      let toEvent = 7;
      for (let j = 0; j < 7; j++) {
        if (eventsOn(t + j) !== 0) {
          toEvent = j;
          break;
        }
      }
      out[r + 33] = toEvent;
      out[r + 34] = cStore;
      out[r + 35] = cDept;
      out[r + 36] = cCat;
      out[r + 37] = cState;
      out[r + 38] = eventIdOn(t);
      out[r + 39] = eventIdOn(t - 1);
      out[r + 40] = eventIdOn(t + 1);
      out[r + 41] = daysToXmas(t);
      out[r + 42] = ewm[0]!;
      out[r + 43] = ewm[1]!;
      out[r + 44] = std28;
      out[r + 45] = max28;
      out[r + 46] = nzMean28;
      out[r + 47] = lyBase;
    }
  };

  const family: FeatureFamily = {
    id: M5_DAILY,
    bucketSize: 'day',
    specVersion: M5_DAILY_SPEC_VERSION,
    specHash: M5_DAILY_SPEC_HASH,
    names: M5_DAILY_NAMES,
    featureCount: F,
    rowsPerSeries: H,
    // M5 has no weather: the family has no weather feature
    inputs: ['sales', 'prices', 'promotions'],
    horizons: H,
    lookback: L,
    build,
    driftScale(features, offset) {
      // the training reference holds series with at least a year of history
      if (features[offset + M5_AGE_COLUMN]! < 364) return Number.NaN;
      return features[offset + M5_SCALE_COLUMN]!;
    },
  };
  return Object.freeze(family);
}

/** Signed days from the nearest Dec 25 (positive after it), clipped to +-14 (spec `xmasClip`). */
function daysToXmas(t: number): number {
  const y = new Date(t * DAY_MS).getUTCFullYear();
  let best = Number.POSITIVE_INFINITY;
  for (const yy of [y - 1, y, y + 1]) {
    const d = t - Date.UTC(yy, 11, 25) / DAY_MS;
    if (Math.abs(d) < Math.abs(best)) best = d;
  }
  return Math.max(-14, Math.min(14, best));
}

/**
 * A promotion with a discount depth lowers the price in force on the days it covers (the
 * deepest one wins; an unknown price stays unknown). Promotion
 * spans are epoch ms, [start, end): a day counts when the span overlaps it.
 */
function applyPromotions(snap: SeriesSnapshot, P: Float64Array, base: number): void {
  const promos = snap.promotions;
  if (promos.length === 0) return;
  for (let i = 0; i < P.length; i++) {
    const dayStart = (base + i) * DAY_MS;
    let depth = 0;
    for (const pr of promos) if (pr.depth > depth && pr.startMs < dayStart + DAY_MS && pr.endMs > dayStart) depth = pr.depth;
    if (depth <= 0) continue;
    P[i] = P[i]! * (1 - depth); // unknown stays unknown
  }
}

/** The family of a model artifact: its calendar file and attribute codes. */
export async function loadM5DailyFamily(m: { calendarFile?: unknown; codes?: unknown; [k: string]: unknown }, dir: string): Promise<FeatureFamily> {
  const file = typeof m.calendarFile === 'string' ? m.calendarFile : 'calendar.json';
  let doc: CalendarDoc;
  try {
    doc = JSON.parse(await readFile(join(dir, file), 'utf8')) as CalendarDoc;
  } catch (cause) {
    throw new Error(`m5-daily: cannot read the model's calendar ${join(dir, file)}: ${(cause as Error).message}`, { cause });
  }
  const codes = m.codes as M5Codes | undefined;
  for (const k of ['store', 'dept', 'category', 'state'] as const) {
    if (!codes || typeof codes[k] !== 'object') throw new Error(`m5-daily: model.json has no codes.${k} (attribute codes the model was trained with)`);
  }
  return m5DailyFamily(parseM5Calendar(doc), codes!);
}
