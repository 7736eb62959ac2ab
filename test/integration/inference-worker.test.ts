/**
 * The inference worker crashed, then hung (test hooks, FS_TEST_HOOKS=1), under a stream on
 * the real stack: forecasts keep coming (fallback while the worker is down), the worker is
 * respawned (killed first when it hangs), and the primary model serves again — by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerModel } from '../../src/inference/model/worker-model.js';
import { salesHistory, sale, scenarioCatalog } from '../scenarios/scenario-data.js';
import { compareWithCleanRun } from '../support/fault-checker.js';
import { StackDriver } from '../support/stack-driver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('inference worker crash and hang (real stack)', () => {
  let driver: StackDriver;
  const catalog = scenarioCatalog('iw');
  let n = 0;
  const tick = async () => driver.send(catalog.map((s) => ({ topic: 'sales' as const, value: sale(s, `iw-${n++}`, 1 + (n % 5)) })));
  const model = () => driver.processor!.primaryModel as unknown as WorkerModel;
  /**
   * Keep the stream going until a primary forecast is issued after `since`; the sources seen
   * meanwhile. Prints the scenario's figures (bench/chaos/run.sh collects them): forecasts by
   * source, readiness sampled each tick, time until the primary served again, duplicates.
   */
  const untilPrimaryAfter = async (since: number, timeoutMs: number, scenario: string) => {
    const end = Date.now() + timeoutMs;
    const readyz: Record<string, number> = {};
    let back: number | null = null;
    while (Date.now() < end) {
      await tick();
      await sleep(500);
      const ready = driver.processor!.notReadyReason() === null ? '200' : '503';
      readyz[ready] = (readyz[ready] ?? 0) + 1;
      const primary = driver.forecasts().find((f) => (f as { issuedAt?: number }).issuedAt! > since && f.source === 'primary' && model().up);
      if (primary) {
        back = (primary as { issuedAt?: number }).issuedAt! - since;
        break;
      }
    }
    const after = driver.forecasts().filter((f) => (f as { issuedAt?: number }).issuedAt! > since);
    const bySource: Record<string, number> = {};
    for (const f of after) bySource[f.source] = (bySource[f.source] ?? 0) + 1;
    const ids = driver.forecasts().map((f) => `${f.seriesId}|${JSON.stringify((f as { triggers?: unknown }).triggers)}`);
    console.info(JSON.stringify({ scenario, eventsSent: n, forecastsBySource: bySource, primaryBackAfterMs: back, workerRestarts: model().restarts, duplicateForecasts: ids.length - new Set(ids).size, readyzDuringFault: readyz, processExited: false }));
    return new Set(after.map((f) => f.source));
  };

  beforeAll(async () => {
    process.env.FS_TEST_HOOKS = '1';
    driver = await StackDriver.create({ modelTimeoutMs: 500, breakerResetMs: 1_000, breakerVolume: 1 });
    await driver.loadCatalog(catalog);
    await driver.send(salesHistory(catalog).map((value) => ({ topic: 'sales' as const, value })));
    await driver.waitForForecasts((fs) => fs.some((f) => f.source === 'primary'), 30_000);
  }, 60_000);

  afterAll(async () => {
    await driver?.close();
    delete process.env.FS_TEST_HOOKS;
  });

  it('a crashed worker is respawned and the primary model serves again', async () => {
    expect(model().restarts).toBe(0);
    const at = Date.now();
    model().injectFault('crash');
    const sources = await untilPrimaryAfter(at, 40_000, 'inference-worker-crash');
    expect(model().restarts).toBe(1);
    expect(model().up).toBe(true);
    expect(sources.has('primary')).toBe(true);
    // every series kept getting forecasts while it was down (from whichever model could serve)
    for (const s of catalog) expect(driver.forecasts().some((f) => f.seriesId === s.seriesId && (f as { issuedAt?: number }).issuedAt! > at)).toBe(true);
    expect((driver.processor!.status() as { model: { workerRestarts: number } }).model.workerRestarts).toBe(1);
  }, 60_000);

  it('a hung worker is abandoned (it exits once its call returns), a new one spawned, and the primary model serves again', async () => {
    const at = Date.now();
    model().injectFault('hang', 120_000);
    const sources = await untilPrimaryAfter(at, 60_000, 'inference-worker-hang');
    expect(model().restarts).toBe(2);
    expect(sources.has('fallback')).toBe(true); // served while it hung
    expect(sources.has('primary')).toBe(true);
  }, 90_000);

  it('the state equals a clean run of the same input records', async () => {
    await driver.quiesce();
    const clean = await compareWithCleanRun(driver.config, catalog);
    console.info(JSON.stringify({ scenario: 'inference-worker-vs-clean-run', keys: clean.keys, differing: clean.differing.length, records: clean.records }));
    expect(clean.differing).toEqual([]);
    expect(clean.keys).toBeGreaterThan(catalog.length);
  }, 180000);
});
