#!/usr/bin/env node
import { Command } from 'commander';
import { benchCommand } from './commands/bench.js';
import { catalogCommand } from './commands/catalog.js';
import { deadLettersCommand } from './commands/dead-letters.js';
import { demoCommand } from './commands/demo.js';
import { evaluateCommand } from './commands/evaluate.js';
import { replayCommand } from './commands/replay.js';
import { refreshCommand } from './commands/refresh.js';
import { runCommand } from './commands/run.js';
import { setupCommand } from './commands/setup.js';
import { simulateCommand } from './commands/simulate.js';

const program = new Command('forecast-stream')
  .description('Streaming demand forecasts: Kafka events in, ONNX quantile forecasts out.\nConfiguration: FS_* environment variables and --config FILE (see docs/configuration.md).')
  .showHelpAfterError();

for (const cmd of [runCommand(), setupCommand(), catalogCommand(), simulateCommand(), replayCommand(), refreshCommand(), evaluateCommand(), deadLettersCommand(), demoCommand(), benchCommand()]) program.addCommand(cmd);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`forecast-stream: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
