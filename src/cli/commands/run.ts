import { Command } from 'commander';
import { Processor } from '../../main/processor.js';
import { configFrom, loggerFor, onShutdown } from '../cli-context.js';

export function runCommand(): Command {
  return new Command('run')
    .description('run the processor: consume sales/promotions/weather, publish forecast-updated (until SIGINT/SIGTERM)')
    .option('-c, --config <file>', 'JSON config file (environment variables FS_* apply first)')
    .action(async (opts: { config?: string }) => {
      const config = configFrom(opts);
      const log = loggerFor(config);
      const processor = new Processor({ config, log });
      const stopped = onShutdown(() => processor.stop());
      try {
        await processor.start();
      } catch (err) {
        log.error({ err }, 'processor failed to start');
        process.stderr.write(`forecast-stream: ${(err as Error).message}\n`);
        await processor.stop();
        process.exitCode = 1;
        return;
      }
      await stopped;
    });
}
