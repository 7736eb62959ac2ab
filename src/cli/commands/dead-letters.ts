import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { nextGroupJoin } from '../../core/group-join.js';
import { configFrom, kafkaFor } from '../cli-context.js';

interface DeadLetterRow {
  offset: string;
  partition: number;
  code: string;
  field: string;
  reason: string;
  source: string;
  bytes: number;
}

/**
 * Reads the dead-letter topic from the start with a throwaway consumer group (commits
 * nothing that matters) and prints what was rejected and why, newest last.
 */
export function deadLettersCommand(): Command {
  return new Command('dead-letters')
    .description('show records on the dead-letter topic: why each was rejected and where it came from')
    .option('--limit <n>', 'show at most this many (the newest)', '20')
    .option('--json', 'one JSON object per line instead of a table')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: { limit: string; json?: boolean; config?: string }) => {
      const config = configFrom(opts, { logLevel: 'error' });
      const kafka = kafkaFor(config, 'dead-letters');
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(config.topicDeadLetter);
      await admin.disconnect();
      const total = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      const rows: DeadLetterRow[] = [];
      if (total > 0) {
        const consumer = kafka.consumer({ groupId: `forecast-stream-dlq-reader-${randomBytes(4).toString('hex')}` });
        await consumer.connect();
        await consumer.subscribe({ topic: config.topicDeadLetter, fromBeginning: true });
        const joined = nextGroupJoin(consumer);
        let seen = 0;
        const done = new Promise<void>((resolve) => {
          void consumer.run({
            eachMessage: async ({ partition, message }) => {
              const h = (k: string) => (message.headers?.[k] ? String(message.headers[k]) : '');
              rows.push({
                offset: message.offset,
                partition,
                code: h('x-error-code'),
                field: h('x-error-field'),
                reason: h('x-error-reason'),
                source: `${h('x-source-topic')}[${h('x-source-partition')}]@${h('x-source-offset')}`,
                bytes: message.value?.length ?? 0,
              });
              if (++seen >= total) resolve();
            },
          });
        });
        await joined;
        await Promise.race([done, new Promise((r) => setTimeout(r, 15_000))]);
        await consumer.disconnect();
      }
      const shown = rows.slice(-Number(opts.limit));
      if (opts.json) {
        for (const r of shown) process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(`${total} record(s) on ${config.topicDeadLetter}; showing ${shown.length}\n`);
      for (const r of shown) process.stdout.write(`${r.source.padEnd(24)} ${r.code.padEnd(18)} ${r.reason}\n`);
    });
}
