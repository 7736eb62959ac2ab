/**
 * `forecast-stream evaluate`: the accuracy protocol of ../shared/data/walmart2014/README.md
 * with the production feature code and a model from engines/ (or the fallback model).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { loadModelArtifact, findModelDir, type ModelArtifact } from '../../inference/model/model-artifact.js';
import { OnnxRunner } from '../../inference/model/onnx-runner.js';
import { fallbackForecaster, onnxForecaster, type Forecaster } from '../../tools/evaluate/forecaster.js';
import { measureInferenceCost } from '../../tools/evaluate/inference-bench.js';
import { renderReportHtml } from '../../tools/evaluate/report-html.js';
import { runEvaluation } from '../../tools/evaluate/run-evaluation.js';
import { WalmartDataset } from '../../tools/walmart/walmart-data.js';
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

/** `--model` is a version directory, its model.json or its model.onnx. */
async function resolveModel(model: string | undefined, engines: string): Promise<ModelArtifact> {
  if (!model) return loadModelArtifact(await findModelDir(engines));
  const p = resolve(model);
  return loadModelArtifact(p.endsWith('.json') || p.endsWith('.onnx') ? dirname(p) : p);
}

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('rolling-origin accuracy of a model (or the fallback) on Walmart-format data')
    .requiredOption('--data <dir>', 'directory with train.csv, features.csv and stores.csv')
    .requiredOption('--from <date>', 'first target week (a Friday, YYYY-MM-DD)')
    .requiredOption('--to <date>', 'last target week (a Friday, YYYY-MM-DD)')
    .option('--horizons <n>', 'forecast horizons 1..n', positiveInt, 4)
    .option('--out <file>', 'report JSON', 'report.json')
    .option('--model <path|fallback>', "model version dir / model.json / model.onnx, or 'fallback' (default: newest in engines/)")
    .option('--engines <dir>', 'models directory', DEFAULT_ENGINES)
    .option('--predictions <file>', 'write every scored pair as CSV')
    .option('--html <file>', 'picture of the run (default: the --out path with .html)')
    .option('--bench-batch <n>', 'batch size of the inference-cost measurement (0: skip)', (v) => (v === '0' ? 0 : positiveInt(v)), 1024)
    .action(async (opts: {
      data: string; from: string; to: string; horizons: number; out: string; model?: string; engines: string;
      predictions?: string; html?: string; benchBatch: number;
    }) => {
      const log = (m: string) => process.stderr.write(`[evaluate] ${m}\n`);
      const t0 = Date.now();
      const data = await WalmartDataset.load(opts.data);
      log(`loaded ${data.seriesIds.length} series from ${opts.data} in ${Date.now() - t0} ms`);

      let forecaster: Forecaster;
      let runner: OnnxRunner | null = null;
      let modelInfo: Record<string, unknown>;
      let family: FeatureFamily = walmartWeeklyFamily('week');
      if (opts.model === 'fallback') {
        forecaster = fallbackForecaster();
        modelInfo = { kind: 'fallback', name: 'fallback-seasonal-es' };
      } else {
        const artifact = await resolveModel(opts.model, opts.engines);
        const m = artifact.metadata;
        if (opts.horizons > m.horizons.length) {
          throw new InvalidArgumentError(`--horizons ${opts.horizons} exceeds the model's ${m.horizons.length}`);
        }
        runner = await OnnxRunner.create(artifact.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
        forecaster = onnxForecaster(runner, artifact.family, m.horizons.length);
        family = artifact.family;
        modelInfo = { kind: 'onnx', name: m.name, version: m.version, path: artifact.dir, train_until: m.training.trainUntil };
        log(`model ${m.name}/${m.version} (trained until ${m.training.trainUntil})`);
      }

      if (opts.predictions) await mkdir(dirname(resolve(opts.predictions)), { recursive: true });
      const result = await runEvaluation(data, forecaster, {
        from: opts.from, to: opts.to, horizons: opts.horizons, predictionsPath: opts.predictions, progress: log,
      });
      let inference = null;
      if (opts.benchBatch > 0) {
        const origin = bucketOf(Date.parse(`${opts.to}T00:00:00Z`), 'week') - 1;
        inference = await measureInferenceCost(data.seriesIds.map((id) => data.snapshotAt(id, origin)), origin, runner, family, opts.benchBatch);
        log(`inference at batch ${inference.batch}: features ${inference.features_us_per_series.toFixed(2)} µs/series, ` +
          `onnx ${inference.onnx_us_per_series?.toFixed(2) ?? '-'} µs/series, fallback ${inference.fallback_us_per_series.toFixed(2)} µs/series`);
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
