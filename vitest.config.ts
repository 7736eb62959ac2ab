import { defineConfig } from 'vitest/config';

// Integration tests share one real Kafka/Redis stack on a 2-core machine: run test files
// one at a time so they do not starve each other (and Kafka's heartbeats).
export default defineConfig({
  test: {
    // test/chaos kills the shared broker: only `make chaos` runs it (vitest.chaos.config.ts)
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
