import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { seriesIdOf } from '../../state/catalog.js';
import type { SeriesInfo } from '../../state/state-types.js';
import { InputProducer, inputTopics, type CatalogRecord } from '../../tools/input-producer.js';
import { codecFor, configFrom, kafkaFor, storeFor } from '../cli-context.js';

/** A catalog row: the series and, when the file gives it, the item's regular price. */
export interface CatalogRow extends SeriesInfo {
  regularPrice?: number;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parse a catalog CSV (header store,item,category,region[,department][,regularPrice][,listedDate])
 * or a JSON array of the same. `department` (or `dept`) is optional: the daily model reads it
 * (M5: FOODS_1), the weekly one does not.
 */
export function parseCatalog(text: string, file: string): CatalogRow[] {
  const trimmed = text.trim();
  const rows: Array<Record<string, unknown>> = trimmed.startsWith('[')
    ? (JSON.parse(trimmed) as Array<Record<string, unknown>>)
    : (() => {
        const [head, ...lines] = trimmed.split(/\r\n|\r|\n/);
        const cols = head!.split(',').map((c) => c.trim());
        return lines.filter(Boolean).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v.trim()])));
      })();
  return rows.map((r, n) => {
    for (const f of ['store', 'item', 'category', 'region']) {
      if (typeof r[f] !== 'string' || r[f] === '') throw new Error(`${file}: row ${n + 1}: '${f}' is missing (columns: store,item,category,region)`);
    }
    const s = r as Record<'store' | 'item' | 'category' | 'region', string>;
    const dept = r.department ?? r.dept;
    const info: CatalogRow = { seriesId: seriesIdOf(s.store, s.item), store: s.store, item: s.item, category: s.category, region: s.region };
    if (typeof dept === 'string' && dept !== '') info.department = dept;
    const price = r.regularPrice;
    if (price !== undefined && price !== '') {
      const p = Number(price);
      if (!(p > 0) || !Number.isFinite(p)) throw new Error(`${file}: row ${n + 1}: 'regularPrice' must be a price > 0 (got '${String(price)}')`);
      info.regularPrice = p;
    }
    const listed = r.listedDate;
    if (listed !== undefined && listed !== '') {
      if (typeof listed !== 'string' || !DATE_RE.test(listed)) throw new Error(`${file}: row ${n + 1}: 'listedDate' must be YYYY-MM-DD (got '${String(listed)}')`);
      info.listedDate = listed;
    }
    return info;
  });
}

/** The catalog topic's record for a row (what `catalog load` and the M5 replay publish). */
export function catalogRecord(row: CatalogRow, eventTime: number): CatalogRecord {
  return {
    store: row.store,
    item: row.item,
    category: row.category,
    department: row.department ?? null,
    region: row.region,
    regularPrice: row.regularPrice ?? null,
    listedDate: row.listedDate ?? null,
    eventTime,
  };
}

export function catalogCommand(): Command {
  const cmd = new Command('catalog').description('manage the catalog (series -> store -> region, category, department, regular price, listing date)');
  cmd
    .command('load <file>')
    .description('publish items from a CSV (store,item,category,region[,department][,regularPrice][,listedDate]) or JSON file on the catalog topic (running processors apply them at once) and write them to Redis')
    .option('--no-publish', 'only write Redis (no Kafka needed); running processors pick the items up within 15 s')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (file: string, opts: { config?: string; publish: boolean }) => {
      const config = configFrom(opts);
      const series = parseCatalog(await readFile(file, 'utf8'), file);
      const store = await storeFor(config);
      await store.putCatalog(series);
      await store.close();
      if (opts.publish) {
        const producer = kafkaFor(config, 'catalog').producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        try {
          const input = new InputProducer(producer, codecFor(config), inputTopics(config));
          const now = Date.now();
          for (let i = 0; i < series.length; i += 5_000) {
            await input.send(series.slice(i, i + 5_000).map((row) => ({ topic: 'catalog' as const, value: catalogRecord(row, now) })));
          }
        } finally {
          await producer.disconnect();
        }
      }
      process.stdout.write(`loaded ${series.length} series${opts.publish ? ` and published them on ${config.topicCatalog}` : ''}\n`);
    });
  return cmd;
}
