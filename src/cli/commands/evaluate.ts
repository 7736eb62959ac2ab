/**
 * `forecast-stream evaluate`: the accuracy protocol of ../shared/data/walmart2014/README.md
 * with the production feature code and a model from engines/ (or the fallback model).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { loadModelArtifact, findModelDir, type ModelArtifact } from '../../inference/model/model-artifact.js';
import { OnnxRunner } from '../../inference/model/onnx-runner.js';
import { fallbackForecaster, onnxForecaster, type Forecaster } from '../../tools/evaluate/forecaster.js';
import type { StatisticalComponent } from '../../inference/statistical/statistical-component.js';
import { measureInferenceCost } from '../../tools/evaluate/inference-bench.js';
import { renderReportHtml } from '../../tools/evaluate/report-html.js';
import { runEvaluation } from '../../tools/evaluate/run-evaluation.js';
import { WalmartDataset } from '../../tools/walmart/walmart-data.js';
import { dateOf, dayOf, M5Dataset, M5_HORIZON } from '../../tools/m5/m5-data.js';
import { runM5Launch, runM5Rolling } from '../../tools/evaluate/run-m5-evaluation.js';
import { renderM5LaunchHtml, renderM5RollingHtml } from '../../tools/evaluate/report-m5-html.js';
import { bucketOf } from '../../inference/features/bucket-clock.js';
import type { FeatureFamily } from '../../inference/features/feature-family.js';
import { walmartWeeklyFamily } from '../../inference/features/walmart-weekly-family.js';

/** engines/ of the package: three levels above this file in src/ and in dist/ alike. */
const DEFAULT_ENGINES = fileURLToPath(new URL('../../../engines/', import.meta.url));

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Default model per dataset: the first of these present in engines/. */
const DEFAULT_MODELS: Record<Dataset, string[]> = { walmart: ['walmart-stl', 'walmart-mlp', 'walmart-gbm'], m5: ['m5-daily-gbm'] };
type Dataset = 'walmart' | 'm5';

/** `--model` is a version directory, its model.json or its model.onnx; default: the dataset's model, newest version. */
async function resolveModel(model: string | undefined, engines: string, dataset: Dataset): Promise<ModelArtifact> {
  if (!model) {
    const names = DEFAULT_MODELS[dataset];
    for (const name of names) {
      if (existsSync(join(engines, name))) return loadModelArtifact(await findModelDir(engines, name));
    }
    throw new InvalidArgumentError(`no ${dataset} model in ${engines} (looked for ${names.join(', ')}); pass --model DIR`);
  }
  const p = resolve(model);
  return loadModelArtifact(p.endsWith('.json') || p.endsWith('.onnx') ? dirname(p) : p);
}

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('rolling-origin accuracy of a model (or the fallback) on Walmart (weekly) or M5 (daily) data, by the protocol of the data README')
    .option('--dataset <walmart|m5>', 'walmart: train.csv, features.csv, stores.csv; m5: sales.csv.gz, prices.csv.gz, items.csv, calendar.csv', 'walmart')
    .option('--task <rolling|launch>', 'm5 only: rolling origins, or launches (cold start: origin the day before listing)', 'rolling')
    .requiredOption('--data <dir>', 'the data directory (the four M5 files, or the three Walmart files)')
    .requiredOption('--from <date>', 'first target day (walmart: a Friday), YYYY-MM-DD')
    .requiredOption('--to <date>', 'last target day (walmart: a Friday), YYYY-MM-DD')
    .option('--horizons <n>', 'walmart only: forecast horizons 1..n', positiveInt, 4)
    .option('--out <file>', 'report JSON', 'report.json')
    .option('--model <path|fallback>', "model version dir / model.json / model.onnx, or 'fallback' (default: newest in engines/)")
    .option('--engines <dir>', 'models directory', DEFAULT_ENGINES)
    .option('--predictions <file>', 'write every scored pair as CSV')
    .option('--html <file>', 'picture of the run (default: the --out path with .html)')
    .option('--bench-batch <n>', 'batch size of the inference-cost measurement (0: skip)', (v) => (v === '0' ? 0 : positiveInt(v)), 1024)
    .action(async (opts: EvaluateOptions) => {
      if (opts.dataset !== 'walmart' && opts.dataset !== 'm5') throw new InvalidArgumentError(`--dataset must be walmart or m5 (got '${opts.dataset}')`);
      if (opts.task !== 'rolling' && opts.task !== 'launch') throw new InvalidArgumentError(`--task must be rolling or launch (got '${opts.task}')`);
      if (opts.dataset === 'm5') return evaluateM5(opts);
      if (opts.task !== 'rolling') throw new InvalidArgumentError('--task launch needs --dataset m5 (the Walmart data has no launches)');
      const log = (m: string) => process.stderr.write(`[evaluate] ${m}\n`);
      const t0 = Date.now();
      const data = await WalmartDataset.load(opts.data);
      log(`loaded ${data.seriesIds.length} series from ${opts.data} in ${Date.now() - t0} ms`);

      let forecaster: Forecaster;
      let runner: OnnxRunner | null = null;
      let modelInfo: Record<string, unknown>;
      let family: FeatureFamily = walmartWeeklyFamily('week');
      let statistical: StatisticalComponent | null = null;
      if (opts.model === 'fallback') {
        forecaster = fallbackForecaster();
        modelInfo = { kind: 'fallback', name: 'fallback-seasonal-es' };
      } else {
        const artifact = await resolveModel(opts.model, opts.engines, 'walmart');
        const m = artifact.metadata;
        if (opts.horizons > m.horizons.length) {
          throw new InvalidArgumentError(`--horizons ${opts.horizons} exceeds the model's ${m.horizons.length}`);
        }
        runner = await OnnxRunner.create(artifact.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
        forecaster = onnxForecaster(runner, artifact.family, m.horizons.length, artifact.statistical);
        statistical = artifact.statistical;
        family = artifact.family;
        modelInfo = { kind: 'onnx', name: m.name, version: m.version, path: artifact.dir, train_until: m.training.trainUntil, ...(artifact.statistical ? { statistical: { method: artifact.statistical.method, weight: artifact.statistical.weight } } : {}) };
        log(`model ${m.name}/${m.version} (trained until ${m.training.trainUntil})`);
      }

      if (opts.predictions) await mkdir(dirname(resolve(opts.predictions)), { recursive: true });
      const result = await runEvaluation(data, forecaster, {
        from: opts.from, to: opts.to, horizons: opts.horizons, predictionsPath: opts.predictions, progress: log,
      });
      let inference = null;
      if (opts.benchBatch > 0) {
        const origin = bucketOf(Date.parse(`${opts.to}T00:00:00Z`), 'week') - 1;
        inference = await measureInferenceCost(data.seriesIds.map((id) => data.snapshotAt(id, origin)), origin, runner, family, opts.benchBatch, 30, statistical);
        log(`inference at batch ${inference.batch}: features ${inference.features_us_per_series.toFixed(2)} µs/series, ` +
          `onnx ${inference.onnx_us_per_series?.toFixed(2) ?? '-'} µs/series, fallback ${inference.fallback_us_per_series.toFixed(2)} µs/series` +
          (inference.statistical_us_per_series !== undefined ? `, statistical ${inference.statistical_us_per_series.toFixed(2)} µs/series` : ''));
      }
      await runner?.close();

      const { traces, ...summary } = result;
      const report = {
        model: modelInfo,
        data: resolve(opts.data),
        ...summary,
        baseline: { seasonal_naive: result.seasonal_naive },
        wmae_per_horizon: result.per_horizon.map((h) => h.wmae),
        inference,
        threads: { intra_op: 1, inter_op: 1 },
        elapsed_s: (Date.now() - t0) / 1000,
      };
      await mkdir(dirname(resolve(opts.out)), { recursive: true });
      await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
      const html = opts.html ?? join(dirname(opts.out), `${resolve(opts.out).split('/').pop()!.replace(/\.json$/, '')}.html`);
      const title = `evaluate ${modelInfo.kind === 'fallback' ? 'fallback' : `${String(modelInfo.name)}/${String(modelInfo.version)}`}`;
      await writeFile(html, renderReportHtml(result, title));
      log(`WMAE ${result.wmae.toFixed(1)}, seasonal naive ${result.seasonal_naive.toFixed(1)}, ratio ${result.ratio_to_seasonal_naive.toFixed(3)}, ` +
        `coverage ${(100 * result.coverage_p10_p90).toFixed(1)}%, ${result.pairs} pairs -> ${opts.out}, ${html}`);
    });
}

interface EvaluateOptions {
  dataset: string; task: string; data: string; from: string; to: string; horizons: number; out: string; model?: string;
  engines: string; predictions?: string; html?: string; benchBatch: number;
}

/** `evaluate --dataset m5`: the protocol of ../shared/data/m5-daily/README.md (rolling or launch). */
async function evaluateM5(opts: EvaluateOptions): Promise<void> {
  const log = (m: string) => process.stderr.write(`[evaluate] ${m}\n`);
  const t0 = Date.now();
  const data = M5Dataset.load(opts.data);
  log(`loaded ${data.series.length} series, sales to ${dateOf(data.lastSalesDay)}, from ${opts.data} in ${Date.now() - t0} ms`);
  let forecaster: Forecaster;
  let runner: OnnxRunner | null = null;
  let modelInfo: Record<string, unknown>;
  let family: FeatureFamily | null = null;
  if (opts.model === 'fallback') {
    forecaster = fallbackForecaster();
    modelInfo = { kind: 'fallback', name: 'fallback-seasonal-ets' };
  } else {
    const artifact = await resolveModel(opts.model, opts.engines, 'm5');
    const m = artifact.metadata;
    if (m.bucketSize !== 'day' || m.horizons.length < M5_HORIZON) {
      throw new InvalidArgumentError(`model ${m.name}/${m.version} forecasts ${m.horizons.length} ${m.bucketSize}s; the M5 protocol needs 28 days`);
    }
    runner = await OnnxRunner.create(artifact.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 }, artifact.family.featureCount);
    family = artifact.family;
    forecaster = onnxForecaster(runner, family, m.horizons.length);
    modelInfo = { kind: 'onnx', name: m.name, version: m.version, path: artifact.dir, train_until: m.training.trainUntil, family: family.id };
    log(`model ${m.name}/${m.version} (family ${family.id}, trained until ${m.training.trainUntil})`);
  }
  if (opts.predictions) await mkdir(dirname(resolve(opts.predictions)), { recursive: true });
  const common = { task: opts.task as 'rolling' | 'launch', from: opts.from, to: opts.to, predictionsPath: opts.predictions, progress: log };
  const result = opts.task === 'launch' ? await runM5Launch(data, forecaster, common) : await runM5Rolling(data, forecaster, common);
  let inference = null;
  if (opts.benchBatch > 0 && family) {
    const origin = dayOf(opts.to) - 28;
    const live = data.series.filter((s) => s.firstSale !== null && s.firstSale <= origin);
    inference = await measureInferenceCost(live.map((s) => data.snapshotAt(s, origin)), origin, runner, family, opts.benchBatch, 10);
    log(`inference at batch ${inference.batch}: features ${inference.features_us_per_series.toFixed(2)} µs/series, onnx ${inference.onnx_us_per_series?.toFixed(2) ?? '-'} µs/series`);
  }
  await runner?.close();
  const { traces, ...summary } = result;
  const report = { dataset: 'm5', model: modelInfo, data: resolve(opts.data), ...summary, inference, threads: { intra_op: 1, inter_op: 1 }, elapsed_s: (Date.now() - t0) / 1000 };
  await mkdir(dirname(resolve(opts.out)), { recursive: true });
  await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  const html = opts.html ?? join(dirname(opts.out), `${resolve(opts.out).split('/').pop()!.replace(/\.json$/, '')}.html`);
  const title = `evaluate m5 ${opts.task}: ${modelInfo.kind === 'fallback' ? 'fallback' : `${String(modelInfo.name)}/${String(modelInfo.version)}`}`;
  await writeFile(html, result.task === 'launch' ? renderM5LaunchHtml(result, title) : renderM5RollingHtml({ ...result, traces }, title));
  if (result.task === 'launch') {
    log(`launches ${result.launches}: 28-day total WAPE ${result.total_wape.toFixed(3)}, baseline ${result.baseline_total_wape.toFixed(3)}, ratio ${result.ratio_to_baseline.toFixed(3)}; daily WAPE ${result.daily.wape.toFixed(3)}, coverage ${(100 * result.daily.coverage_p10_p90).toFixed(1)}% -> ${opts.out}, ${html}`);
  } else {
    log(`WAPE ${result.wape.toFixed(3)}, seasonal naive ${result.seasonal_naive.toFixed(3)}, ratio ${result.ratio_to_seasonal_naive.toFixed(3)}, coverage ${(100 * result.coverage_p10_p90).toFixed(1)}%; ` +
      `promotion days ${result.promotion_days.pairs} pairs, WAPE ${result.promotion_days.wape.toFixed(3)} (ratio ${result.promotion_days.ratio_to_baseline.toFixed(3)}) -> ${opts.out}, ${html}`);
  }
}
