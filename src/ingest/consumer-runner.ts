import type { Consumer, EachBatchPayload } from 'kafkajs';
import { ForecastError, isRetriable } from '../core/errors.js';
import { nextGroupJoin } from '../core/group-join.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import type { RawRecord, SourceOffset } from './input-events.js';
import { OffsetTracker } from './offset-tracker.js';
import type { IngestEvents, RecordProcessor } from './record-processor.js';

export interface AffectedSink {
  add(entries: Iterable<[string, readonly SourceOffset[]]>): Promise<void>;
  drain(): Promise<void>;
  /** Series waiting for a batch, and the most that may wait (fetching pauses at it). */
  readonly pending: number;
  readonly capacity: number;
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
  log: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
  events?: TypedEmitter<IngestEvents>;
  /**
   * Ingest cannot go on (a non-retriable error: bad input under FS_BAD_INPUT=fail, or a bug;
   * or kafkajs gave up restarting the consumer). Called once; consumption is paused and
   * nothing past the failing records is committed.
   */
  onFatal?: (err: Error) => void;
  /** Longest wait between two tries of a chunk while a dependency is down. */
  maxRetryDelayMs?: number;
  /**
   * Exactly-once (FS_EXACTLY_ONCE): offsets are not committed by the consumer but given to the
   * forecasts' Kafka transaction, at an epoch boundary where every chunk taken so far has been
   * forecast and sent (see #commitEpoch). A failed transaction stops ingest (onFatal).
   */
  transaction?: { commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> };
}

/** Why ingest is waiting, while a dependency (Redis, the registry) is down. */
export interface Stall {
  since: number;
  code: string;
  message: string;
  attempts: number;
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
  /** Chunks waiting on a dependency, by partition: ingest is stalled while any is. */
  readonly #stalls = new Map<string, Stall>();
  #fatal: Error | null = null;
  /** Fetching paused because the batcher is full (resumed below half its capacity). */
  #pausedForBackpressure = false;
  #backpressureTimer: NodeJS.Timeout | null = null;
  /** Exactly-once: closed while an epoch commits (handlers wait before their next chunk). */
  #epoch: Promise<void> | null = null;
  /** Chunks between being taken and being handed to the batcher (an epoch waits for them). */
  #midChunk = 0;
  readonly #midChunkIdle: Array<() => void> = [];

  constructor(options: ConsumerRunnerOptions) {
    this.#o = options;
    this.#tracker = new OffsetTracker((topic, partition, rewindTo, error) => {
      options.log.warn({ topic, partition, rewindTo, err: error }, 'forecasts of a chunk were not published; replaying the partition from that chunk');
      try {
        options.consumer.seek({ topic, partition, offset: rewindTo });
      } catch (err) {
        // no group joined (a rebalance or restart): nothing past the failed chunk was committed,
        // so the partition's next owner (or this consumer, rejoined) replays it from the last commit
        options.log.warn({ topic, partition, rewindTo, err }, 'seek not possible now; the partition replays from its last commit');
      }
    });
  }

  /** Why ingest stopped for good, or null. */
  get fatal(): Error | null {
    return this.#fatal;
  }

  #fail(err: Error): void {
    if (this.#fatal) return;
    this.#fatal = err;
    this.#pauseAll();
    this.#o.onFatal?.(err);
  }

  /** Pause (true) or resume (false) fetching of every input topic; false when not joined (nothing is fetched then). */
  #pauseAll(pause = true): boolean {
    const all = this.#o.topics.map((topic) => ({ topic }));
    try {
      if (pause) this.#o.consumer.pause(all);
      else this.#o.consumer.resume(all);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Backpressure beyond the blocked handler: at the batcher's capacity every input topic is
   * paused (kafkajs fetches nothing more, so memory stays bounded by what is already fetched),
   * and resumed once the pending set is below half of it.
   */
  #checkBackpressure(): void {
    if (!this.#running || this.#fatal) return;
    const { batcher } = this.#o;
    // not joined (a rebalance): the pause/resume fails and is tried again in 100 ms
    if (!this.#pausedForBackpressure && batcher.pending >= batcher.capacity) {
      if (!this.#pauseAll()) return;
      this.#pausedForBackpressure = true;
      this.#o.events?.emit('ingest-paused', { pending: batcher.pending, capacity: batcher.capacity });
    } else if (this.#pausedForBackpressure && batcher.pending <= batcher.capacity / 2) {
      if (!this.#pauseAll(false)) return;
      this.#pausedForBackpressure = false;
      this.#o.events?.emit('ingest-unpaused', { pending: batcher.pending, capacity: batcher.capacity });
    }
  }

  /** The oldest stall of a chunk on a dependency, or null while ingest flows. */
  get stall(): Stall | null {
    let oldest: Stall | null = null;
    for (const s of this.#stalls.values()) if (!oldest || s.since < oldest.since) oldest = s;
    return oldest;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { consumer } = this.#o;
    await consumer.connect();
    await consumer.subscribe({ topics: this.#o.topics, fromBeginning: this.#o.fromBeginning });
    const joined = nextGroupJoin(consumer);
    // a rebalance: commit what is published while the partitions are still ours, then forget
    // (and stop tracking) the ones the new assignment takes away
    consumer.on(consumer.events.REBALANCING, () => void this.#commit());
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = new Set<string>();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) for (const p of partitions) assigned.add(OffsetTracker.key(topic, p));
      const dropped = this.#tracker.retain(assigned);
      if (dropped.length > 0) this.#o.log.info?.({ partitions: dropped }, 'partitions revoked: their uncommitted chunks are left to the new owner');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.#fail(new Error(`the Kafka consumer crashed and will not restart: ${payload.error.message}`, { cause: payload.error }));
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#o.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    if (this.#o.commitIntervalMs > 0) {
      this.#commitTimer = setInterval(() => void this.#commit(), this.#o.commitIntervalMs);
    }
    this.#backpressureTimer = setInterval(() => this.#checkBackpressure(), 100);
    this.#backpressureTimer.unref();
    // started = joined the group and got partitions: records produced after this are consumed
    await joined;
  }

  /**
   * Stop fetching, publish what is affected, commit it, leave the group. Idempotent. A chunk
   * waiting on a dependency gives up at once (it replays from the last commit); the drain and
   * the final commit get `deadlineMs` together (a dependency that is down cannot hold the
   * shutdown for ever: what is not committed replays on the next start).
   */
  async stop(deadlineMs = 15_000): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#backpressureTimer) clearInterval(this.#backpressureTimer);
    const { consumer, batcher } = this.#o;
    const drained = (async () => {
      // pause (not stop): the group must stay joined until the last offsets are committed
      this.#pauseAll();
      while (this.#inFlight > 0) await new Promise<void>((r) => this.#quiet.push(r));
      await batcher.drain();
      await this.#tracker.idle();
      if (this.#commitTimer) clearInterval(this.#commitTimer);
      await this.#commit();
      return true;
    })();
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([drained, new Promise<false>((r) => (timer = setTimeout(() => r(false), deadlineMs)))]);
    clearTimeout(timer);
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    if (!inTime) this.#o.log.warn({ deadlineMs }, 'shutdown deadline: leaving without draining; uncommitted records replay on the next start');
    await consumer.disconnect().catch(() => undefined);
  }

  #commit(): Promise<void> {
    if (this.#o.transaction) return this.#commitEpoch(this.#o.transaction);
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

  /**
   * An exactly-once epoch boundary: hold new chunks, let the chunks in progress reach the
   * batcher, drain it (every affected series forecast and sent into the open transaction), then
   * commit the transaction with the offsets of everything taken so far. So a committed
   * transaction holds exactly the forecasts of the records whose offsets it commits; a crash
   * before it aborts both, and the records are read again (state updates are idempotent, and a
   * replayed sale still re-forecasts its series).
   */
  #commitEpoch(tx: NonNullable<ConsumerRunnerOptions['transaction']>): Promise<void> {
    this.#committing = this.#committing.then(async () => {
      if (this.#fatal) return;
      let open!: () => void;
      this.#epoch = new Promise<void>((r) => (open = r));
      const t0 = performance.now();
      try {
        while (this.#midChunk > 0) await new Promise<void>((r) => this.#midChunkIdle.push(r));
        await this.#o.batcher.drain();
        await this.#tracker.idle();
        const offsets = this.#tracker.takeCommittable();
        await tx.commit(offsets);
        this.#o.events?.emit('epoch-committed', { partitions: offsets.length, ms: performance.now() - t0 });
      } catch (err) {
        this.#o.events?.emit('epoch-failed', { error: (err as Error).message, ms: performance.now() - t0 });
        // the forecasts of the epoch were aborted with it: nothing of it may be committed later
        this.#fail(new Error(`exactly-once: the forecasts' transaction failed, ingest stops (its records replay on restart): ${(err as Error).message}`, { cause: err }));
      } finally {
        this.#epoch = null;
        open();
      }
    });
    return this.#committing;
  }

  /**
   * Ingest one chunk; while a dependency is down (Redis, the registry: retriable errors) wait
   * and try the same chunk again, heartbeating all along, so the consumer keeps its place in
   * the group (no restart loop, no rebalance) and resumes by itself when the dependency is
   * back. Null when the runner stops or the partition is revoked meanwhile.
   */
  async #processWithRetry(records: RawRecord[], key: string, isRunning: () => boolean, isStale: () => boolean): Promise<Awaited<ReturnType<RecordProcessor['process']>> | null> {
    const max = this.#o.maxRetryDelayMs ?? 5_000;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.#o.processor.process(records);
        const stall = this.#stalls.get(key);
        if (stall) {
          this.#stalls.delete(key);
          this.#o.events?.emit('ingest-resumed', { code: stall.code, stalledMs: Date.now() - stall.since, attempts: stall.attempts });
          this.#o.log.info?.({ partition: key.replace('\u0000', '['), code: stall.code, stalledMs: Date.now() - stall.since }, 'ingest resumed');
        }
        return result;
      } catch (err) {
        if (!isRetriable(err)) throw err;
        const code = (err as ForecastError).code;
        const stall = this.#stalls.get(key) ?? { since: Date.now(), code, message: (err as Error).message, attempts: 0 };
        stall.attempts = attempt;
        stall.code = code;
        stall.message = (err as Error).message;
        if (!this.#stalls.has(key)) this.#o.log.warn({ code, err: (err as Error).message }, 'a dependency is down: ingest waits and retries the same records (consumer stays in the group)');
        this.#stalls.set(key, stall);
        this.#o.events?.emit('chunk-retry', { code, attempt });
        const delay = Math.min(max, 100 * 2 ** Math.min(attempt, 10));
        const end = Date.now() + delay;
        while (Date.now() < end) {
          if (!this.#running || !isRunning() || isStale()) {
            this.#stalls.delete(key);
            return null;
          }
          await new Promise((r) => setTimeout(r, Math.min(100, end - Date.now())));
        }
      }
    }
  }

  async #eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { batcher, chunkSize } = this.#o;
    const pipelined = this.#o.commitIntervalMs > 0;
    const beat = setInterval(() => void heartbeat().catch(() => undefined), this.#o.heartbeatMs);
    this.#inFlight++;
    try {
      const msgs = batch.messages;
      for (let i = 0; i < msgs.length; i += chunkSize) {
        while (this.#epoch) await this.#epoch;
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
        this.#midChunk++;
        try {
          if (this.#fatal) return;
          const generation = this.#tracker.generation(batch.topic, batch.partition);
          let result: Awaited<ReturnType<RecordProcessor['process']>> | null;
          try {
            result = await this.#processWithRetry(records, `${batch.topic}\u0000${batch.partition}`, isRunning, isStale);
          } catch (err) {
            // not a dependency: retrying (or kafkajs restarting the consumer) would fail the same way
            this.#fail(err as Error);
            return;
          }
          if (!result) return; // stopping or the partition moved: the chunk replays from the last commit
          // a rewind (failed publish) or a revocation overtook this chunk while it was ingested:
          // drop it, its records come again from the rewind point (state updates are idempotent)
          if (isStale() || (pipelined && this.#tracker.generation(batch.topic, batch.partition) !== generation)) return;
          const done = batcher.add(result.affected);
          this.#checkBackpressure();
          const last = slice[slice.length - 1]!.offset;
          const chunk = { first: slice[0]!.offset, next: (BigInt(last) + 1n).toString(), done };
          if (!pipelined) {
            await done;
            resolveOffset(last);
            await this.#o.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: chunk.next }]);
            continue;
          }
          if (!this.#tracker.track(batch.topic, batch.partition, chunk, generation)) return;
          // the fetch position moves on; the commit waits for the forecasts
          resolveOffset(last);
        } finally {
          if (--this.#midChunk === 0) for (const r of this.#midChunkIdle.splice(0)) r();
        }
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
