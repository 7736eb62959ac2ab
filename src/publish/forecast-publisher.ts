import { ForecastError } from '../core/errors.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import type { Forecast } from '../inference/forecast.js';
import type { MessageProducer } from './message-producer.js';

export interface PublishEvents {
  'forecasts-published': { count: number; primary: number; fallback: number; coldStart: number; oldestEnqueueMs: number | null };
  'dead-lettered': { count: number };
  'alert-published': { kind: string; severity: string };
}

/** Plain-object shape of the forecast-updated Avro record. */
export function forecastRecord(f: Forecast): Record<string, unknown> {
  return {
    seriesId: f.seriesId,
    store: f.store,
    item: f.item,
    issuedAt: f.issuedAt,
    bucketSize: f.bucketSize,
    originDate: f.originDate,
    horizons: f.horizons,
    modelName: f.modelName,
    modelVersion: f.modelVersion,
    // the launch branch is the primary model: on the wire source stays in v1's two symbols
    // (old readers keep reading) and the new coldStart field says which branch
    source: f.source === 'fallback' ? 'fallback' : 'primary',
    featureAgeMs: f.featureAgeMs === null ? null : Math.round(f.featureAgeMs),
    triggers: f.triggers,
    coldStart: f.source === 'cold_start',
  };
}

/**
 * Publishes forecast-updated events keyed by series id (so one series' forecasts stay in
 * order on one partition) through the idempotent producer; resolves only once the broker
 * acknowledged them all (acks = all), which is when input offsets may be committed.
 */
export class ForecastPublisher {
  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    private readonly encode: (value: unknown) => Buffer,
    private readonly events: TypedEmitter<PublishEvents>,
  ) {}

  async publish(forecasts: readonly Forecast[], oldestEnqueueMs: number | null = null): Promise<void> {
    if (forecasts.length === 0) return;
    let primary = 0;
    let coldStart = 0;
    const messages = forecasts.map((f) => {
      if (f.source === 'primary') primary++;
      else if (f.source === 'cold_start') coldStart++;
      // no per-message headers: source and model version are in the record, and kafkajs
      // spends about a third more per message with two headers (bench/results)
      return { key: f.seriesId, value: this.encode(forecastRecord(f)) };
    });
    try {
      await this.producer.send({ topic: this.topic, messages, acks: -1 });
    } catch (cause) {
      throw new ForecastError('PUBLISH_FAILED', `publishing ${messages.length} forecasts to ${this.topic} failed: ${(cause as Error).message}`, { retriable: true, cause });
    }
    this.events.emit('forecasts-published', { count: forecasts.length, primary, fallback: forecasts.length - primary - coldStart, coldStart, oldestEnqueueMs });
  }
}
