import { RedisStateStore } from '../../src/state/redis-state-store.js';
import { defineStateStoreContract } from '../scenarios/state-store-contract.js';
import { testConfig, testRedis } from '../support/real-stack.js';

defineStateStoreContract('redis', async () => {
  const c = testConfig();
  return new RedisStateStore({ client: (await testRedis(c)) as never, prefix: c.redisPrefix, windowBuckets: 10, bucketMs: 7 * 86_400_000 });
});
