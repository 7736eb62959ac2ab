import { describe, expect, it } from 'vitest';
import { bucketOf } from '../../../src/inference/features/bucket-clock.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';
import { applyScenario, parseWhatIf, WhatIfError } from '../../../src/inference/what-if.js';

const day = (d: string) => bucketOf(Date.parse(`${d}T12:00:00Z`), 'day');
const live: SeriesSnapshot = {
  seriesId: 'S-1', store: 'S', item: '1', category: 'FOODS', region: 'CA',
  prices: [{ fromBucket: day('2014-01-01'), price: 4 }, { fromBucket: day('2014-07-05'), price: 5 }],
  regularPrice: 4, sales: new Map([[day('2014-06-30'), 3]]), lastSalesBucket: day('2014-06-30'), promotions: [], weather: new Map(),
};
const all = ['sales', 'prices', 'promotions', 'weather'];

describe('applyScenario', () => {
  it('a price cut takes the depth off the price in force on each day of the window, and restores the schedule after it', () => {
    const s = applyScenario(live, parseWhatIf({ series: ['S-1'], priceCut: { depth: 0.25, from: '2014-07-01', to: '2014-07-10' } }), 'day', all);
    expect(s.prices).toEqual([
      { fromBucket: day('2014-01-01'), price: 4 },
      { fromBucket: day('2014-07-01'), price: 3 },
      { fromBucket: day('2014-07-05'), price: 3.75 },
      { fromBucket: day('2014-07-11'), price: 5 },
    ]);
    // the live snapshot is untouched
    expect(live.prices).toHaveLength(2);
  });

  it('absolute prices replace the change of their day, as a later price event would', () => {
    const s = applyScenario(live, parseWhatIf({ series: ['S-1'], prices: [{ effectiveDate: '2014-07-05', price: 2 }, { effectiveDate: '2014-07-20', price: 4 }] }), 'day', all);
    expect(s.prices!.map((p) => p.price)).toEqual([4, 2, 4]);
  });

  it('a promotion adds a span covering its days; weather sets its day; inputs the model does not read stay as they are', () => {
    const q = parseWhatIf({ series: ['S-1'], promotion: { depth: 0.3, from: '2014-07-08', to: '2014-07-14' }, weather: [{ date: '2014-07-02', temperatureC: 35 }] });
    const s = applyScenario(live, q, 'day', all);
    expect(s.promotions).toEqual([{ promotionId: 'what-if', startMs: Date.parse('2014-07-08T00:00:00Z'), endMs: Date.parse('2014-07-15T00:00:00Z'), depth: 0.3, markdown: 0 }]);
    expect(s.weather.get(day('2014-07-02'))).toEqual({ temperatureC: 35, precipitationMm: null });
    const blind = applyScenario(live, q, 'day', ['sales']);
    expect(blind.promotions).toBe(live.promotions);
    expect(blind.weather).toBe(live.weather);
  });
});

describe('parseWhatIf', () => {
  it.each([
    [{ store: 'S', series: ['S-1'], priceCut: { depth: 0.2, from: '2014-07-01', to: '2014-07-02' } }, 'store', /either series or store/],
    [{ series: ['S-1'], promotion: { from: '2014-07-01', to: '2014-07-02' } }, 'promotion.depth', /depth .* or a markdown/],
    [{ series: [], prices: [{ effectiveDate: '2014-07-01', price: 1 }] }, 'series', /.+/],
    [{ series: ['S-1'], prices: [{ effectiveDate: '2014-07-01', price: -1 }] }, 'prices.0.price', /.+/],
  ])('rejects %o naming the field', (body, field, message) => {
    let err: unknown;
    try {
      parseWhatIf(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WhatIfError);
    expect((err as WhatIfError).field).toBe(field);
    expect((err as WhatIfError).message).toMatch(message);
  });
});
