import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { seriesIdOf } from '../../state/catalog.js';
import type { SeriesInfo } from '../../state/state-types.js';
import { configFrom, storeFor } from '../cli-context.js';

/**
 * Parse a catalog CSV (header store,item,category,region[,department]) or a JSON array of the
 * same. `department` (or `dept`) is optional: the daily model reads it (M5: FOODS_1), the
 * weekly one does not.
 */
export function parseCatalog(text: string, file: string): SeriesInfo[] {
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
    const info: SeriesInfo = { seriesId: seriesIdOf(s.store, s.item), store: s.store, item: s.item, category: s.category, region: s.region };
    if (typeof dept === 'string' && dept !== '') info.department = dept;
    return info;
  });
}

export function catalogCommand(): Command {
  const cmd = new Command('catalog').description('manage the catalog (series -> store -> region, category)');
  cmd
    .command('load <file>')
    .description('add series from a CSV (store,item,category,region[,department]) or JSON file; running processors pick them up within 15 s')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (file: string, opts: { config?: string }) => {
      const config = configFrom(opts);
      const series = parseCatalog(await readFile(file, 'utf8'), file);
      const store = await storeFor(config);
      await store.putCatalog(series);
      await store.close();
      process.stdout.write(`loaded ${series.length} series\n`);
    });
  return cmd;
}
