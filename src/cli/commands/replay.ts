import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { InputProducer, inputTopics, type InputRecord } from '../../tools/input-producer.js';
import { M5Dataset } from '../../tools/m5/m5-data.js';
import { loadM5Replay } from '../../tools/m5/m5-replay.js';
import { play } from '../../tools/stream-player.js';
import { loadWalmartReplay } from '../../tools/walmart/walmart-replay.js';
import type { SeriesInfo } from '../../state/state-types.js';
import type { Config } from '../../ops/config.js';
import { codecFor, configFrom, kafkaFor, progressLine, settingsFor, storeFor } from '../cli-context.js';

/** The M5 sample the repository carries (data/m5-sample, see its README). */
export const M5_SAMPLE = fileURLToPath(new URL('../../../data/m5-sample/', import.meta.url));

interface Replayable {
  catalog: SeriesInfo[];
  count: number;
  describe: string;
  records(): Generator<InputRecord>;
}

/** The events of a dataset in event-time order, with its catalog. */
export async function replayOf(dataset: string, dir: string, from?: string, to?: string): Promise<Replayable> {
  if (dataset === 'm5') {
    const r = loadM5Replay(M5Dataset.load(dir), from, to);
    return {
      catalog: r.catalog,
      count: r.count,
      describe: `${r.catalog.length} series, ${r.days.length} days (daily sales totals, price changes announced 28 days ahead)`,
      records: r.records,
    };
  }
  if (dataset === 'walmart') {
    const r = await loadWalmartReplay(dir, from, to);
    return {
      catalog: r.catalog,
      count: r.count,
      describe: `${r.catalog.length} series, ${r.weeks.length} weeks`,
      *records() {
        for (const w of r.weeks) yield* r.eventsOfWeek(w);
      },
    };
  }
  throw new InvalidArgumentError(`--dataset must be m5 or walmart (got '${dataset}')`);
}

/** The dataset's bucket size must be the configured model's (the model decides: FS_MODEL). */
export async function checkDatasetModel(dataset: string, config: Config): Promise<void> {
  const want = dataset === 'm5' ? 'day' : 'week';
  const { bucketSize } = await settingsFor(config);
  if (bucketSize !== want) {
    throw new InvalidArgumentError(`the ${dataset} data is ${want === 'day' ? 'daily' : 'weekly'} but model '${config.modelName}' forecasts ${bucketSize}s: ` +
      `set FS_MODEL=${dataset === 'm5' ? 'm5-daily-gbm' : 'walmart-gbm (or walmart-mlp)'}`);
  }
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('play a dataset into the input topics in event-time order (M5: daily sales and price changes; Walmart: weekly sales, markdowns, weather); loads the catalog first')
    .option('--dataset <m5|walmart>', 'the data format', 'm5')
    .option('--data <dir>', 'folder with the files (default: m5 -> the sample in data/m5-sample, walmart -> ../shared/data/walmart2014)')
    .option('--from <date>', 'first day (m5) or sales week (walmart) to play, YYYY-MM-DD')
    .option('--to <date>', 'last day or week to play, YYYY-MM-DD')
    .option('--rate <n>', 'events per second (0 = as fast as the broker takes them)', '0')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: { dataset: string; data?: string; from?: string; to?: string; rate: string; config?: string }) => {
      const config = configFrom(opts);
      await checkDatasetModel(opts.dataset, config);
      const dir = resolve(opts.data ?? (opts.dataset === 'm5' ? M5_SAMPLE : '../shared/data/walmart2014'));
      const replay = await replayOf(opts.dataset, dir, opts.from, opts.to);
      const store = await storeFor(config);
      await store.putCatalog(replay.catalog);
      await store.close();
      process.stderr.write(`replay: ${replay.describe}, about ${replay.count} events from ${dir}\n`);
      const producer = kafkaFor(config, 'replay').producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        const input = new InputProducer(producer, codecFor(config), inputTopics(config));
        const progress = progressLine('replay');
        const started = Date.now();
        const sent = await play(replay.records(), input, { rate: Number(opts.rate), onProgress: (n) => progress(Math.min(n, replay.count), replay.count) });
        const secs = (Date.now() - started) / 1000;
        process.stdout.write(`replayed ${sent} events in ${secs.toFixed(1)} s (${(sent / Math.max(secs, 1e-3)).toFixed(0)} events/s)\n`);
      } finally {
        await producer.disconnect();
      }
    });
}
