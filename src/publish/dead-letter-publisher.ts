import { ForecastError } from '../core/errors.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import { deadLetterMessage, MAX_ORIGINAL_BYTES, type DeadLetter, type DeadLetterSink } from '../ingest/dead-letter.js';
import type { MessageProducer } from './message-producer.js';
import type { PublishEvents } from './forecast-publisher.js';

/** Bytes of dead letters per produce call: a batch must stay under the broker's 1 MB limit. */
const MAX_SEND_BYTES = 3 * MAX_ORIGINAL_BYTES;

/**
 * Sends bad records to the dead-letter topic with the reason in headers: byte for byte, or
 * a reference when the original is too large (dead-letter.ts). Sent in groups that fit the
 * broker's request limit, so a dead letter can never block its partition.
 */
export class DeadLetterPublisher implements DeadLetterSink {
  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    private readonly events: TypedEmitter<PublishEvents>,
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const messages = letters.map(deadLetterMessage);
    const groups: Array<typeof messages> = [[]];
    let bytes = 0;
    for (const m of messages) {
      const size = m.value.length + (m.key?.length ?? 0) + 2_048;
      if (bytes + size > MAX_SEND_BYTES && groups.at(-1)!.length > 0) {
        groups.push([]);
        bytes = 0;
      }
      groups.at(-1)!.push(m);
      bytes += size;
    }
    try {
      for (const group of groups) await this.producer.send({ topic: this.topic, acks: -1, messages: group });
    } catch (cause) {
      // retriable: the consumer retries the chunk rather than lose the bad record
      throw new ForecastError('PUBLISH_FAILED', `dead-lettering ${letters.length} records failed: ${(cause as Error).message}`, { retriable: true, cause });
    }
    this.events.emit('dead-lettered', { count: letters.length });
  }
}
