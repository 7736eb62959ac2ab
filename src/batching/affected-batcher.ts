import type { Clock } from '../core/clock.js';
import { ForecastError } from '../core/errors.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import type { SourceOffset } from '../ingest/input-events.js';

/** One series to re-forecast, with the input offsets that asked for it (newest last). */
export interface BatchItem {
  seriesId: string;
  triggers: SourceOffset[];
  /** When the series first entered the pending set (clock ms). */
  enqueuedAt: number;
}

export type FlushReason = 'size' | 'delay' | 'drain';

export interface BatchingEvents {
  'batch-started': { size: number; reason: FlushReason; oldestWaitMs: number; pending: number };
  'batch-completed': { size: number; durationMs: number; ok: boolean };
  backpressure: { pending: number; capacity: number };
}

export interface AffectedBatcherOptions {
  maxSize: number;
  maxDelayMs: number;
  /** Pending series at most; `add` waits for room above it (consumers pause). */
  capacity: number;
  maxInFlight: number;
  /** Most trigger offsets kept per series. */
  maxTriggers: number;
  clock: Clock;
  events: TypedEmitter<BatchingEvents>;
  /** Forecast and publish one batch; the batcher resolves waiters when it settles. */
  handle: (batch: BatchItem[]) => Promise<void>;
}

interface Waiter {
  remaining: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Pending extends BatchItem {
  waiters: Waiter[];
}

/**
 * The set of affected series, de-duplicated, flushed into batches when it reaches
 * `maxSize` or its oldest entry has waited `maxDelayMs`. `add` returns a promise that
 * settles when every series it added has been forecast and published by a batch that
 * started after the add: the consumer commits input offsets only then (at-least-once end
 * to end). A series already in flight is queued again, since the running batch may have
 * read state from before the new event.
 */
export class AffectedBatcher {
  readonly #o: AffectedBatcherOptions;
  readonly #pending = new Map<string, Pending>();
  #inFlight = 0;
  #timer: unknown = null;
  #draining = false;
  #stopped = false;
  readonly #roomWaiters: Array<() => void> = [];
  readonly #idleWaiters: Array<() => void> = [];

  constructor(options: AffectedBatcherOptions) {
    if (options.capacity < options.maxSize) throw new ForecastError('CONFIG_INVALID', 'batch capacity must be >= batch max size');
    this.#o = options;
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Pending series at most before add() waits (backpressure). */
  get capacity(): number {
    return this.#o.capacity;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Queue series; resolves once all of them are forecast and published. */
  async add(entries: Iterable<[string, readonly SourceOffset[]]>): Promise<void> {
    if (this.#stopped) throw new ForecastError('SHUTTING_DOWN', 'batcher is stopped');
    const list = [...entries];
    if (list.length === 0) return;
    // backpressure: wait for room, but let an oversized add through once the set is empty
    while (this.#pending.size > 0 && this.#pending.size + list.length > this.#o.capacity) {
      this.#o.events.emit('backpressure', { pending: this.#pending.size, capacity: this.#o.capacity });
      await new Promise<void>((r) => this.#roomWaiters.push(r));
      if (this.#stopped) throw new ForecastError('SHUTTING_DOWN', 'batcher stopped while waiting for room');
    }
    const now = this.#o.clock.now();
    const done = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { remaining: 0, resolve, reject };
      for (const [seriesId, triggers] of list) {
        let p = this.#pending.get(seriesId);
        if (!p) {
          p = { seriesId, triggers: [], enqueuedAt: now, waiters: [] };
          this.#pending.set(seriesId, p);
        }
        for (const t of triggers) p.triggers.push(t);
        if (p.triggers.length > this.#o.maxTriggers) p.triggers.splice(0, p.triggers.length - this.#o.maxTriggers);
        if (p.waiters.at(-1) !== waiter) {
          p.waiters.push(waiter);
          waiter.remaining++;
        }
      }
    });
    this.#schedule();
    return done;
  }

  /** Flush everything pending now and wait until nothing is pending or in flight. */
  async drain(): Promise<void> {
    this.#draining = true;
    try {
      this.#schedule();
      while (this.#pending.size > 0 || this.#inFlight > 0) {
        await new Promise<void>((r) => this.#idleWaiters.push(r));
        this.#schedule();
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Drain, then refuse new work. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    await this.drain();
    this.#stopped = true;
    this.#clearTimer();
    for (const r of this.#roomWaiters.splice(0)) r();
  }

  #schedule(): void {
    const o = this.#o;
    while (this.#inFlight < o.maxInFlight && this.#pending.size > 0) {
      const oldest = this.#pending.values().next().value as Pending;
      const waited = o.clock.now() - oldest.enqueuedAt;
      let reason: FlushReason;
      if (this.#pending.size >= o.maxSize) reason = 'size';
      else if (waited >= o.maxDelayMs) reason = 'delay';
      else if (this.#draining) reason = 'drain';
      else break;
      this.#start(reason, waited);
    }
    this.#clearTimer();
    if (this.#pending.size > 0 && this.#inFlight < o.maxInFlight) {
      const oldest = this.#pending.values().next().value as Pending;
      const wait = Math.max(0, oldest.enqueuedAt + o.maxDelayMs - o.clock.now());
      this.#timer = o.clock.setTimeout(() => {
        this.#timer = null;
        this.#schedule();
      }, wait);
    }
  }

  #start(reason: FlushReason, oldestWaitMs: number): void {
    const o = this.#o;
    const batch: Pending[] = [];
    for (const p of this.#pending.values()) {
      batch.push(p);
      if (batch.length >= o.maxSize) break;
    }
    for (const p of batch) this.#pending.delete(p.seriesId);
    this.#inFlight++;
    o.events.emit('batch-started', { size: batch.length, reason, oldestWaitMs, pending: this.#pending.size });
    for (const r of this.#roomWaiters.splice(0)) r();
    const started = o.clock.now();
    const items: BatchItem[] = batch.map(({ seriesId, triggers, enqueuedAt }) => ({ seriesId, triggers, enqueuedAt }));
    void (async () => {
      let ok = true;
      let failure: unknown = null;
      try {
        await o.handle(items);
      } catch (err) {
        ok = false;
        failure = err;
      }
      this.#inFlight--;
      o.events.emit('batch-completed', { size: batch.length, durationMs: o.clock.now() - started, ok });
      for (const p of batch) {
        for (const w of p.waiters) {
          if (!ok) w.reject(failure);
          else if (--w.remaining === 0) w.resolve();
        }
      }
      for (const r of this.#idleWaiters.splice(0)) r();
      this.#schedule();
    })();
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      this.#o.clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
  }
}
