import { defineConfig } from 'vitest/config';

// `make chaos`: the fault scenarios (bench/chaos/run.sh). The chaos-only ones kill the shared
// Kafka broker, so they never run inside `make test`; the CI-sized fault tests of
// test/integration run in both.
export default defineConfig({
  test: {
    include: [
      'test/chaos/**/*.test.ts',
      'test/integration/redis-outage.test.ts',
      'test/integration/inference-worker.test.ts',
      'test/integration/crash-recovery.test.ts',
      'test/integration/poison-records.test.ts',
      'test/integration/state-rejected.test.ts',
      'test/integration/fail-policy.test.ts',
      'test/integration/backpressure.test.ts',
    ],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
