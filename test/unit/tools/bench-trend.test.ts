import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendTrend, figures, TREND_HEADER } from '../../../src/tools/bench/trend.js';

describe('bench trend file', () => {
  it('flattens a result to name=value pairs, numbers only', () => {
    expect(figures({ scenario: 'latency', rate: 2000, e2e: { p50Ms: 46.123456789, p99Ms: 110 }, note: 'x', series: [1, 2] })).toBe('rate=2000;e2e.p50Ms=46.1235;e2e.p99Ms=110');
  });

  it('writes the header once and one line per scenario per run', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fs-trend-')), 'trend.csv');
    await appendTrend(file, { date: '2026-12-02T00:00:00Z', commit: 'abc', machine: 'cpu, x2', results: [{ scenario: 'throughput', eventsPerSec: 42000 }] });
    await appendTrend(file, { date: '2026-12-03T00:00:00Z', commit: 'def', machine: 'cpu, x2', results: [{ scenario: 'throughput', eventsPerSec: 40000 }, { scenario: 'rss', peakMb: 290 }] });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(TREND_HEADER);
    expect(lines.slice(1)).toEqual([
      '2026-12-02T00:00:00Z,abc,"cpu, x2",throughput,eventsPerSec=42000',
      '2026-12-03T00:00:00Z,def,"cpu, x2",throughput,eventsPerSec=40000',
      '2026-12-03T00:00:00Z,def,"cpu, x2",rss,peakMb=290',
    ]);
  });
});
