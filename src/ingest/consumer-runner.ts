import type { Consumer, EachBatchPayload } from 'kafkajs';
import { nextGroupJoin } from '../core/group-join.js';
import type { RawRecord, SourceOffset } from './input-events.js';
import { OffsetTracker } from './offset-tracker.js';
import type { RecordProcessor } from './record-processor.js';

export interface AffectedSink {
  add(entries: Iterable<[string, readonly SourceOffset[]]>): Promise<void>;
  drain(): Promise<void>;
}

export interface ConsumerRunnerOptions {
  consumer: Consumer;
  topics: string[];
  processor: RecordProcessor;
  batcher: AffectedSink;
  /** Records handled per state round trip inside one fetched batch. */
  chunkSize: number;
  partitionsConsumedConcurrently: number;
  /** Heartbeat while waiting (below the session timeout). */
  heartbeatMs: number;
  fromBeginning: boolean;
  /**
   * 0: wait for each chunk's forecasts and commit before taking the next chunk (simple,
   * slower). > 0: keep consuming while forecasts are on their way and commit the published
   * prefix of each partition at most this often.
   */
  commitIntervalMs: number;
  /** Chunks per partition whose forecasts may be outstanding before consumption waits. */
  maxOutstandingChunks: number;
  log: { warn(obj: object, msg: string): void };
}

/**
 * Kafka side of ingest: one consumer group over the four input topics, manual commits.
 * Each chunk of a fetched batch is ingested (decode, validate, DLQ, state) and its affected
 * series handed to the batcher; its offsets are committed only once those forecasts are
 * published and every earlier chunk of the partition is too (OffsetTracker). A crash
 * before the commit replays the chunk, which idempotent state updates make harmless
 * (at-least-once end to end); a failed publish rewinds the partition to the chunk.
 * Backpressure: the batcher's bounded capacity and a cap on outstanding chunks per
 * partition block the partition's handler, so kafkajs fetches nothing more for it.
 */
export class ConsumerRunner {
  readonly #o: ConsumerRunnerOptions;
  readonly #tracker: OffsetTracker;
  #running = false;
  #commitTimer: NodeJS.Timeout | null = null;
  #committing: Promise<void> = Promise.resolve();
  #inFlight = 0;
  readonly #quiet: Array<() => void> = [];

  constructor(options: ConsumerRunnerOptions) {
    this.#o = options;
    this.#tracker = new OffsetTracker((topic, partition, rewindTo, error) => {
      options.log.warn({ topic, partition, rewindTo, err: error }, 'forecasts of a chunk were not published; replaying the partition from that chunk');
      options.consumer.seek({ topic, partition, offset: rewindTo });
    });
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { consumer } = this.#o;
    await consumer.connect();
    await consumer.subscribe({ topics: this.#o.topics, fromBeginning: this.#o.fromBeginning });
    const joined = nextGroupJoin(consumer);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#o.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    if (this.#o.commitIntervalMs > 0) {
      this.#commitTimer = setInterval(() => void this.#commit(), this.#o.commitIntervalMs);
    }
    // started = joined the group and got partitions: records produced after this are consumed
    await joined;
  }

  /** Stop fetching, publish what is affected, commit it, leave the group. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    const { consumer, batcher } = this.#o;
    // pause (not stop): the group must stay joined until the last offsets are committed
    consumer.pause(this.#o.topics.map((topic) => ({ topic })));
    while (this.#inFlight > 0) await new Promise<void>((r) => this.#quiet.push(r));
    await batcher.drain();
    await this.#tracker.idle();
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    await this.#commit();
    await consumer.disconnect();
  }

  #commit(): Promise<void> {
    // one commit at a time, in order
    this.#committing = this.#committing.then(async () => {
      const offsets = this.#tracker.takeCommittable();
      if (offsets.length === 0) return;
      try {
        await this.#o.consumer.commitOffsets(offsets);
      } catch (err) {
        // e.g. a rebalance moved the partition: its new owner replays from the last commit
        this.#tracker.restore(offsets);
        this.#o.log.warn({ err, partitions: offsets.length }, 'offset commit failed; will retry');
      }
    });
    return this.#committing;
  }

  async #eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { processor, batcher, chunkSize } = this.#o;
    const pipelined = this.#o.commitIntervalMs > 0;
    const beat = setInterval(() => void heartbeat().catch(() => undefined), this.#o.heartbeatMs);
    this.#inFlight++;
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
        const done = batcher.add(result.affected);
        const last = slice[slice.length - 1]!.offset;
        const chunk = { first: slice[0]!.offset, next: (BigInt(last) + 1n).toString(), done };
        if (!pipelined) {
          await done;
          resolveOffset(last);
          await this.#o.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: chunk.next }]);
          continue;
        }
        this.#tracker.track(batch.topic, batch.partition, chunk);
        // the fetch position moves on; the commit waits for the forecasts
        resolveOffset(last);
        while (this.#tracker.outstanding(batch.topic, batch.partition) > this.#o.maxOutstandingChunks) {
          await this.#tracker.oldest(batch.topic, batch.partition);
        }
      }
    } finally {
      clearInterval(beat);
      if (--this.#inFlight === 0) for (const r of this.#quiet.splice(0)) r();
    }
  }
}
