import { ForecastError } from '../core/errors.js';
import type { Catalog } from '../state/catalog.js';
import { seriesIdOf } from '../state/catalog.js';
import type { SeriesInfo } from '../state/state-types.js';
import type { ListingEvent, PriceEvent, PromotionEvent, SalesEvent, WeatherEvent } from './input-events.js';

/**
 * Checks a decoded record and turns it into an input event. Every failure names the
 * field and what the producer should send instead (ForecastError VALIDATION_FAILED,
 * UNKNOWN_SERIES or UNKNOWN_STORE): such records are bad input, not system failures.
 */
export interface ValidationContext {
  catalog: Catalog;
  nowMs: number;
  /** Event times further ahead of the wall clock than this are rejected. */
  maxFutureMs: number;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const FAR_PAST_MS = Date.UTC(1990, 0, 1);

function bad(field: string, message: string): never {
  throw new ForecastError('VALIDATION_FAILED', `${field}: ${message}`, { field });
}

/** Longest id (event, store, item, promotion, location) accepted: a key, not a document. */
export const MAX_ID_CHARS = 256;
/** Most entries in a promotion's store, item or category list. */
export const MAX_LIST_ENTRIES = 100_000;
/** Units of one sale at most (either sign): beyond it a value is a unit or encoding mistake, and Redis sums overflow. */
export const MAX_QUANTITY = 1e9;

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') bad(field, 'must be a non-empty string');
  if (v.length > MAX_ID_CHARS) bad(field, `must be at most ${MAX_ID_CHARS} characters (got ${v.length}); send an id, not a document`);
  return v;
}

function list(v: unknown, field: string, required: boolean): string[] {
  if (v === undefined || v === null) {
    if (required) bad(field, 'must list at least one entry');
    return [];
  }
  if (!Array.isArray(v)) bad(field, 'must be an array of strings');
  if (required && v.length === 0) bad(field, 'must list at least one entry');
  if (v.length > MAX_LIST_ENTRIES) bad(field, `must list at most ${MAX_LIST_ENTRIES} entries (got ${v.length}); split the promotion`);
  for (const [i, e] of v.entries()) text(e, `${field}[${i}]`);
  return v as string[];
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(field, `must be a finite number, got ${String(v)}`);
  return v;
}

function time(v: unknown, field: string, ctx: ValidationContext): number {
  const t = finite(v, field);
  if (t < FAR_PAST_MS) bad(field, `must be epoch milliseconds (got ${t}, before 1990: seconds instead of ms?)`);
  if (t > ctx.nowMs + ctx.maxFutureMs) {
    bad(field, `is ${new Date(t).toISOString()}, more than ${Math.round(ctx.maxFutureMs / 3_600_000)} h in the future; send the time the event happened (epoch ms, UTC)`);
  }
  return t;
}

export function validateSales(raw: Record<string, unknown>, ctx: ValidationContext): SalesEvent {
  const eventId = text(raw.eventId, 'eventId');
  const store = text(raw.store, 'store');
  const item = text(raw.item, 'item');
  const eventTimeMs = time(raw.eventTime, 'eventTime', ctx);
  const quantity = finite(raw.quantity, 'quantity');
  if (Math.abs(quantity) > MAX_QUANTITY) bad('quantity', `must be between -${MAX_QUANTITY} and ${MAX_QUANTITY} units (got ${quantity})`);
  const unitPrice = raw.unitPrice === null || raw.unitPrice === undefined ? null : finite(raw.unitPrice, 'unitPrice');
  if (unitPrice !== null && unitPrice < 0) bad('unitPrice', 'must be >= 0 or null');
  const seriesId = knownSeries(store, item, ctx);
  return { kind: 'sales', eventId, seriesId, store, item, eventTimeMs, quantity, unitPrice };
}

function knownSeries(store: string, item: string, ctx: ValidationContext): string {
  const seriesId = seriesIdOf(store, item);
  if (!ctx.catalog.series(seriesId)) {
    if (!ctx.catalog.hasStore(store)) {
      throw new ForecastError(
        'UNKNOWN_STORE',
        `store: '${store}' is not in the catalog; publish its items on the catalog topic (or \`forecast-stream catalog load\`), then \`forecast-stream dead-letters replay --code UNKNOWN_STORE\``,
        { field: 'store', seriesId },
      );
    }
    throw new ForecastError(
      'UNKNOWN_SERIES',
      `item: series '${seriesId}' (store '${store}', item '${item}') is not in the catalog; publish it on the catalog topic (or \`forecast-stream catalog load\`), then \`forecast-stream dead-letters replay --code UNKNOWN_SERIES\``,
      {
        field: 'item',
        seriesId,
      },
    );
  }
  return seriesId;
}

/** Prices above this are a unit mistake (cents as currency units, an id in the price field). */
export const MAX_PRICE = 1e7;
/** An announced price further ahead than this is a date mistake. */
const MAX_PRICE_LEAD_MS = 400 * 86_400_000;

function price(v: unknown, field: string): number {
  const p = finite(v, field);
  if (!(p > 0) || p > MAX_PRICE) bad(field, `must be a price in currency units, > 0 and <= ${MAX_PRICE} (got ${p})`);
  return p;
}

export function validatePrice(raw: Record<string, unknown>, ctx: ValidationContext): PriceEvent {
  const eventId = text(raw.eventId, 'eventId');
  const store = text(raw.store, 'store');
  const item = text(raw.item, 'item');
  const p = price(raw.price, 'price');
  const regularPrice = raw.regularPrice === null || raw.regularPrice === undefined ? null : price(raw.regularPrice, 'regularPrice');
  const date = text(raw.effectiveDate, 'effectiveDate');
  const effectiveMs = Date.parse(`${date}T12:00:00Z`);
  if (!DATE_RE.test(date) || Number.isNaN(effectiveMs)) bad('effectiveDate', `must be a calendar date YYYY-MM-DD (got '${date}')`);
  const eventTimeMs = time(raw.eventTime, 'eventTime', ctx);
  if (effectiveMs > eventTimeMs + MAX_PRICE_LEAD_MS) {
    bad('effectiveDate', `is ${date}, more than 400 days after eventTime; send the first day the price is in force`);
  }
  const seriesId = knownSeries(store, item, ctx);
  return { kind: 'price', eventId, seriesId, store, item, price: p, regularPrice, effectiveMs, eventTimeMs };
}

/** Listing dates further than this from the record's eventTime are mistakes (a year of lead at most). */
const MAX_LISTING_LEAD_MS = 400 * 86_400_000;

export function validateCatalog(raw: Record<string, unknown>, ctx: ValidationContext): ListingEvent {
  const store = text(raw.store, 'store');
  const item = text(raw.item, 'item');
  const category = text(raw.category, 'category');
  const department = raw.department === null || raw.department === undefined ? undefined : text(raw.department, 'department');
  let region = raw.region === null || raw.region === undefined ? undefined : text(raw.region, 'region');
  region ??= ctx.catalog.regionOfStore(store);
  if (region === undefined) bad('region', `store '${store}' is new to the catalog: send its region (the state or area whose weather and SNAP days apply)`);
  const regularPrice = raw.regularPrice === null || raw.regularPrice === undefined ? null : price(raw.regularPrice, 'regularPrice');
  const eventTimeMs = time(raw.eventTime, 'eventTime', ctx);
  let listedMs: number | null = null;
  let listedDate: string | undefined;
  if (raw.listedDate !== null && raw.listedDate !== undefined) {
    listedDate = text(raw.listedDate, 'listedDate');
    listedMs = Date.parse(`${listedDate}T12:00:00Z`);
    if (!DATE_RE.test(listedDate) || Number.isNaN(listedMs)) bad('listedDate', `must be a calendar date YYYY-MM-DD (got '${listedDate}')`);
    if (listedMs > eventTimeMs + MAX_LISTING_LEAD_MS) bad('listedDate', `is ${listedDate}, more than 400 days after eventTime; send the first day the item is on sale`);
  }
  const info: SeriesInfo = { seriesId: seriesIdOf(store, item), store, item, category, region };
  if (department !== undefined) info.department = department;
  if (listedDate !== undefined) info.listedDate = listedDate;
  return { kind: 'listing', info, regularPrice, listedMs, eventTimeMs };
}

export function validatePromotion(raw: Record<string, unknown>, ctx: ValidationContext): PromotionEvent {
  const promotionId = text(raw.promotionId, 'promotionId');
  const promotionKind = text(raw.kind, 'kind');
  const stores = list(raw.stores, 'stores', true);
  for (const s of stores) {
    if (!ctx.catalog.hasStore(s)) {
      throw new ForecastError('UNKNOWN_STORE', `stores: '${s}' is not in the catalog; load it first or remove it from the promotion`, { field: 'stores' });
    }
  }
  const items = list(raw.items, 'items', false);
  const categories = list(raw.categories, 'categories', false);
  const startMs = finite(raw.startTime, 'startTime');
  const endMs = finite(raw.endTime, 'endTime');
  if (endMs <= startMs) bad('endTime', `must be after startTime (${new Date(startMs).toISOString()})`);
  const depth = raw.discountDepth === null || raw.discountDepth === undefined ? 0 : finite(raw.discountDepth, 'discountDepth');
  if (depth < 0 || depth > 1) bad('discountDepth', `must be a fraction in [0, 1] (got ${depth}; 20% off is 0.2)`);
  const markdown = raw.markdownAmount === null || raw.markdownAmount === undefined ? 0 : finite(raw.markdownAmount, 'markdownAmount');
  if (markdown < 0) bad('markdownAmount', 'must be >= 0');
  const eventTimeMs = time(raw.eventTime, 'eventTime', ctx);
  return { kind: 'promotion', promotionId, promotionKind, stores, items, categories, startMs, endMs, depth, markdown, eventTimeMs };
}

export function validateWeather(raw: Record<string, unknown>, ctx: ValidationContext): WeatherEvent {
  const eventId = text(raw.eventId, 'eventId');
  const scope = raw.scope;
  if (scope !== 'store' && scope !== 'region') bad('scope', `must be 'store' or 'region' (got ${String(scope)})`);
  const location = text(raw.location, 'location');
  if (scope === 'store' && !ctx.catalog.hasStore(location)) {
    throw new ForecastError('UNKNOWN_STORE', `location: store '${location}' is not in the catalog; load it first`, { field: 'location' });
  }
  if (scope === 'region' && !ctx.catalog.hasRegion(location)) {
    throw new ForecastError('UNKNOWN_STORE', `location: region '${location}' has no store in the catalog; load the catalog first`, { field: 'location' });
  }
  const date = text(raw.date, 'date');
  const dateMs = Date.parse(`${date}T12:00:00Z`);
  if (!DATE_RE.test(date) || Number.isNaN(dateMs)) bad('date', `must be a calendar date YYYY-MM-DD (got '${date}')`);
  const kind = raw.kind;
  if (kind !== 'observation' && kind !== 'forecast') bad('kind', `must be 'observation' or 'forecast' (got ${String(kind)})`);
  const t = raw.temperatureC === null || raw.temperatureC === undefined ? null : finite(raw.temperatureC, 'temperatureC');
  if (t !== null && (t < -90 || t > 60)) bad('temperatureC', `must be degrees Celsius in [-90, 60] (got ${t}; Fahrenheit?)`);
  const p = raw.precipitationMm === null || raw.precipitationMm === undefined ? null : finite(raw.precipitationMm, 'precipitationMm');
  if (p !== null && p < 0) bad('precipitationMm', 'must be >= 0 mm');
  const eventTimeMs = time(raw.eventTime, 'eventTime', ctx);
  return { kind: 'weather', eventId, scope, location, dateMs, observation: kind === 'observation', temperatureC: t, precipitationMm: p, eventTimeMs };
}
