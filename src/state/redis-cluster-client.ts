import type { Cluster } from 'ioredis';
import type { RedisClient, RedisPipeline } from './redis-client.js';

/** CRC16/XMODEM, the hash Redis Cluster maps keys to slots with. */
const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** The cluster slot of a key: CRC16 of its hash tag (the first non-empty `{...}`), or of the whole key, mod 16384. */
export function keySlot(key: string): number {
  let s = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) s = key.slice(open + 1, close);
  }
  const bytes = Buffer.from(s, 'utf8');
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc % 16384;
}

type Queued = { name: string; args: unknown[] };

/**
 * The state store's Redis calls on a Redis Cluster (ioredis `Cluster`). ioredis refuses a
 * pipeline whose keys are served by more than one node, while the store pipelines a whole batch
 * of series (and the online-accuracy stage a whole scoring round): here a pipeline records its
 * commands, and `exec` sends one ioredis pipeline per master (by each command's first key, whose
 * hash tag names its series), all at once, and puts the replies back in the order the commands
 * were queued. Commands on one key keep their order (one node, one pipeline, in order); a
 * pipeline is no transaction, here as on one node. SCAN walks every master; UNLINK of keys in
 * several slots is split per slot (a multi-key command must stay in one slot on a cluster).
 */
export class RedisClusterClient implements RedisClient {
  constructor(readonly cluster: Cluster) {}

  get status(): string {
    return this.cluster.status;
  }

  on(event: 'error', listener: (err: Error) => void): this {
    this.cluster.on(event, listener);
    return this;
  }

  async connect(): Promise<void> {
    await this.cluster.connect();
  }

  pipeline(): RedisPipeline {
    const queue: Queued[] = [];
    const exec = () => this.#exec(queue);
    const proxy: RedisPipeline = new Proxy({} as RedisPipeline, {
      get: (_t, name: string | symbol) => {
        if (name === 'exec') return exec;
        if (typeof name !== 'string' || name === 'then') return undefined;
        return (...args: unknown[]) => {
          queue.push({ name, args });
          return proxy;
        };
      },
    });
    return proxy;
  }

  async #exec(queue: readonly Queued[]): Promise<Array<[Error | null, unknown]>> {
    if (queue.length === 0) return [];
    const byNode = new Map<string, number[]>();
    for (let i = 0; i < queue.length; i++) {
      const key = queue[i]!.args[0];
      const node = typeof key === 'string' || Buffer.isBuffer(key) ? (this.cluster.slots[keySlot(key.toString())]?.[0] ?? 'unmapped') : 'unmapped';
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push(i);
    }
    const out = new Array<[Error | null, unknown]>(queue.length);
    await Promise.all(
      [...byNode.values()].map(async (idx) => {
        const p = this.cluster.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & { exec(): Promise<Array<[Error | null, unknown]> | null> };
        for (const i of idx) p[queue[i]!.name]!(...queue[i]!.args);
        const res = await p.exec();
        if (!res) throw new Error('Redis Cluster pipeline was discarded');
        idx.forEach((i, k) => (out[i] = res[k]!));
      }),
    );
    return out;
  }

  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void {
    this.cluster.defineCommand(name, definition);
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.cluster.hgetall(key);
  }

  hmget(key: string, ...fields: string[]): Promise<Array<string | null>> {
    return this.cluster.hmget(key, ...fields);
  }

  type(key: string): Promise<string> {
    return this.cluster.type(key);
  }

  zrange(key: string, start: number, stop: number, withScores: 'WITHSCORES'): Promise<string[]> {
    return this.cluster.zrange(key, start, stop, withScores);
  }

  async unlink(...keys: string[]): Promise<number> {
    const bySlot = new Map<number, string[]>();
    for (const k of keys) {
      const s = keySlot(k);
      let list = bySlot.get(s);
      if (!list) bySlot.set(s, (list = []));
      list.push(k);
    }
    const counts = await Promise.all([...bySlot.values()].map((ks) => this.cluster.unlink(...ks)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * SCAN over every master: the cursor is `<master index>:<that master's cursor>` ("0" starts
   * and ends the walk), so a caller's usual loop (until the cursor is "0") sees every key once.
   */
  async scan(cursor: string | number, ...args: Array<string | number>): Promise<[string, string[]]> {
    const masters = this.cluster.nodes('master').sort((a, b) => `${a.options.host}:${a.options.port}`.localeCompare(`${b.options.host}:${b.options.port}`));
    const c = String(cursor);
    let node = 0;
    let inner = '0';
    if (c !== '0') {
      const [n, rest] = c.split(':');
      node = Number(n);
      inner = rest ?? '0';
    }
    if (node >= masters.length) return ['0', []];
    const m = masters[node]!;
    const [next, keys] = await (m.scan as (...a: unknown[]) => Promise<[string, string[]]>).call(m, inner, ...args);
    if (next !== '0') return [`${node}:${next}`, keys];
    return [node + 1 < masters.length ? `${node + 1}:0` : '0', keys];
  }

  async quit(): Promise<unknown> {
    return this.cluster.quit();
  }

  disconnect(): void {
    this.cluster.disconnect();
  }
}
