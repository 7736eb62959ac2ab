/**
 * Real feature rows for the GPU benchmark of the trained model: Walmart series at many
 * forecast origins, built by the processor's own code (WalmartDataset.snapshotAt →
 * buildFeatures), written as raw little-endian float32 [rows, FEATURE_COUNT] plus a JSON
 * description beside it. bench.mjs tiles them to reach batches larger than `rows`.
 *
 *   npx vite-node bench/gpu/make-trained-rows.ts -- DATA_DIR OUT.f32 [MAX_ROWS]
 *
 * DATA_DIR holds train.csv / features.csv / stores.csv (../shared/data/walmart2014, or
 * test/fixtures/walmart-mini for a small set). A row is kept when the series sold something in
 * the 52 weeks up to the origin (a series serving would forecast). Origins run from a year after
 * the first week to 4 weeks before the last; when there are more candidates than MAX_ROWS
 * (default 65,536) an evenly spaced subset is kept, in (origin, series) order.
 */
import { writeFileSync } from 'node:fs';
import { buildFeatures } from '../../src/inference/features/build-features.js';
import { FEATURE_COUNT, FEATURE_SPEC_HASH, FEATURE_SPEC_VERSION } from '../../src/inference/features/feature-spec.js';
import { WalmartDataset } from '../../src/tools/walmart/walmart-data.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const [dataDir, outFile, maxArg] = args;
if (!dataDir || !outFile) {
  console.error('usage: make-trained-rows.ts DATA_DIR OUT.f32 [MAX_ROWS]');
  process.exit(2);
}
const maxRows = Number(maxArg ?? 65_536);

const data = await WalmartDataset.load(dataDir);
const firstOrigin = data.firstWeek + 52;
const lastOrigin = data.lastWeek - 4;
const pairs: Array<[string, number]> = [];
for (let origin = firstOrigin; origin <= lastOrigin; origin++) {
  for (const id of data.seriesIds) {
    let active = false;
    for (let w = origin - 51; w <= origin && !active; w++) active = (data.actual(id, w) ?? 0) !== 0;
    if (active) pairs.push([id, origin]);
  }
}
if (pairs.length === 0) throw new Error(`no series with a year of history in ${dataDir}`);
const n = Math.min(maxRows, pairs.length);
const x = new Float32Array(n * FEATURE_COUNT);
const origins = new Set<number>();
const series = new Set<string>();
for (let i = 0; i < n; i++) {
  const [id, origin] = pairs[Math.floor((i * pairs.length) / n)]!;
  buildFeatures(data.snapshotAt(id, origin), origin, 'week', x, i * FEATURE_COUNT);
  origins.add(origin);
  series.add(id);
}
let nonFinite = 0;
for (const v of x) if (!Number.isFinite(v)) nonFinite++;
if (nonFinite > 0) throw new Error(`${nonFinite} non-finite feature values`);
writeFileSync(outFile, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
const meta = {
  rows: n,
  features: FEATURE_COUNT,
  featureSpecVersion: FEATURE_SPEC_VERSION,
  featureSpecHash: FEATURE_SPEC_HASH,
  source: dataDir.replace(/.*\/(?=[^/]+\/?$)/, ''),
  candidates: pairs.length,
  series: series.size,
  origins: origins.size,
  originWeeks: [Math.min(...origins), Math.max(...origins)],
};
writeFileSync(outFile.replace(/\.f32$/, '') + '.json', JSON.stringify(meta, null, 2));
console.log(`wrote ${outFile}: ${JSON.stringify(meta)}`);
