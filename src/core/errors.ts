/**
 * The one error type of the processor. Every failure carries a code from a fixed set,
 * whether retrying can help, and the underlying cause.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'DECODE_FAILED',
  'VALIDATION_FAILED',
  'UNKNOWN_SERIES',
  'UNKNOWN_STORE',
  'STATE_UNAVAILABLE',
  /** Redis refused one record's update (a wrong-typed key, a value it cannot hold): bad input for that record. */
  'STATE_REJECTED',
  'KAFKA_UNAVAILABLE',
  'REGISTRY_UNAVAILABLE',
  'MODEL_INVALID',
  'MODEL_OUTPUT_INVALID',
  'MODEL_FAILED',
  'PUBLISH_FAILED',
  'SHUTTING_DOWN',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ForecastErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  /** The input field the error is about, for bad-input errors. */
  field?: string;
  /** The series a bad-input error is about (UNKNOWN_SERIES), when there is one. */
  seriesId?: string;
}

export class ForecastError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly field: string | undefined;
  readonly seriesId: string | undefined;

  constructor(code: ErrorCode, message: string, options: ForecastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ForecastError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.field = options.field;
    this.seriesId = options.seriesId;
  }
}

/**
 * Bad input: the record is wrong, not the system. Never retried, never opens a breaker.
 * A retriable failure (the registry unreachable while decoding) is not bad input: the
 * record is retried rather than dead-lettered.
 */
export function isBadInput(err: unknown): boolean {
  return (
    err instanceof ForecastError &&
    !err.retriable &&
    (err.code === 'DECODE_FAILED' ||
      err.code === 'VALIDATION_FAILED' ||
      err.code === 'UNKNOWN_SERIES' ||
      err.code === 'UNKNOWN_STORE' ||
      err.code === 'STATE_REJECTED')
  );
}

/** A failure of a dependency (Redis, registry, Kafka), not of the record: wait and try again. */
export function isRetriable(err: unknown): boolean {
  return err instanceof ForecastError && err.retriable;
}
