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
      let failed = false;
      const processor: Processor = new Processor({
        config,
        log,
        // ingest stopped for good: say why, drain what can be drained, exit non-zero (the orchestrator restarts it)
        onFatal: (err) => {
          if (failed) return;
          failed = true;
          process.stderr.write(`forecast-stream: ingest stopped: ${err.message}\n`);
          process.exitCode = 1;
          void processor.stop().finally(() => process.exit(1));
        },
      });
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
