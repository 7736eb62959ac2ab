import { randomUUID } from 'node:crypto';
import type { TypedEmitter } from '../core/typed-emitter.js';
import type { MessageProducer } from './message-producer.js';
import type { PublishEvents } from './forecast-publisher.js';

export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface AlertInput {
  kind: string;
  severity: AlertSeverity;
  details: Record<string, string>;
}

/**
 * Alerts (drift, breaker state, model loaded/rejected) to the alerts topic. Best effort:
 * an alert that cannot be sent is logged by the caller, never allowed to stop forecasting.
 */
export class AlertPublisher {
  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    private readonly encode: (value: unknown) => Buffer,
    private readonly events: TypedEmitter<PublishEvents>,
    private readonly now: () => number,
  ) {}

  async publish(alert: AlertInput): Promise<void> {
    const value = this.encode({ alertId: randomUUID(), kind: alert.kind, severity: alert.severity, details: alert.details, time: this.now() });
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: alert.kind, value }] });
    this.events.emit('alert-published', { kind: alert.kind, severity: alert.severity });
  }
}
