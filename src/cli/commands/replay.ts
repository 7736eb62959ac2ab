import { resolve } from 'node:path';
import { Command } from 'commander';
import { InputProducer, inputTopics, type InputRecord } from '../../tools/input-producer.js';
import { play } from '../../tools/stream-player.js';
import { loadWalmartReplay } from '../../tools/walmart/walmart-replay.js';
import { codecFor, configFrom, kafkaFor, progressLine, storeFor } from '../cli-context.js';

export function replayCommand(): Command {
  return new Command('replay')
    .description('play Walmart-format CSVs (train.csv, features.csv, stores.csv) into the input topics in event-time order; loads the catalog first')
    .option('--data <dir>', 'folder with the CSVs', '../shared/data/walmart2014')
    .option('--from <date>', 'first sales week to play (YYYY-MM-DD)')
    .option('--to <date>', 'last sales week to play (YYYY-MM-DD)')
    .option('--rate <n>', 'events per second (0 = as fast as the broker takes them)', '0')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: { data: string; from?: string; to?: string; rate: string; config?: string }) => {
      const config = configFrom(opts);
      if (config.bucketSize !== 'week') throw new Error('the Walmart data is weekly: run replay with FS_BUCKET=week');
      const replay = await loadWalmartReplay(resolve(opts.data), opts.from, opts.to);
      const store = await storeFor(config);
      await store.putCatalog(replay.catalog);
      await store.close();
      process.stderr.write(`replay: ${replay.catalog.length} series, ${replay.weeks.length} weeks, about ${replay.count} events\n`);
      const producer = kafkaFor(config, 'replay').producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        const input = new InputProducer(producer, codecFor(config), inputTopics(config));
        const progress = progressLine('replay');
        function* all(): Generator<InputRecord> {
          for (const w of replay.weeks) yield* replay.eventsOfWeek(w);
        }
        const started = Date.now();
        const sent = await play(all(), input, { rate: Number(opts.rate), onProgress: (n) => progress(Math.min(n, replay.count), replay.count) });
        const secs = (Date.now() - started) / 1000;
        process.stdout.write(`replayed ${sent} events in ${secs.toFixed(1)} s (${(sent / Math.max(secs, 1e-3)).toFixed(0)} events/s)\n`);
      } finally {
        await producer.disconnect();
      }
    });
}
