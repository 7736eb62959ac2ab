import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { flashPromotion, fullRefresh, latency, machine, processorRss, throughput, whatIfBench, type BenchContext, type ScenarioResult } from '../../tools/bench/pipeline-bench.js';
import { configToEnv, type Config } from '../../ops/config.js';
import { deleteTopicsWith } from '../../tools/setup-topics.js';
import { configFrom, kafkaFor, storeFor } from '../cli-context.js';
import { appendTrend, currentCommit } from '../../tools/bench/trend.js';

const ALL = ['throughput', 'latency', 'promotion', 'promotion-daily', 'what-if', 'refresh', 'rss'] as const;

/** Environment that points `forecast-stream run` at a bench config. */
function processorEnv(c: Config): NodeJS.ProcessEnv {
  return { ...process.env, ...configToEnv(c), FS_METRICS_PORT: '0', FS_LOG_LEVEL: 'warn' };
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('pipeline benchmarks on the running stack: throughput, latency at 2,000 events/s, a 20,000-series flash promotion (weekly and daily model), what-if (1,000 concurrent one-series questions, one 20,000-series question), a 50,000-series refresh')
    .option('--scenarios <list>', `comma-separated: ${ALL.join(',')}`, ALL.join(','))
    .option('--out <dir>', 'where results go', 'bench/results')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (opts: { scenarios: string; out: string; config?: string }) => {
      const base = configFrom(opts, { metricsPort: 0, logLevel: 'warn' });
      const ctx: BenchContext = {
        kafka: kafkaFor(base, 'bench'),
        config: (o = {}) => {
          const tag = `b${randomBytes(3).toString('hex')}`;
          const c = configFrom(opts, {
            metricsPort: 0,
            logLevel: 'warn',
            topicSales: `${tag}-sales`,
            topicPromotions: `${tag}-promotions`,
            topicWeather: `${tag}-weather`,
            topicPrices: `${tag}-prices`,
            topicCatalog: `${tag}-catalog`,
            // the weekly scenarios keep the model of the earlier results; promotion-daily picks the daily one
            modelName: 'walmart-mlp',
            topicForecasts: `${tag}-forecasts`,
            topicAlerts: `${tag}-alerts`,
            topicDeadLetter: `${tag}-dlq`,
            groupId: `${tag}-group`,
            redisPrefix: tag,
            ...o,
          } as never);
          used.push(c);
          return c;
        },
        store: storeFor,
        log: (l) => process.stderr.write(`${l}\n`),
      };
      const results: ScenarioResult[] = [];
      const used: Config[] = [];
      for (const s of opts.scenarios.split(',')) {
        process.stderr.write(`bench: ${s}...\n`);
        const r =
          s === 'throughput'
            ? await throughput(ctx)
            : s === 'latency'
              ? await latency(ctx)
              : s === 'promotion'
                ? await flashPromotion(ctx)
                : s === 'promotion-daily'
                  ? await flashPromotion(ctx, 20_000, 28, true)
                  : s === 'what-if'
                  ? await whatIfBench(ctx, fileURLToPath(new URL('../main.js', import.meta.url)), processorEnv)
                  : s === 'refresh'
                  ? await fullRefresh(ctx)
                  : s === 'rss'
                    ? await processorRss(ctx, fileURLToPath(new URL('../main.js', import.meta.url)), processorEnv)
                    : null;
        if (!r) throw new Error(`unknown scenario '${s}' (choose from ${ALL.join(', ')})`);
        process.stderr.write(`bench: ${JSON.stringify(r)}\n`);
        results.push(r);
        // leave the stack as it was: a scenario's data must not weigh on the next one
        for (const c of used.splice(0)) {
          const store = await storeFor(c);
          await store.clearAll();
          await store.close();
          await deleteTopicsWith(ctx.kafka, c);
        }
      }
      const day = new Date().toISOString().slice(0, 10);
      await mkdir(opts.out, { recursive: true });
      const doc = { date: new Date().toISOString(), machine: machine(), config: { batchMaxSize: base.batchMaxSize, batchMaxDelayMs: base.batchMaxDelayMs, inferenceThreads: base.inferenceThreads, executionProviders: base.executionProviders }, results };
      await writeFile(`${opts.out}/pipeline-${day}.json`, `${JSON.stringify(doc, null, 2)}\n`);
      const m = machine();
      const n = await appendTrend(`${opts.out}/trend.csv`, { date: doc.date, commit: currentCommit(), machine: `${m.cpu} x${m.cores}, ${m.memoryGiB} GiB, node ${m.node}`, results });
      process.stderr.write(`bench: ${n} line(s) appended to ${opts.out}/trend.csv\n`);
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    });
}
