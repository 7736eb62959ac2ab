import type { Producer, Transaction } from 'kafkajs';
import type { MessageProducer } from './message-producer.js';

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read (Kafka's commit convention). */
  offset: string;
}

/**
 * The forecast topic's producer under FS_EXACTLY_ONCE: every send goes into the open Kafka
 * transaction (one is opened by the first send of an epoch), and `commit` adds the consumed
 * input offsets to it (TxnOffsetCommit for the consumer group) and commits both at once. A
 * `read_committed` reader (librdkafka's and kafkajs' default) sees an epoch's forecasts only
 * together with the offsets of the records they reflect: a crash before the commit aborts both
 * (the next producer with the same transactional id fences the open transaction), and the
 * records are read and forecast again. Sends of one epoch may run concurrently; `commit` waits
 * for them. One epoch at a time (the ingest stage holds new chunks while it commits).
 */
export class TransactionalProducer implements MessageProducer {
  #tx: Promise<Transaction> | null = null;
  #sends = new Set<Promise<unknown>>();

  constructor(
    private readonly producer: Producer,
    private readonly consumerGroupId: string,
  ) {}

  send(record: { topic: string; messages: Array<{ key: string | Buffer | null; value: Buffer; headers?: Record<string, string> }>; acks?: number }): Promise<unknown> {
    const tx = (this.#tx ??= this.producer.transaction());
    const p = tx.then((t) => t.send({ topic: record.topic, messages: record.messages, acks: -1 }));
    this.#sends.add(p);
    void p.then(
      () => this.#sends.delete(p),
      () => this.#sends.delete(p),
    );
    return p;
  }

  /** Commit the epoch: its forecasts and `offsets` (possibly none) in one transaction. Throws after aborting on failure. */
  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    if (!this.#tx && offsets.length === 0) return;
    const pending = [...this.#sends];
    const tx = await (this.#tx ??= this.producer.transaction());
    try {
      // a send that failed fails the epoch: its forecasts would be missing from it
      await Promise.all(pending);
      if (offsets.length > 0) {
        const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
        for (const o of offsets) {
          let list = byTopic.get(o.topic);
          if (!list) byTopic.set(o.topic, (list = []));
          list.push({ partition: o.partition, offset: o.offset });
        }
        await tx.sendOffsets({ consumerGroupId: this.consumerGroupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      }
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    } finally {
      this.#tx = null;
    }
  }

  /** Whether forecasts are waiting in an open transaction. */
  get open(): boolean {
    return this.#tx !== null;
  }
}
