/**
 * The Kafka clients' own ceilings on this machine, measured the same way for each (the
 * performance issue's "ratios, not only absolutes"): a bare consumer of a pre-produced backlog
 * doing nothing (records/s), and the bare produce→consume hop at a steady rate (p50/p99/p999 of
 * send → receive, both ends in this process). Clients: kafkajs (the pipeline's today),
 * @confluentinc/kafka-javascript (librdkafka, through its KafkaJS-compatible API) and
 * @platformatic/kafka (pure JS) — each when installed (the last two are optional dependencies:
 * a client that is not installed is reported as such, not measured).
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';

export interface RawClient {
  name: string;
  version: string;
  /** Send one batch and wait for the broker's acknowledgement. */
  produce(topic: string, messages: Array<{ key: string; value: Buffer }>): Promise<void>;
  /** Send one message without waiting (the hop measurement's producer). */
  produceNoWait(topic: string, key: string, value: Buffer): void;
  /** Consume `topic` from the beginning in a fresh group; onValue per record. */
  consume(topic: string, groupId: string, onValue: (value: Buffer) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface RawResult {
  client: string;
  version?: string;
  installed: boolean;
  error?: string;
  ceilingRecordsPerSec?: number;
  hop?: { rate: number; sent: number; received: number; p50Ms: number; p99Ms: number; p999Ms: number };
}

const now = () => performance.timeOrigin + performance.now();

async function loadOptional(name: string): Promise<Record<string, unknown> | null> {
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function versionOf(name: string): Promise<string> {
  try {
    const { createRequire } = await import('node:module');
    return (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function kafkajsClient(brokers: string[]): Promise<RawClient> {
  const kafka = new Kafka({ clientId: 'raw-bench', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const consumers: Array<{ disconnect(): Promise<void> }> = [];
  return {
    name: 'kafkajs',
    version: await versionOf('kafkajs'),
    produce: async (topic, messages) => void (await producer.send({ topic, messages, acks: -1 })),
    produceNoWait: (topic, key, value) => void producer.send({ topic, messages: [{ key, value }], acks: -1 }).catch(() => undefined),
    consume: async (topic, groupId, onValue) => {
      const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      consumers.push(c);
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ autoCommit: false, partitionsConsumedConcurrently: 6, eachBatch: async ({ batch }) => { for (const m of batch.messages) if (m.value) onValue(m.value); } });
      return () => c.disconnect();
    },
    close: async () => {
      for (const c of consumers) await c.disconnect().catch(() => undefined);
      await producer.disconnect();
    },
  };
}

/** librdkafka through @confluentinc/kafka-javascript's KafkaJS-compatible API, low-latency settings (linger 0). */
export async function confluentClient(brokers: string[]): Promise<RawClient | null> {
  const mod = await loadOptional('@confluentinc/kafka-javascript');
  if (!mod) return null;
  const { Kafka: CKafka } = mod.KafkaJS as { Kafka: new (c: unknown) => any };
  const kafka = new CKafka({ kafkaJS: { clientId: 'raw-bench', brokers, logLevel: 0 } });
  const producer = kafka.producer({ 'linger.ms': 0, kafkaJS: { acks: -1 } });
  await producer.connect();
  const consumers: any[] = [];
  return {
    name: 'confluent-kafka-javascript (librdkafka)',
    version: await versionOf('@confluentinc/kafka-javascript'),
    produce: async (topic, messages) => void (await producer.send({ topic, messages })),
    produceNoWait: (topic, key, value) => void producer.send({ topic, messages: [{ key, value }] }).catch(() => undefined),
    consume: async (topic, groupId, onValue) => {
      // librdkafka's low-latency consumer settings: short fetch waits, no backoff of the local queue
      const c = kafka.consumer({ 'fetch.queue.backoff.ms': 0, kafkaJS: { groupId, fromBeginning: true, autoCommit: false, maxWaitTimeInMs: 10 } });
      consumers.push(c);
      await c.connect();
      await c.subscribe({ topics: [topic] });
      await c.run({ eachMessage: async ({ message }: { message: { value: Buffer | null } }) => { if (message.value) onValue(message.value); } });
      return () => c.disconnect();
    },
    close: async () => {
      for (const c of consumers) await c.disconnect().catch(() => undefined);
      await producer.disconnect();
    },
  };
}

/** @platformatic/kafka (pure JS): a Producer, and a Consumer's message stream. */
export async function platformaticClient(brokers: string[]): Promise<RawClient | null> {
  const mod = (await loadOptional('@platformatic/kafka')) as { Producer: new (o: unknown) => any; Consumer: new (o: unknown) => any } | null;
  if (!mod) return null;
  // requests in flight per connection: a sender that does not wait would otherwise queue behind 5
  const producer = new mod.Producer({ clientId: 'raw-bench', bootstrapBrokers: brokers, acks: -1, maxInflights: 64 });
  const consumers: any[] = [];
  return {
    name: 'platformatic-kafka',
    version: await versionOf('@platformatic/kafka'),
    produce: async (topic, messages) => void (await producer.send({ messages: messages.map((m) => ({ topic, key: Buffer.from(m.key), value: m.value })) })),
    produceNoWait: (topic, key, value) => void producer.send({ messages: [{ topic, key: Buffer.from(key), value }] }).catch(() => undefined),
    consume: async (topic, groupId, onValue) => {
      const c = new mod.Consumer({ clientId: 'raw-bench', groupId, bootstrapBrokers: brokers, maxWaitTime: 10 });
      consumers.push(c);
      const stream = await c.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      stream.on('data', (m: { value: Buffer }) => onValue(m.value));
      return async () => {
        await stream.close?.();
        await c.close();
      };
    },
    close: async () => {
      for (const c of consumers) await c.close().catch(() => undefined);
      await producer.close();
    },
  };
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Ceiling and hop for one client, on fresh topics (6 partitions). */
export async function measureClient(client: RawClient, admin: Admin, o: { backlog: number; rate: number; seconds: number; tag: string }): Promise<RawResult> {
  const backlogTopic = `${o.tag}-raw-backlog`;
  const hopTopic = `${o.tag}-raw-hop`;
  await admin.createTopics({ topics: [{ topic: backlogTopic, numPartitions: 6 }, { topic: hopTopic, numPartitions: 6 }], waitForLeaders: true });
  try {
    // the backlog: ~200-byte records, produced with kafkajs in batches of 1,000 (not timed)
    const value = Buffer.alloc(200, 7);
    const seed = await kafkajsClient((await admin.describeCluster()).brokers.map((b) => `${b.host}:${b.port}`));
    for (let i = 0; i < o.backlog; i += 1_000) await seed.produce(backlogTopic, Array.from({ length: Math.min(1_000, o.backlog - i) }, (_, k) => ({ key: `s${(i + k) % 5_000}`, value })));
    await seed.close();
    let got = 0;
    let firstAt = 0;
    let lastAt = 0;
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    // timed from the third of the backlog to its end: a client's first fetches (and the group
    // join) land records in memory before they are handed out, which would flatter the rate
    const from = Math.floor(o.backlog / 3);
    const stopCeiling = await client.consume(backlogTopic, `${o.tag}-raw-ceiling`, () => {
      if (got === from) firstAt = now();
      if (++got === o.backlog) {
        lastAt = now();
        finished();
      }
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([done, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`consumed ${got} of ${o.backlog} in 180 s`)), 180_000)))]);
    } finally {
      clearTimeout(timer);
      await stopCeiling();
    }
    const ceiling = (o.backlog - 1 - from) / ((lastAt - firstAt) / 1000);

    // the hop: send at `rate` for `seconds`, receive in this process
    const latencies: number[] = [];
    const stopHop = await client.consume(hopTopic, `${o.tag}-raw-hop`, (v) => {
      if (v.length >= 8) latencies.push(now() - v.readDoubleLE(0));
    });
    await new Promise((r) => setTimeout(r, 3_000)); // joined and fetching
    const total = o.rate * o.seconds;
    const t0 = now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / o.rate;
      const wait = due - now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const b = Buffer.alloc(64);
      b.writeDoubleLE(now(), 0);
      client.produceNoWait(hopTopic, `s${i % 5_000}`, b);
    }
    const end = Date.now() + 15_000;
    while (latencies.length < total && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    await stopHop();
    const sorted = Float64Array.from(latencies.slice(Math.floor(latencies.length * 0.05))).sort(); // the first 5% warm the connections
    return {
      client: client.name,
      version: client.version,
      installed: true,
      ceilingRecordsPerSec: Math.round(ceiling),
      hop: { rate: o.rate, sent: total, received: latencies.length, p50Ms: round(quantile(sorted, 0.5)), p99Ms: round(quantile(sorted, 0.99)), p999Ms: round(quantile(sorted, 0.999)) },
    };
  } finally {
    await admin.deleteTopics({ topics: [backlogTopic, hopTopic] }).catch(() => undefined);
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Every client, the same measurements, one after the other (a client's numbers are never taken while another runs). */
export async function rawClients(brokers: string[], o: { backlog?: number; rate?: number; seconds?: number; tag: string; log?: (l: string) => void }): Promise<RawResult[]> {
  const admin = new Kafka({ clientId: 'raw-bench-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const out: RawResult[] = [];
  try {
    const makers: Array<[string, () => Promise<RawClient | null>]> = [
      ['kafkajs', () => kafkajsClient(brokers)],
      ['confluent-kafka-javascript (librdkafka)', () => confluentClient(brokers)],
      ['platformatic-kafka', () => platformaticClient(brokers)],
    ];
    for (const [name, make] of makers) {
      o.log?.(`raw-clients: ${name}...`);
      let client: RawClient | null = null;
      try {
        client = await make();
        if (!client) {
          out.push({ client: name, installed: false });
          continue;
        }
        out.push(await measureClient(client, admin, { backlog: o.backlog ?? 300_000, rate: o.rate ?? 2_000, seconds: o.seconds ?? 15, tag: `${o.tag}-${out.length}` }));
      } catch (err) {
        out.push({ client: name, installed: client !== null, error: (err as Error).message });
      } finally {
        await client?.close().catch(() => undefined);
      }
      o.log?.(`raw-clients: ${JSON.stringify(out.at(-1))}`);
    }
  } finally {
    await admin.disconnect();
  }
  return out;
}
