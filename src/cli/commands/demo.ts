import { Command, InvalidArgumentError } from 'commander';
import type avro from 'avsc';
import { parseSchema } from '../../core/schema-codec.js';
import { loadSchema } from '../../core/schemas.js';
import { Processor } from '../../main/processor.js';
import type { ConfigInput } from '../../ops/config.js';
import { InputProducer, inputTopics, type InputRecord } from '../../tools/input-producer.js';
import { dateOf, M5Dataset, type M5Series } from '../../tools/m5/m5-data.js';
import { LISTING_LEAD_DAYS, loadM5Replay } from '../../tools/m5/m5-replay.js';
import { setupTopicsWith } from '../../tools/setup-topics.js';
import { play } from '../../tools/stream-player.js';
import { codecFor, configFrom, kafkaFor, loggerFor, storeFor } from '../cli-context.js';
import { M5_SAMPLE } from './replay.js';
import { generatorFor, simulateOptions, type SimulateFlags } from './simulate.js';

interface DemoFlags extends SimulateFlags {
  duration: string;
  source: string;
  data?: string;
  cut: string;
  linger: string;
}

interface ForecastView {
  seriesId: string;
  originDate: string;
  source: string;
  coldStart?: boolean;
  modelVersion: string;
  issuedAt: number;
  horizons: Array<{ horizon: number; bucketDate: string; p10: number; p50: number; p90: number }>;
}

const DAY_MS = 86_400_000;

function describe(f: ForecastView, show = 4): string {
  const picks = f.horizons.length > show ? [0, 6, 13, f.horizons.length - 1].map((i) => f.horizons[i]!) : f.horizons;
  const hs = picks.map((h) => `${h.bucketDate} p10 ${h.p10.toFixed(1)} p50 ${h.p50.toFixed(1)} p90 ${h.p90.toFixed(1)}`).join(' | ');
  return `${f.seriesId.padEnd(18)} origin ${f.originDate} ${f.coldStart ? 'cold start' : f.source}/${f.modelVersion}: ${hs}`;
}

/**
 * How the forecasts of a few launches moved: before the first sale (cold start, from the day
 * before listing), after their first week and their first three weeks of sales, against what
 * they really sold in their first 28 days.
 */
function launchLines(launches: readonly M5Series[], history: ReadonlyMap<string, ForecastView[]>, data: M5Dataset): string[] {
  const lines: string[] = [];
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  const shown = launches.filter((s) => (history.get(s.seriesId)?.length ?? 0) > 0 && s.firstSale !== null).slice(0, 3);
  for (const s of shown) {
    const fs = history.get(s.seriesId)!;
    const end = dateOf(s.listed + 27);
    // the newest forecast from an origin in [from, to] (a fast replay batches days: not every origin gets one)
    const near = (from: number, to: number) => fs.filter((f) => f.originDate >= dateOf(from) && f.originDate <= dateOf(to)).at(-1);
    // an estimate of the first 28 days: what sold up to the origin plus the forecast of the rest
    const estimate = (f: ForecastView | undefined) => {
      if (!f) return Number.NaN;
      let t = 0;
      for (let d = s.listed; dateOf(d) <= f.originDate; d++) t += data.salesOn(s, d);
      return t + f.horizons.filter((h) => h.bucketDate <= end).reduce((x, h) => x + h.p50, 0);
    };
    const before = near(s.listed - 1, s.listed - 1);
    const week = near(s.listed + 3, s.listed + 6);
    const weeks3 = near(s.listed + 17, s.listed + 20);
    let sold = 0;
    for (let d = s.listed; d < s.listed + 28; d++) sold += data.salesOn(s, d);
    const tag = (f: ForecastView | undefined) => (f?.coldStart ? ' (cold start)' : '');
    lines.push(
      `  ${s.seriesId.padEnd(18)} listed ${dateOf(s.listed)}, first 28 days: forecast before its first sale ${fmt(estimate(before))}${tag(before)}, ` +
        `after ~1 week ${fmt(estimate(week))}${tag(week)}, after ~3 weeks ${fmt(estimate(weeks3))}${tag(weeks3)}; sold ${sold}`,
    );
  }
  return lines;
}

const sumP50 = (f: ForecastView, from: number, to: number) => f.horizons.slice(from - 1, to).reduce((s, h) => s + h.p50, 0);

/**
 * The main job end to end on local defaults: topics and schemas, a catalog, the processor,
 * a stream, a live summary every few seconds and a final one. By default the stream is the
 * real M5 sample the repository carries (data/m5-sample: 150 SKU x store series, two years
 * of daily sales and shelf prices) through the daily model, ending with a price cut on a few
 * real SKUs and how their forecasts moved; `--source synthetic` plays the synthetic weekly
 * stream through the Walmart model. Each run uses its own consumer group and Redis prefix.
 */
export function demoCommand(): Command {
  return simulateOptions(new Command('demo'))
    .description('run the whole pipeline on the local stack (real M5 SKUs and a price cut by default) and print a live summary')
    .option('--duration <seconds>', 'how long to play the stream (env FS_DEMO_SECONDS)', process.env.FS_DEMO_SECONDS ?? '60')
    .option('--source <m5|synthetic>', 'm5: the M5 sample through the daily model; synthetic: the synthetic weekly stream through the Walmart model', 'm5')
    .option('--data <dir>', 'M5-format folder to replay (default: data/m5-sample)')
    .option('--cut <fraction>', 'the price cut shown at the end (0.25 = 25% off for 14 days)', '0.25')
    .option('--linger <seconds>', 'keep the processor (and its explorer page) up this long after the summary (env FS_DEMO_LINGER)', process.env.FS_DEMO_LINGER ?? '0')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (flags: DemoFlags) => {
      if (flags.source !== 'm5' && flags.source !== 'synthetic') throw new InvalidArgumentError(`--source must be m5 or synthetic (got '${flags.source}')`);
      const cut = Number(flags.cut);
      if (!(cut > 0 && cut < 1)) throw new InvalidArgumentError(`--cut must be a fraction in (0, 1) (got '${flags.cut}')`);
      const run = Date.now().toString(36);
      const overrides: ConfigInput = { groupId: `forecast-stream-demo-${run}`, redisPrefix: `demo${run}`, fromBeginning: false };
      if (flags.source === 'synthetic' && !process.env.FS_MODEL) overrides.modelName = 'walmart-mlp';
      const config = configFrom(flags, overrides);
      const log = loggerFor(config);
      const out = (s: string) => process.stdout.write(`${s}\n`);
      const durationMs = Number(flags.duration) * 1000;

      const kafka = kafkaFor(config, 'demo');
      const setup = await setupTopicsWith(kafka, codecFor(config), config);
      out(`[demo] topics ready (created: ${setup.created.join(', ') || 'none'}), schemas registered: ${setup.subjects.length}`);

      const m5data = flags.source === 'm5' ? M5Dataset.load(flags.data ?? M5_SAMPLE) : null;
      const m5 = m5data ? loadM5Replay(m5data) : null;
      const m5series = new Map((m5data?.series ?? []).map((s) => [s.seriesId, s]));
      const gen = flags.source === 'synthetic' ? generatorFor(flags) : null;
      const catalog = m5 ? m5.catalog : gen!.catalog;
      const store = await storeFor(config);
      await store.putCatalog(catalog);
      await store.close();
      out(m5
        ? `[demo] catalog: ${catalog.length} real M5 series (SKU x store) from ${flags.data ?? 'data/m5-sample'}, ${m5.days.length} days ${dateOf(m5.days[0]!)} .. ${dateOf(m5.days.at(-1)!)}`
        : `[demo] catalog: ${catalog.length} synthetic series (${flags.stores} stores x ${flags.items} items)`);

      const processor = new Processor({ config, log });
      await processor.start();
      const st = processor.status() as { model: { name: string; version: string; family: string; bucketSize: string; horizons: number; executionProvider: string } };
      out(`[demo] processor started: model ${st.model.name}/${st.model.version} (${st.model.family}, ${st.model.horizons} ${st.model.bucketSize}s ahead) on ${st.model.executionProvider}, metrics on :${config.metricsPort}/metrics`);
      if (config.metricsPort > 0) out(`[demo] explorer page: http://127.0.0.1:${config.metricsPort}/ui  (live forecasts, what-if, operations; open it while the demo runs, or add --linger 600)`);

      // watch the output topic like a replenishment service would
      const codec = codecFor(config);
      const reader: avro.Type = parseSchema(loadSchema('forecast-updated'));
      const latest = new Map<string, ForecastView>();
      // every forecast of the launches (items listed during the replay): how they moved
      const launchIds = new Set((m5?.launches ?? []).map((s) => s.seriesId));
      const launchHistory = new Map<string, ForecastView[]>();
      const watcher = kafka.consumer({ groupId: `forecast-stream-demo-watch-${run}` });
      await watcher.connect();
      await watcher.subscribe({ topic: config.topicForecasts, fromBeginning: false });
      let watched = 0;
      await watcher.run({
        eachMessage: async ({ message }) => {
          if (!message.value) return;
          const f = (await codec.decode(message.value, reader)) as ForecastView;
          watched++;
          latest.set(f.seriesId, f);
          if (launchIds.has(f.seriesId)) launchHistory.set(f.seriesId, [...(launchHistory.get(f.seriesId) ?? []), f]);
        },
      });

      let inputs = 0;
      let forecasts = 0;
      let fallback = 0;
      let rejected = 0;
      processor.events.ingest.on('records-processed', ({ count }) => (inputs += count));
      processor.events.ingest.on('record-rejected', () => rejected++);
      processor.events.publish.on('forecasts-published', (e) => {
        forecasts += e.count;
        fallback += e.fallback;
      });

      const started = Date.now();
      let last = { t: started, inputs: 0, forecasts: 0 };
      let ticks = 0;
      const ticker = setInterval(() => {
        const now = Date.now();
        const dt = (now - last.t) / 1000;
        const s = processor.status() as { breaker: string; driftPsi: number | null; trainingPsi: number | null; batcher: { pending: number } };
        out(
          `[demo ${((now - started) / 1000).toFixed(0).padStart(3)}s] events/s ${((inputs - last.inputs) / dt).toFixed(0).padStart(6)}  forecasts/s ${((forecasts - last.forecasts) / dt).toFixed(0).padStart(6)}  ` +
            `total in ${inputs}, out ${forecasts} (fallback ${fallback}), rejected ${rejected}, pending ${s.batcher.pending}, breaker ${s.breaker}` +
            (s.driftPsi === null ? '' : `, PSI vs last window ${s.driftPsi.toFixed(2)}`) +
            (s.trainingPsi === null ? '' : `, vs training ${s.trainingPsi.toFixed(2)}`),
        );
        last = { t: now, inputs, forecasts };
        // every 15 s, one forecast as a replenishment service would receive it
        if (++ticks % 3 === 0 && latest.size > 0) out(`           e.g. ${describe([...latest.values()][ticks % latest.size]!)}`);
      }, 5_000);

      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      const input = new InputProducer(producer, codec, inputTopics(config));
      const caughtUp = async (sent: number) => {
        const until = Date.now() + 30_000;
        while (inputs < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
        // the batcher flushes within a few ms; give the publish a moment
        await new Promise((r) => setTimeout(r, 1_000));
      };
      let sent = 0;
      let priceCut: string[] = [];
      if (m5) {
        // paced so the two years take most of the run, leaving ~15 s for the price cut
        const rate = Math.max(500, Math.round(m5.count / Math.max(5, durationMs / 1000 - 15)));
        out(`[demo] replaying ${m5.count} real events (daily sales totals, price changes announced 28 days ahead, ${m5.launches.length} launches announced on the catalog topic) at ${rate} events/s`);
        sent = await play(m5.records(), input, { rate, shouldStop: () => Date.now() >= started + durationMs + 30_000 });
        await caughtUp(sent);
        priceCut = await showPriceCut(m5.days.at(-1)!, cut);
      } else {
        const deadline = started + durationMs;
        const stop = () => Date.now() >= deadline;
        sent = await play(gen!.history(), input, { rate: 0, shouldStop: stop });
        out(`[demo] history sent: ${sent} weekly sales events; now playing live days at ${flags.rate} events/s`);
        for (let d = 0; d < Number(flags.days) && !stop(); d++) sent += await play(gen!.day(d), input, { rate: Number(flags.rate), shouldStop: stop });
        await caughtUp(sent);
      }

      /** A price cut on a few of the busiest real SKUs from the day after the last sales day, and how their forecasts moved. */
      async function showPriceCut(lastDay: number, depth: number): Promise<string[]> {
        const busiest = [...latest.values()].filter((f) => f.horizons.length >= 28 && m5series.get(f.seriesId)?.prices.length).sort((a, b) => sumP50(b, 1, 14) - sumP50(a, 1, 14)).slice(0, 5);
        if (busiest.length === 0) return [];
        const records: InputRecord[] = [];
        const eventTime = lastDay * DAY_MS + 23.5 * 3_600_000;
        for (const f of busiest) {
          const s = m5series.get(f.seriesId)!;
          const regular = s.prices.at(-1)!.price;
          const cutPrice = Math.round(regular * (1 - depth) * 100) / 100;
          records.push({ topic: 'prices', value: { eventId: `demo-cut-${run}-${f.seriesId}`, store: s.store, item: s.item, price: cutPrice, regularPrice: regular, effectiveDate: dateOf(lastDay + 1), eventTime } });
          records.push({ topic: 'prices', value: { eventId: `demo-back-${run}-${f.seriesId}`, store: s.store, item: s.item, price: regular, regularPrice: regular, effectiveDate: dateOf(lastDay + 15), eventTime } });
        }
        const issuedBefore = Math.max(...busiest.map((f) => f.issuedAt));
        out(`[demo] price cut: ${Math.round(depth * 100)}% off ${busiest.length} of the busiest SKUs from ${dateOf(lastDay + 1)} for 14 days, announced now`);
        await input.send(records);
        sent += records.length;
        const until = Date.now() + 15_000;
        while (Date.now() < until && busiest.some((f) => (latest.get(f.seriesId)?.issuedAt ?? 0) <= issuedBefore)) await new Promise((r) => setTimeout(r, 100));
        const lines: string[] = [];
        for (const f of busiest) {
          const now = latest.get(f.seriesId)!;
          if (now.issuedAt <= issuedBefore) {
            lines.push(`  ${f.seriesId.padEnd(18)} no new forecast within 15 s`);
            continue;
          }
          const a = sumP50(f, 1, 14);
          const b = sumP50(now, 1, 14);
          const after = sumP50(now, 15, 28) / Math.max(1e-9, sumP50(f, 15, 28));
          lines.push(`  ${f.seriesId.padEnd(18)} p50 over the 14 cut days ${a.toFixed(1)} -> ${b.toFixed(1)} units (${b >= a ? '+' : ''}${((100 * (b - a)) / Math.max(a, 1e-9)).toFixed(1)}%), days 15-28 x${after.toFixed(2)}`);
        }
        return lines;
      }

      await producer.disconnect();
      clearInterval(ticker);
      const linger = Number(flags.linger) * 1000;
      if (linger > 0 && config.metricsPort > 0) {
        out(`[demo] keeping the processor and http://127.0.0.1:${config.metricsPort}/ui up for ${flags.linger} s (Ctrl-C ends it)`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, linger);
          process.once('SIGINT', () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      await processor.stop();
      await watcher.disconnect();

      const secs = (Date.now() - started) / 1000;
      out('');
      out(`[demo] final: sent ${sent} events, processed ${inputs}, rejected ${rejected}; published ${forecasts} forecasts (${fallback} from fallback) in ${secs.toFixed(1)} s`);
      out(`[demo] read back ${watched} forecast-updated events for ${latest.size} series; examples:`);
      for (const f of [...latest.values()].slice(0, 5)) out(`  ${describe(f)}`);
      const launches = m5 && m5data ? launchLines(m5.launches.map((l) => m5series.get(l.seriesId)!), launchHistory, m5data) : [];
      if (launches.length > 0) {
        out(`[demo] new products: ${m5!.launches.length} items were announced on the catalog topic ${LISTING_LEAD_DAYS} days before their listing; how three of their forecasts moved:`);
        for (const l of launches) out(l);
      }
      if (priceCut.length > 0) {
        out(`[demo] how the price cut moved the forecasts (same SKUs, forecast before vs after the price events):`);
        for (const l of priceCut) out(l);
      }
      if (fallback > 0) {
        out(
          `[demo] ${fallback} forecasts came from the fallback model: the breaker opens when the primary model fails, slows down or ` +
            `its output shifts abruptly (PSI of p50/scale between consecutive windows over FS_DRIFT_PSI=${config.driftPsiThreshold})`,
        );
      }
      if (inputs < sent) {
        out(`[demo] WARNING: ${sent - inputs} events were not processed before the stop`);
        process.exitCode = 1;
      }
    });
}
