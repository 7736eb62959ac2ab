import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { flashPromotion, fullRefresh, latency, machine, processorRss, throughput, whatIfBench, type BenchContext, type ScenarioResult } from '../../tools/bench/pipeline-bench.js';
import { configToEnv, type Config } from '../../ops/config.js';
import { deleteTopicsWith } from '../../tools/setup-topics.js';
import { configFrom, kafkaFor, storeFor } from '../cli-context.js';
import { appendTrend, currentCommit } from '../../tools/bench/trend.js';
import { rawClients, type RawResult } from '../../tools/bench/raw-clients.js';
import { scaleOut } from '../../tools/bench/scale-out.js';
import { exactlyOnceCost } from '../../tools/bench/exactly-once.js';

const ALL = ['raw-clients', 'throughput', 'latency', 'promotion', 'promotion-daily', 'what-if', 'refresh', 'rss', 'scale-out', 'exactly-once'] as const;

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
          s === 'raw-clients'
            ? { scenario: 'raw-clients', clients: await rawClients(base.kafkaBrokers as string[], { tag: `b${randomBytes(3).toString('hex')}`, log: ctx.log }) }
            : s === 'throughput'
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
                    : s === 'scale-out'
                      ? await scaleOut(ctx, fileURLToPath(new URL('../main.js', import.meta.url)), processorEnv)
                      : s === 'exactly-once'
                        ? await exactlyOnceCost(ctx)
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
      process.stderr.write(`${clientTable(results)}\n`);
      const m = machine();
      const n = await appendTrend(`${opts.out}/trend.csv`, { date: doc.date, commit: currentCommit(), machine: `${m.cpu} x${m.cores}, ${m.memoryGiB} GiB, node ${m.node}`, results });
      process.stderr.write(`bench: ${n} line(s) appended to ${opts.out}/trend.csv\n`);
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    });
}

/**
 * The clients side by side, and the processor against its client's raw numbers measured in the
 * same run: throughput as a share of the raw consume ceiling, latency p99 above the raw hop's.
 */
export function clientTable(results: readonly ScenarioResult[]): string {
  const raw = results.find((r) => r.scenario === 'raw-clients') as { clients: RawResult[] } | undefined;
  if (!raw) return '';
  const tp = results.find((r) => r.scenario === 'throughput') as { eventsPerSecond?: number } | undefined;
  const lat = results.find((r) => r.scenario === 'latency') as { p99Ms?: number; p50Ms?: number } | undefined;
  const rows = ['| client | consume ceiling (records/s) | hop p50 / p99 / p999 (ms) at 2,000/s |', '| --- | ---: | --- |'];
  for (const c of raw.clients) {
    rows.push(c.installed && !c.error ? `| ${c.client} ${c.version ?? ''} | ${c.ceilingRecordsPerSec} | ${c.hop!.p50Ms} / ${c.hop!.p99Ms} / ${c.hop!.p999Ms} |` : `| ${c.client} | ${c.installed ? `failed: ${c.error}` : 'not installed'} | |`);
  }
  const kjs = raw.clients.find((c) => c.client === 'kafkajs' && c.ceilingRecordsPerSec);
  if (kjs && tp?.eventsPerSecond) rows.push('', `processor (kafkajs) throughput ${tp.eventsPerSecond} ev/s = ${(tp.eventsPerSecond / kjs.ceilingRecordsPerSec!).toFixed(2)} of the kafkajs consume ceiling (target >= 0.5)`);
  if (kjs?.hop && lat?.p99Ms) rows.push(`processor (kafkajs) end-to-end p99 ${lat.p99Ms} ms at 2,000 ev/s = ${(lat.p99Ms / kjs.hop.p99Ms).toFixed(1)}x the kafkajs hop p99 ${kjs.hop.p99Ms} ms (targets: <= 25 ms, <= 3x)`);
  return rows.join('\n');
}
