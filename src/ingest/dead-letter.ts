import type { ForecastError } from '../core/errors.js';
import type { RawRecord } from './input-events.js';

/** A record that could not be used, with why. The original bytes travel unchanged. */
export interface DeadLetter {
  record: RawRecord;
  error: ForecastError;
}

/** Where dead letters go (a Kafka topic in production; main wires it). */
export interface DeadLetterSink {
  send(letters: readonly DeadLetter[]): Promise<void>;
}

/** Headers put on a dead-letter record: the reason and where the original came from. */
export function deadLetterHeaders(letter: DeadLetter): Record<string, string> {
  return {
    'x-error-code': letter.error.code,
    'x-error-reason': letter.error.message,
    'x-error-field': letter.error.field ?? '',
    'x-source-topic': letter.record.topic,
    'x-source-partition': String(letter.record.partition),
    'x-source-offset': letter.record.offset,
  };
}
