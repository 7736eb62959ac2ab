import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadWalmartReplay, REPLAY_LOOKAHEAD_WEEKS } from '../../../src/tools/walmart/walmart-replay.js';
import type { InputRecord } from '../../../src/tools/input-producer.js';

const DIR = fileURLToPath(new URL('../../fixtures/walmart-mini/', import.meta.url));
const trainRows = readFileSync(`${DIR}/train.csv`, 'utf8').trim().split('\n').length - 1;

describe('Walmart replay', () => {
  it('turns every train.csv row into one sales event, in event-time order, with a catalog of store-dept series', async () => {
    const r = await loadWalmartReplay(DIR);
    const all: InputRecord[] = r.weeks.flatMap((w) => r.eventsOfWeek(w));
    const sales = all.filter((e) => e.topic === 'sales');
    expect(sales).toHaveLength(trainRows);
    expect(new Set(sales.map((e) => e.value.eventId)).size).toBe(trainRows);
    const times = sales.map((e) => e.value.eventTime);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(r.catalog.length).toBe(new Set(sales.map((e) => (e.topic === 'sales' ? `${e.value.store}-${e.value.item}` : ''))).size);
    expect(r.catalog.every((s) => ['A', 'B', 'C', 'all'].includes(s.region))).toBe(true);
  });

  it('derives markdown promotions and Celsius weather, announced ahead of their week', async () => {
    const r = await loadWalmartReplay(DIR);
    const all = r.weeks.flatMap((w) => r.eventsOfWeek(w));
    const promos = all.filter((e) => e.topic === 'promotions');
    expect(promos.length).toBeGreaterThan(0); // the fixture has MarkDowns from 2011-11-11
    for (const p of promos) {
      if (p.topic !== 'promotions') continue;
      expect(p.value.markdownAmount!).toBeGreaterThan(0);
      expect(p.value.items).toEqual([]);
      expect(p.value.eventTime).toBeLessThan(p.value.startTime); // announced before it starts
      expect(p.value.startTime - p.value.eventTime).toBeLessThan((REPLAY_LOOKAHEAD_WEEKS + 1) * 7 * 86_400_000);
    }
    const obs = all.filter((e) => e.topic === 'weather' && e.value.kind === 'observation');
    const first = obs[0];
    expect(first?.topic === 'weather' && first.value.date).toBe('2010-02-05');
    // 42.31 °F in the fixture's first row for store 1
    expect(first?.topic === 'weather' && first.value.temperatureC).toBeCloseTo(5.7, 1);
  });

  it('plays only the weeks asked for', async () => {
    const r = await loadWalmartReplay(DIR, '2011-01-01', '2011-03-31');
    const sales = r.weeks.flatMap((w) => r.eventsOfWeek(w)).filter((e) => e.topic === 'sales');
    expect(sales.length).toBeGreaterThan(0);
    for (const s of sales) if (s.topic === 'sales') expect(new Date(s.value.eventTime).toISOString().slice(0, 10) >= '2011-01-01').toBe(true);
  });
});
