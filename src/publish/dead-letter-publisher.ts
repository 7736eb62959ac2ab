import { ForecastError } from '../core/errors.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import { deadLetterHeaders, type DeadLetter, type DeadLetterSink } from '../ingest/dead-letter.js';
import type { MessageProducer } from './message-producer.js';
import type { PublishEvents } from './forecast-publisher.js';

/** Sends bad records, byte for byte, to the dead-letter topic with the reason in headers. */
export class DeadLetterPublisher implements DeadLetterSink {
  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    private readonly events: TypedEmitter<PublishEvents>,
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    try {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: letters.map((l) => ({ key: l.record.key, value: l.record.value ?? Buffer.alloc(0), headers: deadLetterHeaders(l) })),
      });
    } catch (cause) {
      // retriable: the consumer retries the chunk rather than lose the bad record
      throw new ForecastError('PUBLISH_FAILED', `dead-lettering ${letters.length} records failed: ${(cause as Error).message}`, { retriable: true, cause });
    }
    this.events.emit('dead-lettered', { count: letters.length });
  }
}
