import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { KeyBuilder } from '../../src/state/keys.js';
import { keySlot } from '../../src/state/redis-cluster-client.js';
import { stateRedis } from '../../src/state/redis-connection.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import { defineStateStoreContract } from '../scenarios/state-store-contract.js';
import { definePipelineScenarios } from '../scenarios/pipeline-scenarios.js';
import { StackDriver } from '../support/stack-driver.js';
import { testConfig } from '../support/real-stack.js';

// The state store on a real three-master Redis Cluster (stack/redis-cluster.sh, the optional
// stack profile): the same contract suite and pipeline scenarios as on one Redis.
const PORTS = [7101, 7102, 7103];
const env = { ...process.env, REDIS_CLUSTER_PORTS: PORTS.join(' ') };
const CLUSTER = { redisUrl: `redis://127.0.0.1:${PORTS[0]}`, redisCluster: true } as const;

beforeAll(() => {
  execFileSync('bash', ['stack/redis-cluster.sh', 'up'], { env, stdio: 'pipe', timeout: 60_000 });
}, 90_000);

afterAll(() => {
  execFileSync('bash', ['stack/redis-cluster.sh', 'down'], { env, stdio: 'pipe', timeout: 60_000 });
});

async function clusterStore(windowBuckets = 10) {
  const c = testConfig(CLUSTER);
  const client = stateRedis(c, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await client.connect();
  return { c, store: new RedisStateStore({ client: client as never, prefix: c.redisPrefix, windowBuckets, bucketMs: 7 * 86_400_000 }) };
}

describe('Redis Cluster: keys and slots', () => {
  it('computes the slot Redis computes (CLUSTER KEYSLOT) for every kind of key, hash tags included', async () => {
    const node = new Redis(PORTS[0]!, '127.0.0.1');
    try {
      const k = new KeyBuilder('fs');
      const keys = ['123456789', 'plain', '{}x', 'a{}{b}c', k.catalog(), k.storePromotions('S1'), k.weather('region', 'CA')];
      for (let i = 0; i < 50; i++) keys.push(k.sales(`CA_${i}-FOODS_3_${i}`), k.prices(`S${i}-I${i}`), k.pendingForecasts(`é${i}-x`, i));
      for (const key of keys) expect([key, keySlot(key)]).toEqual([key, await node.cluster('KEYSLOT', key)]);
      expect(keySlot('123456789')).toBe(12739);
    } finally {
      node.disconnect();
    }
  });

  it("spreads one batch's series over the three masters, reads them back in one pipeline, and walks every master with SCAN", async () => {
    const { c, store } = await clusterStore();
    try {
      const series = Array.from({ length: 300 }, (_, i) => ({ seriesId: `CL${i % 7}-I${i}`, store: `CL${i % 7}`, item: `I${i}`, category: 'CA', region: 'R1' }));
      await store.putCatalog(series);
      const applied = await store.applySales(series.map((s, i) => ({ seriesId: s.seriesId, eventId: `e${i}`, bucket: 3000, quantity: i + 1, eventTimeMs: 3000 * 7 * 86_400_000 })));
      expect(applied.length).toBe(300);
      const snaps = await store.readSnapshots(series);
      expect(snaps.map((s) => s.sales.get(3000))).toEqual(series.map((_, i) => i + 1));
      // every master holds some of them (a pipeline was split, not sent to one node)
      const perMaster = await Promise.all(PORTS.map(async (p) => {
        const n = new Redis(p, '127.0.0.1');
        const [, keys] = await n.scan('0', 'MATCH', `${c.redisPrefix}:*`, 'COUNT', 10_000);
        n.disconnect();
        return keys.length;
      }));
      expect(perMaster.every((n) => n > 20)).toBe(true);
      const dump = (await store.dump()) as Record<string, unknown>;
      expect(Object.keys(dump).length).toBe(perMaster.reduce((a, b) => a + b, 0));
      expect(await store.clearAll()).toBe(Object.keys(dump).length);
    } finally {
      await store.close();
    }
  });
});

defineStateStoreContract('redis cluster', async () => (await clusterStore()).store);

definePipelineScenarios('real stack, state on a Redis Cluster', () => StackDriver.create(CLUSTER), 30_000);
