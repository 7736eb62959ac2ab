/**
 * Feature parity with the Python training pipeline: test/vectors/features.json is written
 * by training/forecast_training/make_vectors.py (numpy + datetime) and checked here against
 * the production TypeScript builder, and by training/tests against the Python one.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BucketSize } from '../../../src/inference/features/bucket-clock.js';
import { buildFeatures } from '../../../src/inference/features/build-features.js';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC, FEATURE_SPEC_HASH } from '../../../src/inference/features/feature-spec.js';
import type { SeriesSnapshot, PromotionSpan, WeatherPoint } from '../../../src/inference/series-snapshot.js';
import { WalmartDataset } from '../../../src/tools/walmart/walmart-data.js';

interface RawSnapshot {
  seriesId: string;
  store: string;
  item: string;
  category: string;
  region: string;
  sales: Array<[number, number]>;
  lastSalesBucket: number | null;
  promotions: PromotionSpan[];
  weather: Array<[number, WeatherPoint]>;
}

interface VectorFile {
  specHash: string;
  spec: unknown;
  names: string[];
  tolerance: { abs: number; rel: number };
  cases: Array<{ name: string; bucketSize: BucketSize; origin: number; snapshot: RawSnapshot; expected: number[] }>;
  walmart: { dataDir: string; cases: Array<{ seriesId: string; origin: number; originDate: string; expected: number[] }> };
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const vectors = JSON.parse(readFileSync(`${root}test/vectors/features.json`, 'utf8')) as VectorFile;

function toSnapshot(raw: RawSnapshot): SeriesSnapshot {
  return { ...raw, sales: new Map(raw.sales), weather: new Map(raw.weather) };
}

function expectClose(actual: Float32Array, offset: number, expected: number[], label: string): void {
  const { abs, rel } = vectors.tolerance;
  for (let i = 0; i < FEATURE_COUNT; i++) {
    const a = actual[offset + i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= abs + rel * Math.abs(e))) {
      throw new Error(`${label}: feature ${i} (${FEATURE_NAMES[i]}) is ${a}, expected ${e}`);
    }
  }
}

describe('feature spec parity', () => {
  it('has the spec and hash the Python side generated the vectors with', () => {
    expect(vectors.names).toEqual([...FEATURE_NAMES]);
    expect(JSON.parse(JSON.stringify(FEATURE_SPEC))).toEqual(vectors.spec);
    expect(FEATURE_SPEC_HASH).toBe(vectors.specHash);
  });
});

describe('buildFeatures against the shared vectors', () => {
  it.each(vectors.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    // Write into the middle of a larger buffer: the builder must honour the offset.
    const out = new Float32Array(FEATURE_COUNT * 3).fill(Number.NaN);
    buildFeatures(toSnapshot(c.snapshot), c.origin, c.bucketSize, out, FEATURE_COUNT);
    expectClose(out, FEATURE_COUNT, c.expected, c.name);
    expect(Number.isNaN(out[0]!) && Number.isNaN(out[2 * FEATURE_COUNT]!)).toBe(true);
  });

  it('covers week and day buckets, holidays and promotions', () => {
    const holidayCol = FEATURE_NAMES.indexOf('holiday_h1');
    const sizes = new Set(vectors.cases.map((c) => c.bucketSize));
    const anyHoliday = vectors.cases.some((c) => c.expected.slice(holidayCol, holidayCol + 4).some((v) => v === 1));
    expect(sizes).toEqual(new Set(['week', 'day']));
    expect(anyHoliday).toBe(true);
  });
});

describe('Walmart mapping parity (fixture CSVs -> snapshot -> features)', async () => {
  const data = await WalmartDataset.load(`${root}${vectors.walmart.dataDir}`);
  it('builds the vectors the Python loader builds for every fixture series and origin', () => {
    expect(vectors.walmart.cases.length).toBeGreaterThan(0);
    const out = new Float32Array(FEATURE_COUNT);
    for (const c of vectors.walmart.cases) {
      buildFeatures(data.snapshotAt(c.seriesId, c.origin), c.origin, 'week', out, 0);
      expectClose(out, 0, c.expected, `${c.seriesId} @ ${c.originDate}`);
    }
  });
});
