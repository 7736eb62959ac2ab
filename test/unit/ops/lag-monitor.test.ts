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

  it('marks Kafka unreachable after two failed or unanswered polls in a row, keeps the last lag, and clears once a poll answers', async () => {
    let mode: 'ok' | 'fail' | 'hang' = 'ok';
    let now = 1_000_000;
    const admin = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchOffsets: async () => {
        if (mode === 'fail') throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
        if (mode === 'hang') await new Promise(() => undefined);
        return [{ topic: 'sales', partitions: [{ partition: 0, offset: '5' }] }];
      },
      fetchTopicOffsets: async () => [{ partition: 0, offset: '8', high: '8', low: '0' }],
    } as unknown as Admin;
    const m = new LagMonitor(admin, 'g', ['sales'], new Registry(), 60_000, 50, () => now);
    await m.start();
    expect(m.problem).toBeNull();
    mode = 'fail';
    await m.poll();
    expect(m.problem).toBeNull(); // one failed poll is not an outage
    await m.poll();
    now += 7_000;
    expect(m.problem).toBe('Kafka unreachable for 7 s (Connection error: connect ECONNREFUSED 127.0.0.1:9092)');
    expect(m.last).toEqual({ sales: 3 });
    mode = 'hang';
    await m.poll();
    now += 3_000;
    expect(m.problem).toBe('Kafka unreachable for 10 s (no answer from the brokers in 50 ms)');
    mode = 'ok';
    await m.poll();
    expect(m.problem).toBeNull();
    await m.stop();
  });
});
