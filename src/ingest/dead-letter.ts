import { createHash } from 'node:crypto';
import type { ForecastError } from '../core/errors.js';
import type { RawRecord } from './input-events.js';

/** Longest header value on a dead letter (a reason quoting a huge value must not make the letter too big). */
export const MAX_HEADER_CHARS = 1_000;
/**
 * Originals up to this size travel byte for byte; a larger one is replaced by a reference
 * (source topic/partition/offset, size, sha256): the letter must always fit the broker's
 * message limit (1 MB by default) with room for its headers, or the partition would block.
 */
export const MAX_ORIGINAL_BYTES = 256 * 1024;
const MAX_KEY_BYTES = 1_024;

function bounded(text: string): string {
  return text.length <= MAX_HEADER_CHARS ? text : `${text.slice(0, MAX_HEADER_CHARS - 40)}… (${text.length} chars, cut)`;
}

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
    'x-error-reason': bounded(letter.error.message),
    'x-error-field': bounded(letter.error.field ?? ''),
    'x-source-topic': letter.record.topic,
    'x-source-partition': String(letter.record.partition),
    'x-source-offset': letter.record.offset,
  };
}

/** The dead-letter message of a record: the original bytes, or a reference when they are too large to copy. */
export function deadLetterMessage(letter: DeadLetter): { key: Buffer | null; value: Buffer; headers: Record<string, string> } {
  const headers = deadLetterHeaders(letter);
  const value = letter.record.value ?? Buffer.alloc(0);
  let key = letter.record.key;
  if (key && key.length > MAX_KEY_BYTES) {
    headers['x-original-key-bytes'] = String(key.length);
    key = null;
  }
  if (value.length <= MAX_ORIGINAL_BYTES) return { key, value, headers };
  headers['x-original-bytes'] = String(value.length);
  headers['x-original-sha256'] = createHash('sha256').update(value).digest('hex');
  headers['x-original-note'] = `original not copied (over ${MAX_ORIGINAL_BYTES} bytes): read it at the source offset while the topic retains it`;
  return { key, value: Buffer.alloc(0), headers };
}
