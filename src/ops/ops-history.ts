import type { TypedEmitter } from '../core/typed-emitter.js';
import type { InferenceEvents } from '../inference/model-guard.js';
import type { IngestEvents } from '../ingest/record-processor.js';
import type { PublishEvents } from '../publish/forecast-publisher.js';

export interface BreakerChange {
  at: number;
  state: string;
  reason: string;
}

export interface DriftPoint {
  at: number;
  psiBaseline: number | null;
  psiTraining: number;
}

export interface DeadLetterCode {
  code: string;
  count: number;
  /** Newest first: when, from which topic, the field and the reason (cut to 300 characters). */
  latest: Array<{ at: number; topic: string; field: string; reason: string }>;
}

/**
 * What the operations view shows that a metric scrape alone does not: the breaker's state
 * changes with their reasons, the drift PSI of each checked window, forecasts by source
 * (fallback share), and bad input by code with the latest reasons. In memory, bounded, since
 * this process started (Prometheus keeps the long history).
 */
export class OpsHistory {
  readonly breaker: BreakerChange[] = [];
  readonly drift: DriftPoint[] = [];
  readonly forecastsBySource: Record<string, number> = { primary: 0, fallback: 0, cold_start: 0 };
  readonly #dead = new Map<string, DeadLetterCode>();

  constructor(
    events: { inference: TypedEmitter<InferenceEvents>; ingest: TypedEmitter<IngestEvents>; publish: TypedEmitter<PublishEvents> },
    private readonly now: () => number = Date.now,
    private readonly keep = 200,
  ) {
    events.inference.on('breaker-state', ({ state, reason }) => push(this.breaker, { at: this.now(), state, reason }, this.keep));
    events.inference.on('drift-checked', ({ psiBaseline, psiTraining }) => push(this.drift, { at: this.now(), psiBaseline, psiTraining }, this.keep));
    events.publish.on('forecasts-published', ({ primary, fallback, coldStart }) => {
      this.forecastsBySource.primary! += primary;
      this.forecastsBySource.fallback! += fallback;
      this.forecastsBySource.cold_start! += coldStart;
    });
    events.ingest.on('record-rejected', ({ topic, code, field, reason }) => {
      const d = this.#dead.get(code) ?? { code, count: 0, latest: [] };
      d.count++;
      d.latest.unshift({ at: this.now(), topic, field, reason: reason.slice(0, 300) });
      if (d.latest.length > 5) d.latest.length = 5;
      this.#dead.set(code, d);
    });
  }

  /** Bad input by code, most frequent first. */
  deadLetters(): DeadLetterCode[] {
    return [...this.#dead.values()].sort((a, b) => b.count - a.count);
  }

  /** Share of forecasts served by the fallback since start (null before any). */
  fallbackShare(): number | null {
    const s = this.forecastsBySource;
    const all = s.primary! + s.fallback! + s.cold_start!;
    return all === 0 ? null : s.fallback! / all;
  }
}

function push<T>(list: T[], item: T, keep: number): void {
  list.push(item);
  if (list.length > keep) list.splice(0, list.length - keep);
}
