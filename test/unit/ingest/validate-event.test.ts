import { describe, expect, it } from 'vitest';
import { ForecastError } from '../../../src/core/errors.js';
import { validateCatalog, validatePrice, validatePromotion, validateSales, validateWeather } from '../../../src/ingest/validate-event.js';
import { Catalog } from '../../../src/state/catalog.js';

const now = Date.UTC(2024, 5, 1);
const ctx = {
  catalog: new Catalog([{ seriesId: '1-10', store: '1', item: '10', category: 'food', region: 'north' }]),
  nowMs: now,
  maxFutureMs: 86_400_000,
};
const goodSale = { eventId: 'e', store: '1', item: '10', eventTime: now - 1000, quantity: 2, unitPrice: 1.5 };

function errorOf(fn: () => unknown): ForecastError {
  try {
    fn();
  } catch (e) {
    return e as ForecastError;
  }
  throw new Error('expected a validation error');
}

describe('validateSales', () => {
  it('accepts a good sale and derives the series id', () => {
    expect(validateSales(goodSale, ctx)).toMatchObject({ kind: 'sales', seriesId: '1-10', quantity: 2 });
  });

  it('accepts returns (negative quantity)', () => {
    expect(validateSales({ ...goodSale, quantity: -3 }, ctx).quantity).toBe(-3);
  });

  it.each([
    [{ quantity: Number.NaN }, 'quantity', /finite number/],
    [{ quantity: Number.POSITIVE_INFINITY }, 'quantity', /finite number/],
    [{ eventTime: now + 3 * 86_400_000 }, 'eventTime', /in the future/],
    [{ eventTime: 1_700_000_000 }, 'eventTime', /seconds instead of ms/],
    [{ eventId: '' }, 'eventId', /non-empty/],
    [{ unitPrice: -1 }, 'unitPrice', />= 0/],
  ])('rejects %o naming the field', (patch, field, message) => {
    const err = errorOf(() => validateSales({ ...goodSale, ...patch }, ctx));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('tells an unknown store from an unknown item of a known store', () => {
    expect(errorOf(() => validateSales({ ...goodSale, store: '9' }, ctx)).code).toBe('UNKNOWN_STORE');
    const e = errorOf(() => validateSales({ ...goodSale, item: '99' }, ctx));
    expect(e.code).toBe('UNKNOWN_SERIES');
    expect(e.message).toMatch(/catalog topic/);
    expect(e.message).toMatch(/dead-letters replay --code UNKNOWN_SERIES/);
    expect(e.seriesId).toBe('1-99');
  });
});

describe('validateCatalog', () => {
  const good = { store: '1', item: '11', category: 'food', department: 'food_1', region: null, regularPrice: 2.5, listedDate: '2024-06-10', eventTime: now - 1000 };
  it('accepts a listing, taking the region of a known store', () => {
    expect(validateCatalog(good, ctx)).toMatchObject({
      kind: 'listing',
      info: { seriesId: '1-11', store: '1', item: '11', category: 'food', department: 'food_1', region: 'north', listedDate: '2024-06-10' },
      regularPrice: 2.5,
      listedMs: Date.parse('2024-06-10T12:00:00Z'),
    });
  });
  it('leaves department and listing date out when the record has none', () => {
    const e = validateCatalog({ ...good, department: null, listedDate: null }, ctx);
    expect(e.info).not.toHaveProperty('department');
    expect(e.info).not.toHaveProperty('listedDate');
    expect(e.listedMs).toBeNull();
  });
  it.each([
    [{ store: 'new', region: null }, 'region', /new to the catalog: send its region/],
    [{ category: '' }, 'category', /non-empty/],
    [{ regularPrice: 0 }, 'regularPrice', /> 0/],
    [{ listedDate: '10/06/2024' }, 'listedDate', /YYYY-MM-DD/],
    [{ listedDate: '2026-01-01' }, 'listedDate', /more than 400 days after eventTime/],
    [{ item: 'x'.repeat(300) }, 'item', /at most 256 characters/],
  ])('rejects %o naming the field', (patch, field, message) => {
    const err = errorOf(() => validateCatalog({ ...good, ...patch }, ctx));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });
});

describe('validatePromotion', () => {
  const good = { promotionId: 'p', kind: 'flash', stores: ['1'], items: [], categories: ['food'], startTime: now, endTime: now + 1000, discountDepth: 0.2, markdownAmount: null, eventTime: now };
  it('accepts a good promotion', () => {
    expect(validatePromotion(good, ctx)).toMatchObject({ depth: 0.2, markdown: 0, stores: ['1'] });
  });
  it('rejects a depth given in percent, an inverted window and an empty store list', () => {
    expect(errorOf(() => validatePromotion({ ...good, discountDepth: 20 }, ctx)).message).toMatch(/discountDepth: .*0.2/);
    expect(errorOf(() => validatePromotion({ ...good, endTime: now - 1 }, ctx)).field).toBe('endTime');
    expect(errorOf(() => validatePromotion({ ...good, stores: [] }, ctx)).field).toBe('stores');
    expect(errorOf(() => validatePromotion({ ...good, stores: ['1', 'x'] }, ctx)).code).toBe('UNKNOWN_STORE');
  });
});

describe('validateWeather', () => {
  const good = { eventId: 'w', scope: 'region', location: 'north', date: '2024-06-02', kind: 'forecast', temperatureC: 20, precipitationMm: 0, eventTime: now };
  it('accepts a region forecast', () => {
    expect(validateWeather(good, ctx)).toMatchObject({ scope: 'region', observation: false });
  });
  it('rejects Fahrenheit-looking temperatures, bad dates and unknown regions', () => {
    expect(errorOf(() => validateWeather({ ...good, temperatureC: 95 }, ctx)).message).toMatch(/Fahrenheit/);
    expect(errorOf(() => validateWeather({ ...good, date: '2024-13-40' }, ctx)).field).toBe('date');
    expect(errorOf(() => validateWeather({ ...good, location: 'south' }, ctx)).code).toBe('UNKNOWN_STORE');
    expect(errorOf(() => validateWeather({ ...good, kind: 'guess' }, ctx)).field).toBe('kind');
  });
});

describe('validatePrice', () => {
  const goodPrice = { eventId: 'p', store: '1', item: '10', price: 2.49, regularPrice: 2.99, effectiveDate: '2024-06-10', eventTime: now - 1000 };

  it('accepts a price change announced ahead, at noon UTC of its first day', () => {
    expect(validatePrice(goodPrice, ctx)).toMatchObject({ kind: 'price', seriesId: '1-10', price: 2.49, regularPrice: 2.99, effectiveMs: Date.UTC(2024, 5, 10, 12) });
    expect(validatePrice({ ...goodPrice, regularPrice: null }, ctx).regularPrice).toBeNull();
  });

  it.each([
    [{ price: 0 }, 'price', /> 0/],
    [{ price: Number.NaN }, 'price', /finite number/],
    [{ price: 1e9 }, 'price', /<= 10000000/],
    [{ regularPrice: -2 }, 'regularPrice', /> 0/],
    [{ effectiveDate: '10/06/2024' }, 'effectiveDate', /YYYY-MM-DD/],
    [{ effectiveDate: '2026-01-01' }, 'effectiveDate', /400 days after eventTime/],
    [{ eventTime: now + 3 * 86_400_000 }, 'eventTime', /in the future/],
  ])('rejects %o naming the field', (patch, field, message) => {
    const err = errorOf(() => validatePrice({ ...goodPrice, ...patch }, ctx));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('rejects a price for an item the catalog does not list', () => {
    const err = errorOf(() => validatePrice({ ...goodPrice, item: '99' }, ctx));
    expect(err.code).toBe('UNKNOWN_SERIES');
    expect(err.field).toBe('item');
  });
});

describe('input size and range limits', () => {
  it('rejects ids longer than 256 characters, quantities beyond 1e9 and oversized promotion lists, naming the field', () => {
    expect(errorOf(() => validateSales({ ...goodSale, item: 'X'.repeat(400_000) }, ctx)).message).toMatch(/^item: must be at most 256 characters \(got 400000\)/);
    expect(errorOf(() => validateSales({ ...goodSale, quantity: 1.7e308 }, ctx)).field).toBe('quantity');
    expect(errorOf(() => validateSales({ ...goodSale, quantity: -2e9 }, ctx)).message).toMatch(/between -1000000000 and 1000000000/);
    expect(validateSales({ ...goodSale, quantity: 1e9 }, ctx).quantity).toBe(1e9);
    const promo = { promotionId: 'p', kind: 'flash', stores: ['1'], items: [], categories: [], startTime: now, endTime: now + 1000, discountDepth: 0.2, markdownAmount: null, eventTime: now - 1 };
    expect(errorOf(() => validatePromotion({ ...promo, items: Array.from({ length: 100_001 }, (_, i) => `i${i}`) }, ctx)).message).toMatch(/^items: must list at most 100000 entries/);
    expect(errorOf(() => validatePromotion({ ...promo, categories: ['ok', 'C'.repeat(300)] }, ctx)).field).toBe('categories[1]');
    expect(errorOf(() => validatePromotion({ ...promo, stores: 'S1' as never }, ctx)).message).toMatch(/stores: must be an array/);
  });
});
