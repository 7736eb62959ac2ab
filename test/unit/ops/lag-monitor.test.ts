import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { LagMonitor } from '../../../src/ops/lag-monitor.js';

describe('LagMonitor', () => {
  it('sums end offset minus committed offset over partitions; an uncommitted partition counts from its start', async () => {
    const admin = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchOffsets: async () => [{ topic: 'sales', partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '-1' }] }],
      fetchTopicOffsets: async () => [
        { partition: 0, offset: '12', high: '12', low: '0' },
        { partition: 1, offset: '9', high: '9', low: '4' },
      ],
    } as unknown as Admin;
    const registry = new Registry();
    const m = new LagMonitor(admin, 'g', ['sales'], registry, 60_000);
    await m.start();
    expect(m.last).toEqual({ sales: 7 + 5 });
    expect(await registry.getSingleMetricAsString('forecast_stream_consumer_lag')).toContain('forecast_stream_consumer_lag{topic="sales"} 12');
    await m.stop();
  });
});
