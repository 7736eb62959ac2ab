/**
 * Which input offsets may be committed. Each partition has a FIFO of chunks whose
 * forecasts are on their way; a chunk's offsets become committable only when it and every
 * chunk before it on that partition have been published. A failed chunk stops the
 * partition there: the caller rewinds (seeks) to its first offset and the partition's
 * later chunks are forgotten, so nothing past a failure is ever committed.
 */
export interface TrackedChunk {
  /** Offset of the chunk's first record (where to rewind on failure). */
  first: string;
  /** Offset after the chunk's last record (what a commit stores). */
  next: string;
  done: Promise<void>;
}

interface Entry extends TrackedChunk {
  state: 'pending' | 'ok' | 'failed';
  error?: unknown;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export class OffsetTracker {
  readonly #queues = new Map<string, Entry[]>();
  readonly #committable = new Map<string, PartitionOffset>();
  /** Bumped on every rewind of a partition: a chunk that started before it must not be tracked. */
  readonly #generations = new Map<string, number>();
  readonly #idle: Array<() => void> = [];

  constructor(private readonly onFailure: (topic: string, partition: number, rewindTo: string, error: unknown) => void) {}

  /** The partition's rewind count; read it before ingesting a chunk and pass it to track(). */
  generation(topic: string, partition: number): number {
    return this.#generations.get(`${topic}\u0000${partition}`) ?? 0;
  }

  /**
   * Track a chunk whose forecasts are on their way. With `generation` (read before the chunk
   * was ingested), a chunk that a rewind overtook is refused (false): tracked into the fresh
   * queue it could be committed before the rewound chunk is published, and a crash then would
   * lose that chunk's forecasts. The caller drops it; the rewind re-fetches its records.
   */
  track(topic: string, partition: number, chunk: TrackedChunk, generation?: number): boolean {
    const key = `${topic}\u0000${partition}`;
    if (generation !== undefined && generation !== (this.#generations.get(key) ?? 0)) return false;
    let q = this.#queues.get(key);
    if (!q) this.#queues.set(key, (q = []));
    const entry: Entry = { ...chunk, state: 'pending' };
    q.push(entry);
    const queue = q;
    chunk.done.then(
      () => {
        entry.state = 'ok';
        this.#advance(key, topic, partition, queue);
      },
      (error: unknown) => {
        entry.state = 'failed';
        entry.error = error;
        this.#advance(key, topic, partition, queue);
      },
    );
    return true;
  }

  /** Chunks of this partition not yet published. */
  outstanding(topic: string, partition: number): number {
    return this.#queues.get(`${topic}\u0000${partition}`)?.length ?? 0;
  }

  /** The oldest chunk still waiting on this partition (for backpressure). */
  oldest(topic: string, partition: number): Promise<void> | null {
    return this.#queues.get(`${topic}\u0000${partition}`)?.[0]?.done.catch(() => undefined) ?? null;
  }

  /**
   * After a rebalance: forget every partition this member no longer owns (its queue, its
   * committable offset) and bump its generation, so a chunk of it still being ingested is
   * refused. Committing a revoked partition's offset later could move its new owner's
   * committed offset backwards.
   */
  retain(assigned: ReadonlySet<string>): string[] {
    const dropped: string[] = [];
    for (const key of new Set([...this.#queues.keys(), ...this.#committable.keys()])) {
      if (assigned.has(key)) continue;
      this.#queues.delete(key);
      this.#committable.delete(key);
      this.#generations.set(key, (this.#generations.get(key) ?? 0) + 1);
      dropped.push(`${key.replace('\u0000', '[')}]`);
    }
    if ([...this.#queues.values()].every((q) => q.length === 0)) for (const r of this.#idle.splice(0)) r();
    return dropped;
  }

  /** The key retain() takes for a partition. */
  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Offsets to commit now (and forget them). */
  takeCommittable(): PartitionOffset[] {
    const out = [...this.#committable.values()];
    this.#committable.clear();
    return out;
  }

  /** Put offsets back after a failed commit, unless newer ones arrived meanwhile. */
  restore(offsets: PartitionOffset[]): void {
    for (const o of offsets) {
      const key = `${o.topic}\u0000${o.partition}`;
      if (!this.#committable.has(key)) this.#committable.set(key, o);
    }
  }

  /** Resolves when no chunk is outstanding on any partition. */
  async idle(): Promise<void> {
    while ([...this.#queues.values()].some((q) => q.length > 0)) await new Promise<void>((r) => this.#idle.push(r));
  }

  #advance(key: string, topic: string, partition: number, queue: Entry[]): void {
    if (this.#queues.get(key) !== queue) return; // the partition was rewound: this queue is history
    while (queue.length > 0 && queue[0]!.state === 'ok') {
      const head = queue.shift()!;
      this.#committable.set(key, { topic, partition, offset: head.next });
    }
    if (queue[0]?.state === 'failed') {
      const failed = queue[0];
      this.#queues.set(key, []);
      this.#generations.set(key, (this.#generations.get(key) ?? 0) + 1);
      this.onFailure(topic, partition, failed.first, failed.error);
    }
    if ([...this.#queues.values()].every((q) => q.length === 0)) for (const r of this.#idle.splice(0)) r();
  }
}
