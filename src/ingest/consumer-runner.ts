import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { RawRecord, SourceOffset } from './input-events.js';
import type { RecordProcessor } from './record-processor.js';

export interface AffectedSink {
  add(entries: Iterable<[string, readonly SourceOffset[]]>): Promise<void>;
}

export interface ConsumerRunnerOptions {
  consumer: Consumer;
  topics: string[];
  processor: RecordProcessor;
  batcher: AffectedSink;
  /** Records handled per state round trip inside one fetched batch. */
  chunkSize: number;
  partitionsConsumedConcurrently: number;
  /** Heartbeat while waiting for forecasts of a chunk (below the session timeout). */
  heartbeatMs: number;
  fromBeginning: boolean;
}

/**
 * Kafka side of ingest: one consumer group over the three input topics, manual commits.
 * For each chunk of a fetched batch: ingest (decode, validate, DLQ, state), hand the
 * affected series to the batcher, wait until their forecasts are published, then commit
 * the chunk's offsets. Waiting on the batcher is the backpressure: the partition fetches
 * nothing more until its forecasts are out. A crash before the commit replays the chunk,
 * which idempotent state updates make harmless (at-least-once end to end).
 */
export class ConsumerRunner {
  readonly #o: ConsumerRunnerOptions;
  #running = false;

  constructor(options: ConsumerRunnerOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { consumer } = this.#o;
    await consumer.connect();
    await consumer.subscribe({ topics: this.#o.topics, fromBeginning: this.#o.fromBeginning });
    const joined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#o.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    // started = joined the group and got partitions: records produced after this are consumed
    await joined;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.#o.consumer.disconnect();
  }

  async #eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { processor, batcher, chunkSize, consumer } = this.#o;
    const beat = setInterval(() => void heartbeat().catch(() => undefined), this.#o.heartbeatMs);
    try {
      const msgs = batch.messages;
      for (let i = 0; i < msgs.length; i += chunkSize) {
        if (!isRunning() || isStale()) return;
        const slice = msgs.slice(i, i + chunkSize);
        const records: RawRecord[] = slice.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          timestamp: m.timestamp,
        }));
        const result = await processor.process(records);
        await batcher.add(result.affected);
        const last = slice[slice.length - 1]!.offset;
        resolveOffset(last);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      }
    } finally {
      clearInterval(beat);
    }
  }
}
