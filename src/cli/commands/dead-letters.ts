import { Command } from 'commander';
import { readDeadLetters, replayDeadLetters, type DeadLetterRow, type Letter } from '../../tools/dead-letters.js';
import { configFrom, kafkaFor } from '../cli-context.js';

function rowOf(l: Letter): DeadLetterRow {
  const h = (k: string) => l.headers[k] ?? '';
  return {
    offset: l.offset,
    partition: l.partition,
    code: h('x-error-code'),
    field: h('x-error-field'),
    reason: h('x-error-reason'),
    source: `${h('x-source-topic')}[${h('x-source-partition')}]@${h('x-source-offset')}`,
    bytes: l.value?.length ?? 0,
  };
}

/**
 * `dead-letters` (show) and `dead-letters replay`: the documented policy for a sale of an item
 * that is not listed yet is to dead-letter it (UNKNOWN_SERIES) and, once the item is on the
 * catalog topic, replay the letters to their source topics. Replays are idempotent: a sale or
 * price already applied (same eventId) changes nothing.
 */
export function deadLettersCommand(): Command {
  const cmd = new Command('dead-letters').description('show records on the dead-letter topic (why each was rejected, where it came from), or replay them');
  cmd
    .command('show', { isDefault: true })
    .description('show what was rejected and why, newest last (the default)')
    .option('--limit <n>', 'show at most this many (the newest)', '20')
    .option('--json', 'one JSON object per line instead of a table')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: { limit: string; json?: boolean; config?: string }) => {
      const config = configFrom(opts, { logLevel: 'error' });
      const letters = await readDeadLetters(kafkaFor(config, 'dead-letters'), config);
      const shown = letters.map(rowOf).slice(-Number(opts.limit));
      if (opts.json) {
        for (const r of shown) process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(`${letters.length} record(s) on ${config.topicDeadLetter}; showing ${shown.length}\n`);
      for (const r of shown) process.stdout.write(`${r.source.padEnd(24)} ${r.code.padEnd(18)} ${r.reason}\n`);
    });
  cmd
    .command('replay')
    .description('send dead letters with these codes back to their source topics (after the fix, e.g. the item listed on the catalog topic)')
    .option('--code <codes>', 'comma-separated error codes to replay', 'UNKNOWN_SERIES,UNKNOWN_STORE')
    .option('--dry-run', 'only count what would be replayed')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: { code: string; dryRun?: boolean; config?: string }) => {
      const config = configFrom(opts, { logLevel: 'error' });
      const codes = new Set(opts.code.split(',').map((c) => c.trim()).filter(Boolean));
      const r = await replayDeadLetters(kafkaFor(config, 'dead-letters'), config, codes, opts.dryRun);
      process.stdout.write(
        `${opts.dryRun ? 'would replay' : 'replayed'} ${opts.dryRun ? r.matched - r.skipped : r.replayed} dead letter(s) with code ${[...codes].join('|')}` +
          (r.skipped > 0 ? `; ${r.skipped} not replayable (original not copied or not from an input topic: read it at its source offset)` : '') +
          '\n',
      );
    });
  return cmd;
}
