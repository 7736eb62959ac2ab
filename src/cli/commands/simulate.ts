import { Command } from 'commander';
import { bucketOf, bucketStartMs } from '../../inference/features/bucket-clock.js';
import { InputProducer, inputTopics } from '../../tools/input-producer.js';
import { play } from '../../tools/stream-player.js';
import { SyntheticGenerator } from '../../tools/synthetic/synthetic-generator.js';
import { codecFor, configFrom, kafkaFor, progressLine, storeFor } from '../cli-context.js';

const DAY_MS = 86_400_000;

export interface SimulateFlags {
  config?: string;
  seed: string;
  stores: string;
  items: string;
  days: string;
  historyWeeks: string;
  rate: string;
}

export function simulateOptions(cmd: Command): Command {
  return cmd
    .option('--seed <n>', 'random seed (same seed, same events)', '42')
    .option('--stores <n>', 'stores', '20')
    .option('--items <n>', 'items per store', '25')
    .option('--days <n>', 'live days to play after the history (they end by yesterday)', '365')
    .option('--history-weeks <n>', 'weeks of weekly history sent first, as fast as possible', '60')
    .option('--rate <n>', 'live events per second (0 = unpaced)', '1000');
}

/** Build the generator for flags; live days end by yesterday so no event is in the future. */
export function generatorFor(flags: SimulateFlags): SyntheticGenerator {
  const days = Number(flags.days);
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  // live days start on a Saturday: the weekly history then covers whole weeks up to them
  const liveStartMs = bucketStartMs(bucketOf(today - days * DAY_MS, 'week'), 'week');
  return new SyntheticGenerator({
    seed: Number(flags.seed),
    stores: Number(flags.stores),
    itemsPerStore: Number(flags.items),
    categories: 5,
    regions: 4,
    historyWeeks: Number(flags.historyWeeks),
    liveStartMs,
    promotionsPerDay: 0.3,
  });
}

export function simulateCommand(): Command {
  return simulateOptions(new Command('simulate'))
    .description('load a synthetic catalog and play a seeded synthetic stream (history, then daily live events) into the input topics')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (flags: SimulateFlags) => {
      const config = configFrom(flags);
      const gen = generatorFor(flags);
      const store = await storeFor(config);
      await store.putCatalog(gen.catalog);
      await store.close();
      const producer = kafkaFor(config, 'simulate').producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        const input = new InputProducer(producer, codecFor(config), inputTopics(config));
        const historyCount = gen.catalog.length * Number(flags.historyWeeks);
        const progress = progressLine('history');
        const h = await play(gen.history(), input, { rate: 0, onProgress: (n) => progress(n, historyCount) });
        let live = 0;
        for (let d = 0; d < Number(flags.days); d++) live += await play(gen.day(d), input, { rate: Number(flags.rate) });
        process.stdout.write(`sent ${h} history and ${live} live events for ${gen.catalog.length} series\n`);
      } finally {
        await producer.disconnect();
      }
    });
}
