import type { SeriesInfo } from '../../src/state/state-types.js';
import type { InputRecord } from '../../src/tools/input-producer.js';

export interface ForecastView {
  seriesId: string;
  store: string;
  item: string;
  source: string;
  originDate: string;
  horizons: Array<{ horizon: number; bucketDate: string; p10: number; p50: number; p90: number }>;
  triggers: Array<{ topic: string; partition: number; offset: string }>;
}

export interface DeadLetterView {
  value: Buffer;
  headers: Record<string, string>;
}

export type InputTopic = 'sales' | 'promotions' | 'weather';

/**
 * What a pipeline scenario needs from the system under test. Two drivers implement it:
 * the in-memory harness (fakes, manual clock: fast) and the real stack (Kafka, registry,
 * Redis, ONNX worker). The same scenarios run against both.
 */
export interface PipelineDriver {
  loadCatalog(series: SeriesInfo[]): Promise<void>;
  send(records: InputRecord[]): Promise<void>;
  /** Raw bytes straight onto an input topic (for bad records). */
  sendRaw(topic: InputTopic, value: Buffer): Promise<void>;
  /** Wire-format bytes of a value under an arbitrary schema registered for the topic. */
  encodeWith(topic: InputTopic, schema: object, value: unknown): Promise<Buffer>;
  /** Wait until `until(all forecasts so far)` holds; returns them. */
  waitForForecasts(until: (all: ForecastView[]) => boolean, timeoutMs?: number): Promise<ForecastView[]>;
  waitForDeadLetters(count: number, timeoutMs?: number): Promise<DeadLetterView[]>;
  /** Give the pipeline time to do anything else it would do (for "exactly N" checks). */
  quiesce(): Promise<void>;
  forecasts(): ForecastView[];
  dumpState(): Promise<unknown>;
  /** Wait until the state dump satisfies `until`; returns the last dump. */
  waitForState(until: (dump: unknown) => boolean, timeoutMs?: number): Promise<unknown>;
  /** Inputs the running model learned an effect from (events of other kinds re-forecast nothing). */
  modelInputs(): readonly string[];
  close(): Promise<void>;
}
