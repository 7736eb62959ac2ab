/**
 * Redis refusing one record's update (here: the series' sales key was overwritten with a
 * string by something else, so the Lua update gets WRONGTYPE) is that record's problem, not
 * an outage: it is dead-lettered with the reason, the other records of the chunk are applied
 * and forecast, and the partition goes on.
 */
import { describe, expect, it } from 'vitest';
import { scenarioCatalog, sale } from '../scenarios/scenario-data.js';
import { testRedis } from '../support/real-stack.js';
import { StackDriver } from '../support/stack-driver.js';

describe('a state update Redis refuses (real stack)', () => {
  it('dead-letters that record with the reason and keeps the rest flowing', async () => {
    const driver = await StackDriver.create();
    try {
      const catalog = scenarioCatalog('sr');
      await driver.loadCatalog(catalog);
      const [a, b] = [catalog[0]!, catalog[1]!];
      const redis = await testRedis(driver.config);
      await redis.set(`${driver.config.redisPrefix}:{s:${a.seriesId}}:sales`, 'not a hash');
      await redis.quit();
      await driver.send([{ topic: 'sales', value: sale(a, 'sr-a-1', 3) }, { topic: 'sales', value: sale(b, 'sr-b-1', 4) }]);
      const dead = await driver.waitForDeadLetters(1, 30_000);
      expect(dead).toHaveLength(1);
      expect(dead[0]!.headers['x-error-code']).toBe('STATE_REJECTED');
      expect(dead[0]!.headers['x-error-field']).toBe('value');
      expect(dead[0]!.headers['x-error-reason']).toMatch(/WRONGTYPE/);
      await driver.waitForForecasts((fs) => fs.some((f) => f.seriesId === b.seriesId), 30_000);
      expect(driver.forecasts().some((f) => f.seriesId === b.seriesId)).toBe(true);
      // the partitions go on: later records are processed
      const before = driver.forecasts().filter((f) => f.seriesId === b.seriesId).length;
      await driver.send([{ topic: 'sales', value: sale(b, 'sr-b-2', 5) }]);
      await driver.waitForForecasts((fs) => fs.filter((f) => f.seriesId === b.seriesId).length > before, 30_000);
      expect(driver.forecasts().filter((f) => f.seriesId === b.seriesId).length).toBeGreaterThan(before);
      await driver.quiesce();
      expect((await driver.waitForDeadLetters(1, 0)).length).toBe(1);
    } finally {
      await driver.close();
    }
  }, 90_000);
});
