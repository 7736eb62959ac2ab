import { describe, expect, it } from 'vitest';
import { validatePromotion, validateSales, validateWeather } from '../../../src/ingest/validate-event.js';
import { Catalog } from '../../../src/state/catalog.js';
import type { InputRecord } from '../../../src/tools/input-producer.js';
import { SyntheticGenerator } from '../../../src/tools/synthetic/synthetic-generator.js';

const DAY_MS = 86_400_000;
const make = (seed: number) =>
  new SyntheticGenerator({ seed, stores: 3, itemsPerStore: 10, categories: 5, regions: 2, historyWeeks: 8, liveStartMs: Date.UTC(2026, 0, 3), promotionsPerDay: 0.5 });
const events = (g: SyntheticGenerator, days: number): InputRecord[] => {
  const out = [...g.history()];
  for (let d = 0; d < days; d++) out.push(...g.day(d));
  return out;
};

describe('SyntheticGenerator', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(events(make(7), 20)).toEqual(events(make(7), 20));
    expect(events(make(8), 20)).not.toEqual(events(make(7), 20));
  });

  it('emits one weekly total per series per history week, then valid daily sales, promotions and weather', () => {
    const g = make(3);
    const history = [...g.history()];
    expect(history).toHaveLength(g.catalog.length * 8);
    const ctx = { catalog: new Catalog(g.catalog), nowMs: Date.UTC(2026, 1, 1), maxFutureMs: 2 * DAY_MS };
    const live = [];
    for (let d = 0; d < 20; d++) live.push(...g.day(d));
    const kinds = new Set(live.map((e) => e.topic));
    expect(kinds).toEqual(new Set(['sales', 'promotions', 'weather']));
    for (const e of [...history, ...live]) {
      const raw = e.value as unknown as Record<string, unknown>;
      if (e.topic === 'sales') expect(validateSales(raw, ctx).quantity).toBeGreaterThanOrEqual(0);
      else if (e.topic === 'promotions') expect(validatePromotion(raw, ctx).depth).toBeGreaterThan(0);
      else expect(validateWeather(raw, ctx).observation).toBe(true);
    }
  });

  it('a promotion lifts the sales of the series it covers', () => {
    // same seed twice: one stream keeps its promotions, the other's promotions never start
    const withPromo = make(11);
    const days = 40;
    const all = events(withPromo, days);
    const promos = all.filter((e) => e.topic === 'promotions');
    expect(promos.length).toBeGreaterThan(3);
    const p = promos[0]!;
    if (p.topic !== 'promotions') throw new Error('unreachable');
    const covered = new Set(withPromo.catalog.filter((s) => p.value.stores.includes(s.store) && p.value.categories.includes(s.category)).map((s) => s.seriesId));
    const qtyIn = (from: number, to: number) =>
      all.reduce((sum, e) => (e.topic === 'sales' && covered.has(`${e.value.store}-${e.value.item}`) && e.value.eventTime >= from && e.value.eventTime < to ? sum + e.value.quantity : sum), 0);
    const len = p.value.endTime - p.value.startTime;
    const during = qtyIn(p.value.startTime, p.value.endTime);
    const before = qtyIn(p.value.startTime - len, p.value.startTime);
    expect(during).toBeGreaterThan(before * 1.1);
  });
});
