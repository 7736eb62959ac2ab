/**
 * Redis refusing one record's update (here: the series' sales key was overwritten with a
 * string by something else, so the Lua update gets WRONGTYPE) is that record's problem, not
 * an outage: it is dead-lettered with the reason, the other records of the chunk are applied
 * and forecast, and the partition goes on.
 */
import { describe, expect, it } from 'vitest';
import { parseSchema } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { scenarioCatalog, sale } from '../scenarios/scenario-data.js';
import { testKafka, testRedis } from '../support/real-stack.js';
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

  it('a series whose state Redis refuses to read is left out of its batch with a critical alert; the rest is forecast and the partition goes on', async () => {
    const driver = await StackDriver.create();
    try {
      const catalog = scenarioCatalog('su');
      await driver.loadCatalog(catalog);
      const reader = parseSchema(loadSchema('alert'));
      const alerts: Array<{ kind: string; severity: string; details: Record<string, string> }> = [];
      const consumer = testKafka(driver.config).consumer({ groupId: `${driver.config.groupId}-alerts` });
      await consumer.connect();
      await consumer.subscribe({ topic: driver.config.topicAlerts, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void alerts.push((await driver.codec.decode(message.value!, reader)) as (typeof alerts)[number]) });
      // store S1's weather key overwritten by something else: every series of S1 reads WRONGTYPE
      const bad = catalog.filter((s) => s.store === catalog[0]!.store);
      const good = catalog.filter((s) => s.store !== catalog[0]!.store);
      const redis = await testRedis(driver.config);
      await redis.set(`${driver.config.redisPrefix}:{wx:store:${catalog[0]!.store}}:weather`, 'not a hash');
      await redis.quit();
      await driver.send([...bad, ...good].map((s, k) => ({ topic: 'sales' as const, value: sale(s, `su-${k}`, 2 + k) })));
      const first = await driver.waitForForecasts((fs) => good.every((g) => fs.some((f) => f.seriesId === g.seriesId)), 30_000);
      expect(good.filter((g) => !first.some((f) => f.seriesId === g.seriesId)), 'series of the other stores without a forecast').toEqual([]);
      const end = Date.now() + 30_000;
      while (!alerts.some((a) => a.kind === 'state-unreadable') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      const alert = alerts.find((a) => a.kind === 'state-unreadable');
      expect(alert?.severity).toBe('critical');
      expect(alert!.details.series!.split(',').sort()).toEqual(bad.map((s) => s.seriesId).sort());
      expect(alert!.details.reason).toMatch(/WRONGTYPE/);
      expect(alert!.details.reason).toContain(`{wx:store:${catalog[0]!.store}}:weather`);
      // the sales themselves were applied (writes do not touch the weather key), none dead-lettered
      expect((await driver.waitForDeadLetters(0, 0)).length).toBe(0);
      expect(driver.forecasts().some((f) => bad.some((b) => b.seriesId === f.seriesId))).toBe(false);
      // no rewind loop: a later sale of a good series is forecast, and the counter counts series
      const before = driver.forecasts().filter((f) => f.seriesId === good[0]!.seriesId).length;
      await driver.send([{ topic: 'sales', value: sale(good[0]!, 'su-later', 5) }]);
      await driver.waitForForecasts((fs) => fs.filter((f) => f.seriesId === good[0]!.seriesId).length > before, 30_000);
      expect(driver.forecasts().filter((f) => f.seriesId === good[0]!.seriesId).length).toBeGreaterThan(before);
      const metric = await driver.processor!.metrics.registry.getSingleMetric('forecast_stream_series_unreadable_total')!.get();
      expect(metric.values[0]!.value).toBeGreaterThanOrEqual(bad.length);
      // once repaired, the series are forecast again
      const fix = await testRedis(driver.config);
      await fix.del(`${driver.config.redisPrefix}:{wx:store:${catalog[0]!.store}}:weather`);
      await fix.quit();
      await driver.send([{ topic: 'sales', value: sale(bad[0]!, 'su-after-fix', 1) }]);
      await driver.waitForForecasts((fs) => fs.some((f) => f.seriesId === bad[0]!.seriesId), 30_000);
      expect(driver.forecasts().some((f) => f.seriesId === bad[0]!.seriesId)).toBe(true);
      await consumer.disconnect();
    } finally {
      await driver.close();
    }
  }, 90_000);
});
