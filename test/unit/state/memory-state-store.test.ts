import { MemoryStateStore } from '../../../src/state/memory-state-store.js';
import { defineStateStoreContract } from '../../scenarios/state-store-contract.js';

defineStateStoreContract('memory', async () => new MemoryStateStore({ windowBuckets: 10, bucketMs: 7 * 86_400_000 }));
