import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TypedEmitter } from '../core/typed-emitter.js';
import type { BatchingEvents } from '../batching/affected-batcher.js';
import type { IngestEvents } from '../ingest/record-processor.js';
import type { InferenceEvents } from '../inference/model-guard.js';
import type { LifecycleEvents } from '../inference/serving-models.js';
import type { PublishEvents } from '../publish/forecast-publisher.js';

export interface PipelineEmitters {
  ingest: TypedEmitter<IngestEvents>;
  batching: TypedEmitter<BatchingEvents>;
  inference: TypedEmitter<InferenceEvents>;
  publish: TypedEmitter<PublishEvents>;
  lifecycle?: TypedEmitter<LifecycleEvents>;
}

/**
 * Prometheus metrics. Stages only emit events; this module subscribes and counts
 * (kafkajs instrumentation-event style), so no stage imports prom-client.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  readonly recordsIn: Counter<'topic'>;
  readonly rejected: Counter<'topic' | 'code'>;
  readonly tooOld: Counter;
  readonly duplicates: Counter;
  readonly forecasts: Counter<'source'>;
  readonly batchSize: Histogram;
  readonly batchDuration: Histogram;
  readonly eventToForecast: Histogram;
  readonly inferenceDuration: Histogram<'source'>;
  readonly pending: Gauge;
  readonly breakerOpen: Gauge;
  readonly driftPsi: Gauge;
  readonly trainingPsi: Gauge;
  readonly backpressure: Counter;
  readonly alerts: Counter<'kind'>;
  readonly retries: Counter<'cause'>;
  readonly unreadable: Counter;
  readonly stalled: Gauge;
  readonly paused: Gauge;
  readonly rollouts: Counter<'outcome' | 'check'>;
  readonly shadowForecasts: Counter<'result'>;
  readonly transactions: Counter<'result'>;
  readonly epochDuration: Histogram;
  readonly rolloutShift: Gauge<'phase' | 'test'>;
  readonly modelPhase: Gauge<'version' | 'role'>;

  #accuracyCells: (() => Array<{ version: string; source: string; horizon: number; sums: { n: number; wape: number | null; bias: number | null; coverage: number | null; absErr?: number; err?: number; actual?: number } }>) | null = null;

  /** Online accuracy per model version, source and horizon, read from the accuracy stage at scrape time. */
  attachAccuracy(cells: () => Array<{ version: string; source: string; horizon: number; sums: { n: number; wape: number | null; bias: number | null; coverage: number | null; absErr?: number; err?: number; actual?: number } }>): void {
    this.#accuracyCells = cells;
  }

  #declareAccuracy(r: Registry): void {
    const labelNames = ['version', 'source', 'horizon'] as const;
    const cells = () => this.#accuracyCells?.() ?? [];
    const gauge = (name: string, help: string, pick: (s: { n: number; wape: number | null; bias: number | null; coverage: number | null; absErr?: number; err?: number; actual?: number }) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          this.reset();
          for (const c of cells()) {
            const v = pick(c.sums);
            if (v !== null) this.set({ version: c.version, source: c.source, horizon: String(c.horizon) }, v);
          }
        },
      });
    gauge('forecast_stream_online_wape', 'WAPE of published forecasts against actuals, since start (sum |actual - p50| / sum actual)', (s) => s.wape);
    gauge('forecast_stream_online_bias', 'Bias of published forecasts against actuals (sum (p50 - actual) / sum actual; > 0 over-forecasts)', (s) => s.bias);
    gauge('forecast_stream_online_coverage', 'Share of actuals inside p10-p90 of published forecasts', (s) => s.coverage);
    gauge('forecast_stream_online_pairs', 'Forecast/actual pairs scored', (s) => s.n);
    // the sums, so WAPE and bias pool exactly across horizons and pods (sum(abs)/sum(actual))
    gauge('forecast_stream_online_abs_error', 'Sum of |actual - p50| over the scored pairs', (s) => s.absErr ?? null);
    gauge('forecast_stream_online_error', 'Sum of (p50 - actual) over the scored pairs', (s) => s.err ?? null);
    gauge('forecast_stream_online_actual', 'Sum of actuals over the scored pairs', (s) => s.actual ?? null);
  }

  constructor(e: PipelineEmitters) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'forecast_stream_' });
    this.#declareAccuracy(r);
    this.recordsIn = new Counter({ name: 'forecast_stream_records_total', help: 'Input records ingested', labelNames: ['topic'], registers: [r] });
    this.rejected = new Counter({ name: 'forecast_stream_records_rejected_total', help: 'Bad input records (dead-lettered or skipped)', labelNames: ['topic', 'code'], registers: [r] });
    this.tooOld = new Counter({ name: 'forecast_stream_sales_too_old_total', help: 'Sales events older than the window, dropped', registers: [r] });
    this.duplicates = new Counter({ name: 'forecast_stream_sales_duplicate_total', help: 'Sales events already applied (replays)', registers: [r] });
    this.forecasts = new Counter({ name: 'forecast_stream_forecasts_total', help: 'Forecasts published', labelNames: ['source'], registers: [r] });
    this.batchSize = new Histogram({ name: 'forecast_stream_batch_size', help: 'Series per inference batch', buckets: [1, 8, 32, 128, 512, 1024, 4096, 16384], registers: [r] });
    this.batchDuration = new Histogram({ name: 'forecast_stream_batch_seconds', help: 'Read + infer + publish time of a batch', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [r] });
    this.eventToForecast = new Histogram({ name: 'forecast_stream_queue_to_publish_seconds', help: 'From a series entering the batcher to its forecast being acknowledged', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [r] });
    this.inferenceDuration = new Histogram({ name: 'forecast_stream_inference_seconds', help: 'Model time per batch', labelNames: ['source'], buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers: [r] });
    this.pending = new Gauge({ name: 'forecast_stream_batch_pending', help: 'Affected series waiting for a batch', registers: [r] });
    this.breakerOpen = new Gauge({ name: 'forecast_stream_breaker_open', help: '1 while the primary model breaker is open (fallback serving), 0.5 half-open', registers: [r] });
    this.driftPsi = new Gauge({ name: 'forecast_stream_drift_psi', help: 'PSI of primary p50/scale, last full window vs the last healthy one (opens the breaker)', registers: [r] });
    this.trainingPsi = new Gauge({ name: 'forecast_stream_training_psi', help: 'PSI of primary p50/scale, last full window vs the training distribution (season/population; warning only)', registers: [r] });
    this.backpressure = new Counter({ name: 'forecast_stream_backpressure_total', help: 'Times an add waited for room in the batcher', registers: [r] });
    this.alerts = new Counter({ name: 'forecast_stream_alerts_total', help: 'Alerts published', labelNames: ['kind'], registers: [r] });

    this.retries = new Counter({ name: 'forecast_stream_ingest_retries_total', help: 'Chunks tried again because a dependency was down, by error code (STATE_UNAVAILABLE: Redis; DECODE_FAILED: registry)', labelNames: ['cause'], registers: [r] });
    this.stalled = new Gauge({ name: 'forecast_stream_ingest_stalled', help: '1 while ingest waits on a dependency (consumer in the group, same records retried), else 0', registers: [r] });
    e.ingest.on('chunk-retry', ({ code }) => {
      this.retries.inc({ cause: code });
      this.stalled.set(1);
    });
    e.ingest.on('ingest-resumed', () => this.stalled.set(0));
    this.paused = new Gauge({ name: 'forecast_stream_ingest_paused', help: '1 while fetching of the input topics is paused because the batcher is full (backpressure), else 0', registers: [r] });
    e.ingest.on('ingest-paused', () => this.paused.set(1));
    e.ingest.on('ingest-unpaused', () => this.paused.set(0));
    e.ingest.on('records-processed', ({ topic, count }) => this.recordsIn.inc({ topic }, count));
    // FS_EXACTLY_ONCE only: a failed transaction stops ingest, so one "failed" is worth an alert
    this.transactions = new Counter({ name: 'forecast_stream_transactions_total', help: 'Exactly-once epochs (forecasts + offsets in one Kafka transaction), by result (committed, failed: aborted)', labelNames: ['result'], registers: [r] });
    this.epochDuration = new Histogram({ name: 'forecast_stream_transaction_seconds', help: 'Exactly-once epoch: from holding new chunks to the transaction committed (drain + commit)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [r] });
    e.ingest.on('epoch-committed', ({ ms }) => {
      this.transactions.inc({ result: 'committed' });
      this.epochDuration.observe(ms / 1000);
    });
    e.ingest.on('epoch-failed', () => this.transactions.inc({ result: 'failed' }));
    // exported from the start (0), so the alert's series exists before anything fails
    for (const result of ['committed', 'failed']) this.transactions.inc({ result }, 0);
    e.ingest.on('record-rejected', ({ topic, code }) => this.rejected.inc({ topic, code }));
    e.ingest.on('sales-too-old', () => this.tooOld.inc());
    e.ingest.on('sales-duplicate', () => this.duplicates.inc());
    e.batching.on('batch-started', ({ size, pending }) => {
      this.batchSize.observe(size);
      this.pending.set(pending);
    });
    e.batching.on('batch-completed', ({ durationMs }) => this.batchDuration.observe(durationMs / 1000));
    e.batching.on('backpressure', () => this.backpressure.inc());
    this.unreadable = new Counter({ name: 'forecast_stream_series_unreadable_total', help: 'Series left out of a forecast batch because Redis refused to read their state (a key written by something else)', registers: [r] });
    e.inference.on('state-unreadable', ({ seriesIds }) => this.unreadable.inc(seriesIds.length));
    this.rollouts = new Counter({ name: 'forecast_stream_model_rollouts_total', help: 'Model versions through the lifecycle, by outcome (promoted, rejected, rolled_back) and the check that refused them', labelNames: ['outcome', 'check'], registers: [r] });
    this.shadowForecasts = new Counter({ name: 'forecast_stream_shadow_forecasts_total', help: 'Forecasts of a version in shadow sent to FS_TOPIC_SHADOW, by result (published, failed)', labelNames: ['result'], registers: [r] });
    this.rolloutShift = new Gauge({ name: 'forecast_stream_rollout_shift', help: "A new version's output shift against the live one in its last comparison (test=psi: PSI; test=ks: KS statistic D)", labelNames: ['phase', 'test'], registers: [r] });
    this.modelPhase = new Gauge({ name: 'forecast_stream_model_version', help: 'Loaded model versions by role (live, previous, shadow, canary): 1 while in that role', labelNames: ['version', 'role'], registers: [r] });
    const lc = e.lifecycle;
    if (lc) {
      lc.on('model-rejected', ({ version, check }) => {
        this.rollouts.inc({ outcome: 'rejected', check });
        this.modelPhase.remove({ version, role: 'shadow' });
        this.modelPhase.remove({ version, role: 'canary' });
      });
      lc.on('rollout-phase', ({ version, phase }) => {
        this.modelPhase.remove({ version, role: 'shadow' });
        this.modelPhase.set({ version, role: phase }, 1);
      });
      lc.on('rollout-compared', ({ phase, verdict }) => {
        this.rolloutShift.set({ phase, test: 'psi' }, verdict.psi);
        this.rolloutShift.set({ phase, test: 'ks' }, verdict.ksD);
      });
      lc.on('model-promoted', ({ version, previous }) => {
        this.rollouts.inc({ outcome: 'promoted', check: '' });
        this.modelPhase.reset();
        this.modelPhase.set({ version, role: 'live' }, 1);
        this.modelPhase.set({ version: previous, role: 'previous' }, 1);
      });
      lc.on('model-rolled-back', ({ from, to }) => {
        this.rollouts.inc({ outcome: 'rolled_back', check: '' });
        this.modelPhase.remove({ version: from, role: 'live' });
        this.modelPhase.remove({ version: to, role: 'previous' });
        this.modelPhase.set({ version: to, role: 'live' }, 1);
      });
    }
    e.inference.on('inference', ({ durationMs, source }) => this.inferenceDuration.observe({ source }, durationMs / 1000));
    e.inference.on('breaker-state', ({ state }) => this.breakerOpen.set(state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0));
    e.inference.on('drift-checked', ({ psiBaseline, psiTraining }) => {
      if (psiBaseline !== null) this.driftPsi.set(psiBaseline);
      this.trainingPsi.set(psiTraining);
    });
    e.publish.on('forecasts-published', ({ primary, fallback, coldStart, oldestEnqueueMs }) => {
      this.forecasts.inc({ source: 'primary' }, primary);
      this.forecasts.inc({ source: 'fallback' }, fallback);
      this.forecasts.inc({ source: 'cold_start' }, coldStart);
      if (oldestEnqueueMs !== null) this.eventToForecast.observe(oldestEnqueueMs / 1000);
    });
    e.publish.on('alert-published', ({ kind }) => this.alerts.inc({ kind }));
  }
}
