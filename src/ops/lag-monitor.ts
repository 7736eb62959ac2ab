import type { Admin } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';

/**
 * Consumer lag per input topic (end offsets minus the group's committed offsets), read
 * with the admin client every `intervalMs`, so SREs see a backlog building before
 * forecasts go stale. A poll that fails or takes longer than `timeoutMs` keeps the last
 * values; two in a row mark Kafka unreachable (readiness says so) until a poll succeeds again.
 */
export class LagMonitor {
  readonly #gauge: Gauge<'topic'>;
  #timer: NodeJS.Timeout | null = null;
  #last: Record<string, number> = {};
  #failingSince: number | null = null;
  #failures = 0;
  #lastError = '';
  #polling = false;

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topics: string[],
    registry: Registry,
    private readonly intervalMs = 5_000,
    private readonly timeoutMs = 4_000,
    private readonly now: () => number = Date.now,
  ) {
    this.#gauge = new Gauge({ name: 'forecast_stream_consumer_lag', help: 'Input records not yet committed by the consumer group, per topic', labelNames: ['topic'], registers: [registry] });
  }

  get last(): Readonly<Record<string, number>> {
    return this.#last;
  }

  /**
   * Why Kafka counts as unreachable, or null: the last two polls in a row failed or timed out
   * (one slow answer under a flood is not an outage: the 10x flood saw single 4 s timeouts).
   */
  get problem(): string | null {
    return this.#failingSince === null || this.#failures < 2 ? null : `Kafka unreachable for ${Math.round((this.now() - this.#failingSince) / 1000)} s (${this.#lastError})`;
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.poll();
    this.#timer = setInterval(() => void this.poll(), this.intervalMs);
    this.#timer.unref();
  }

  async poll(): Promise<void> {
    if (this.#polling) return; // the previous poll still waits on the broker
    this.#polling = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the brokers in ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      await Promise.race([this.#read(), timeout]);
      this.#failingSince = null;
      this.#failures = 0;
    } catch (err) {
      // keep the last values; the next poll tries again
      this.#failingSince ??= this.now();
      this.#failures++;
      this.#lastError = (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.#polling = false;
    }
  }

  async #read(): Promise<void> {
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
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.admin.disconnect().catch(() => undefined);
  }
}
