import { Command } from 'commander';
import { setupTopicsWith } from '../../tools/setup-topics.js';
import { codecFor, configFrom, kafkaFor } from '../cli-context.js';

export function setupCommand(): Command {
  return new Command('setup')
    .description('create the topics and register the Avro schemas (BACKWARD compatibility); safe to repeat')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: { config?: string }) => {
      const config = configFrom(opts);
      const r = await setupTopicsWith(kafkaFor(config, 'setup'), codecFor(config), config);
      process.stdout.write(`topics created: ${r.created.join(', ') || '(none)'}; already there: ${r.existing.join(', ') || '(none)'}\n`);
      process.stdout.write(`schemas registered: ${r.subjects.join(', ')}\n`);
    });
}
