import { Command } from 'commander';
import type avro from 'avsc';
import { parseSchema } from '../../core/schema-codec.js';
import { loadSchema } from '../../core/schemas.js';
import { Processor } from '../../main/processor.js';
import { InputProducer, inputTopics } from '../../tools/input-producer.js';
import { setupTopicsWith } from '../../tools/setup-topics.js';
import { play } from '../../tools/stream-player.js';
import { codecFor, configFrom, kafkaFor, loggerFor, storeFor } from '../cli-context.js';
import { generatorFor, simulateOptions, type SimulateFlags } from './simulate.js';

interface DemoFlags extends SimulateFlags {
  duration: string;
}

interface ForecastView {
  seriesId: string;
  originDate: string;
  source: string;
  modelVersion: string;
  horizons: Array<{ horizon: number; bucketDate: string; p10: number; p50: number; p90: number }>;
}

function describe(f: ForecastView): string {
  const hs = f.horizons.map((h) => `${h.bucketDate} p10 ${h.p10.toFixed(1)} p50 ${h.p50.toFixed(1)} p90 ${h.p90.toFixed(1)}`).join(' | ');
  return `${f.seriesId.padEnd(14)} origin ${f.originDate} ${f.source}/${f.modelVersion}: ${hs}`;
}

/**
 * The main job end to end on local defaults: topics and schemas, a synthetic catalog, the
 * processor, a synthetic stream (history, then live days), a live summary every few
 * seconds and a final one. Each run uses its own consumer group and Redis prefix so runs
 * do not mix.
 */
export function demoCommand(): Command {
  return simulateOptions(new Command('demo'))
    .description('run the whole pipeline on the local stack with a synthetic stream and print a live summary')
    .option('--duration <seconds>', 'how long to play the stream (env FS_DEMO_SECONDS)', process.env.FS_DEMO_SECONDS ?? '60')
    .option('-c, --config <file>', 'JSON config file')
    .action(async (flags: DemoFlags) => {
      const run = Date.now().toString(36);
      const config = configFrom(flags, { groupId: `forecast-stream-demo-${run}`, redisPrefix: `demo${run}`, fromBeginning: false });
      const log = loggerFor(config);
      const out = (s: string) => process.stdout.write(`${s}\n`);
      const durationMs = Number(flags.duration) * 1000;

      const kafka = kafkaFor(config, 'demo');
      const setup = await setupTopicsWith(kafka, codecFor(config), config);
      out(`[demo] topics ready (created: ${setup.created.join(', ') || 'none'}), schemas registered: ${setup.subjects.length}`);

      const gen = generatorFor(flags);
      const store = await storeFor(config);
      await store.putCatalog(gen.catalog);
      await store.close();
      out(`[demo] catalog: ${gen.catalog.length} series (${flags.stores} stores x ${flags.items} items)`);

      const processor = new Processor({ config, log });
      await processor.start();
      const st = processor.status() as { model: { name: string; version: string; executionProvider: string } };
      out(`[demo] processor started: model ${st.model.name}/${st.model.version} on ${st.model.executionProvider}, metrics on :${config.metricsPort}/metrics`);

      // watch the output topic like a replenishment service would
      const codec = codecFor(config);
      const reader: avro.Type = parseSchema(loadSchema('forecast-updated'));
      const latest = new Map<string, ForecastView>();
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
      const deadline = started + durationMs;
      const stop = () => Date.now() >= deadline;
      let sent = await play(gen.history(), input, { rate: 0, shouldStop: stop });
      out(`[demo] history sent: ${sent} weekly sales events; now playing live days at ${flags.rate} events/s`);
      for (let d = 0; d < Number(flags.days) && !stop(); d++) sent += await play(gen.day(d), input, { rate: Number(flags.rate), shouldStop: stop });
      await producer.disconnect();

      // let the processor catch up with what was sent (bounded), then stop it
      const catchUp = Date.now() + 30_000;
      while (inputs < sent && Date.now() < catchUp) await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 1_000));
      clearInterval(ticker);
      await processor.stop();
      await watcher.disconnect();

      const secs = (Date.now() - started) / 1000;
      out('');
      out(`[demo] final: sent ${sent} events, processed ${inputs}, rejected ${rejected}; published ${forecasts} forecasts (${fallback} from fallback) in ${secs.toFixed(1)} s`);
      out(`[demo] read back ${watched} forecast-updated events for ${latest.size} series; examples:`);
      for (const f of [...latest.values()].slice(0, 5)) out(`  ${describe(f)}`);
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
