import type { Admin } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';

/**
 * Consumer lag per input topic (end offsets minus the group's committed offsets), read
 * with the admin client every `intervalMs`, so SREs see a backlog building before
 * forecasts go stale. Errors are ignored: the next poll tries again.
 */
export class LagMonitor {
  readonly #gauge: Gauge<'topic'>;
  #timer: NodeJS.Timeout | null = null;
  #last: Record<string, number> = {};

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topics: string[],
    registry: Registry,
    private readonly intervalMs = 10_000,
  ) {
    this.#gauge = new Gauge({ name: 'forecast_stream_consumer_lag', help: 'Input records not yet committed by the consumer group, per topic', labelNames: ['topic'], registers: [registry] });
  }

  get last(): Readonly<Record<string, number>> {
    return this.#last;
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.poll();
    this.#timer = setInterval(() => void this.poll(), this.intervalMs);
    this.#timer.unref();
  }

  async poll(): Promise<void> {
    try {
      const committed = await this.admin.fetchOffsets({ groupId: this.groupId, topics: this.topics });
      for (const t of committed) {
        const ends = await this.admin.fetchTopicOffsets(t.topic);
        const high = new Map(ends.map((p) => [p.partition, Number(p.high)]));
        const low = new Map(ends.map((p) => [p.partition, Number(p.low)]));
        let lag = 0;
        for (const p of t.partitions) {
          const done = Number(p.offset) < 0 ? (low.get(p.partition) ?? 0) : Number(p.offset);
          lag += Math.max(0, (high.get(p.partition) ?? 0) - done);
        }
        this.#gauge.set({ topic: t.topic }, lag);
        this.#last = { ...this.#last, [t.topic]: lag };
      }
    } catch {
      // broker briefly unavailable: keep the last value
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.admin.disconnect().catch(() => undefined);
  }
}
