/**
 * Backpressure (#10 finding 12) on the real stack: when the batcher is full, fetching of the
 * input topics pauses (a gauge says so) and resumes below half of the capacity; a burst much
 * larger than the capacity loses nothing.
 */
import { describe, expect, it } from 'vitest';
import type { SeriesInfo } from '../../src/state/state-types.js';
import { sale } from '../scenarios/scenario-data.js';
import { StackDriver } from '../support/stack-driver.js';

describe('backpressure (real stack)', () => {
  it('pauses fetching while the batcher is full, resumes, and every series is forecast', async () => {
    const driver = await StackDriver.create({ batchMaxSize: 16, batchCapacity: 16 });
    try {
      const catalog: SeriesInfo[] = [];
      for (let i = 0; i < 300; i++) catalog.push({ seriesId: `BP-${i}`, store: 'BP', item: String(i), category: 'C', region: 'R' });
      await driver.loadCatalog(catalog);
      const events: string[] = [];
      driver.processor!.events.ingest.on('ingest-paused', () => events.push('paused'));
      driver.processor!.events.ingest.on('ingest-unpaused', () => events.push('unpaused'));
      await driver.send(catalog.flatMap((s, k) => [sale(s, `bp-a-${k}`, 1 + (k % 5)), sale(s, `bp-b-${k}`, 2)]).map((value) => ({ topic: 'sales' as const, value })));
      await driver.waitForForecasts((fs) => catalog.every((s) => fs.some((f) => f.seriesId === s.seriesId)), 60_000);
      for (const s of catalog) expect(driver.forecasts().some((f) => f.seriesId === s.seriesId), s.seriesId).toBe(true);
      expect(events).toContain('paused');
      await driver.quiesce();
      expect(events.at(-1)).toBe('unpaused');
      const gauge = await driver.processor!.metrics.registry.getSingleMetricAsString('forecast_stream_ingest_paused');
      expect(gauge).toMatch(/forecast_stream_ingest_paused 0/);
      // every sale applied once
      const snaps = await driver.processor!.store.readSnapshots(catalog);
      snaps.forEach((s, k) => expect([...s.sales.values()].reduce((t, q) => t + q, 0), s.seriesId).toBe(1 + (k % 5) + 2));
    } finally {
      await driver.close();
    }
  }, 120_000);
});
