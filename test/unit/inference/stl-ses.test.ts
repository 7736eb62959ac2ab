/**
 * The stl-ses statistical component against its Python reference: test/vectors/stl-ses.json is
 * written by `python -m forecast_training.walmart_stl --vectors` (training/forecast_training/stl_ses.py,
 * itself checked against statsmodels' STL) and checked here against the TypeScript port; the blend
 * is checked against the formula of walmart_stl.blend.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bucketLabel, bucketOf } from '../../../src/inference/features/bucket-clock.js';
import type { SeriesSnapshot } from '../../../src/inference/series-snapshot.js';

const bucketLabelOf = (b: number) => bucketLabel(b, 'week');
import { STL_SES_V1, calendarShift, stl, stlSesForecast } from '../../../src/inference/statistical/stl-ses.js';
import { blendStatistical, statisticalComponentOf, type StatisticalMetadata } from '../../../src/inference/statistical/statistical-component.js';

interface VectorFile {
  component: Record<string, unknown>;
  cases: Array<{ seriesId: string; origin: number; sales: Array<[number, number]>; expected: number[] | null }>;
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const vectors = JSON.parse(readFileSync(`${root}test/vectors/stl-ses.json`, 'utf8')) as VectorFile;

function snapshot(id: string, sales: Array<[number, number]>): SeriesSnapshot {
  return { seriesId: id, store: '1', item: '1', category: '1', region: 'all', sales: new Map(sales), lastSalesBucket: sales.at(-1)?.[0] ?? null, promotions: [], weather: new Map() };
}

describe('stl-ses parity with the Python reference', () => {
  it('the vectors were written with the settings this build implements', () => {
    const c = vectors.component;
    expect(c.method).toBe('stl-ses');
    for (const [k, v] of Object.entries(STL_SES_V1)) expect(c[k]).toEqual(v);
  });

  it.each(vectors.cases.map((c) => [c.seriesId, c] as const))('%s', (_id, c) => {
    const got = stlSesForecast(snapshot(c.seriesId, c.sales), c.origin, 4);
    if (c.expected === null) {
      expect(got).toBeNull();
      return;
    }
    expect(got).not.toBeNull();
    const scale = Math.max(1, ...c.sales.map(([, v]) => Math.abs(v)));
    for (let h = 0; h < 4; h++) expect(Math.abs(got![h]! - c.expected[h]!)).toBeLessThan(1e-9 * scale);
  });

  it('reads nothing after the origin', () => {
    const c = vectors.cases.find((v) => v.expected !== null && v.sales.length > 80)!;
    const later: Array<[number, number]> = [...c.sales, [c.origin + 1, 1e9], [c.origin + 3, -1e9]];
    const a = stlSesForecast(snapshot('a', c.sales), c.origin, 4)!;
    const b = stlSesForecast(snapshot('b', later), c.origin, 4)!;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('STL splits a pure seasonal pattern on a trend into its parts', () => {
    const n = 110;
    const y = new Float64Array(n);
    for (let t = 0; t < n; t++) y[t] = 100 + 0.5 * t + 20 * Math.sin((2 * Math.PI * t) / 52);
    const { season, trend } = stl(y);
    for (let t = 30; t < 80; t++) {
      expect(Math.abs(season[t]! - 20 * Math.sin((2 * Math.PI * t) / 52))).toBeLessThan(1.5);
      expect(Math.abs(trend[t]! - (100 + 0.5 * t))).toBeLessThan(1.5);
    }
  });

  it('calendar shift: the week 52 weeks back ends 1 day (2 across 29 February) after the same date a year back', () => {
    const week = (date: string) => bucketOf(Date.parse(`${date}T12:00:00Z`), 'week');
    expect(bucketLabelOf(week('2011-12-30'))).toBe('2011-12-30');
    expect(calendarShift(week('2011-12-30'))).toBe(1);
    expect(calendarShift(week('2012-02-24'))).toBe(1);
    expect(calendarShift(week('2012-03-02'))).toBe(2);
    expect(calendarShift(week('2013-03-01'))).toBe(1);
  });

  it('no forecast below a season plus the horizons of history, or without sales', () => {
    const short: Array<[number, number]> = Array.from({ length: 55 }, (_, i) => [1000 + i, 10]);
    expect(stlSesForecast(snapshot('s', short), 1054, 4)).toBeNull();
    expect(stlSesForecast(snapshot('s', [...short, [1055, 10]]), 1055, 4)).not.toBeNull();
    expect(stlSesForecast(snapshot('none', []), 1055, 4)).toBeNull();
  });
});

describe('blendStatistical', () => {
  const c = { weight: 0.5, kLo: 0.9, kHi: 1.3 };
  it('averages the medians and keeps the ONNX distances, scaled by k', () => {
    const q = new Float32Array([80, 100, 130, 0, 10, 20]);
    blendStatistical(c, q, 0, 2, [120, -50]);
    expect(q[1]).toBeCloseTo(110, 4);
    expect(q[0]).toBeCloseTo(110 - 0.9 * 20, 4);
    expect(q[2]).toBeCloseTo(110 + 1.3 * 30, 4);
    // a negative component never makes the median or p10 negative; the order holds
    expect(q[4]).toBe(0);
    expect(q[3]).toBe(0);
    expect(q[5]).toBeCloseTo(1.3 * 10, 4);
  });
  it('without a component forecast only the widths are scaled', () => {
    const q = new Float32Array([80, 100, 130]);
    blendStatistical(c, q, 0, 1, null);
    expect(Array.from(q)).toEqual([82, 100, 139]);
  });
  it('refuses settings this build does not implement', () => {
    const meta = { method: 'stl-ses', version: 1, weight: 0.5, kLo: 1, kHi: 1, ...STL_SES_V1, alphas: [...STL_SES_V1.alphas] } as StatisticalMetadata;
    expect(statisticalComponentOf(meta, 'x').lookback).toBe(120);
    expect(() => statisticalComponentOf({ ...meta, seasonal: 7 }, 'x')).toThrow(/this build implements/);
  });
});
