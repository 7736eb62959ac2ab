import { Command } from 'commander';
import { Processor } from '../../main/processor.js';
import { configFrom, loggerFor, progressLine } from '../cli-context.js';

export function refreshCommand(): Command {
  return new Command('refresh')
    .description('re-forecast every known series from state and publish (nightly, or after a model change)')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: { config?: string }) => {
      const config = configFrom(opts, { metricsPort: 0 });
      const processor = new Processor({ config, log: loggerFor(config), consume: false });
      await processor.start();
      try {
        const started = Date.now();
        const n = await processor.refreshAll(progressLine('refresh'));
        const secs = (Date.now() - started) / 1000;
        process.stdout.write(`refreshed ${n} series in ${secs.toFixed(2)} s (${(n / Math.max(secs, 1e-3)).toFixed(0)} series/s)\n`);
      } finally {
        await processor.stop();
      }
    });
}
