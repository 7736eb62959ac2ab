import { describe, expect, it } from 'vitest';
import { parseSchema } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { scenarioCatalog } from '../scenarios/scenario-data.js';
import { StackDriver } from '../support/stack-driver.js';
import { testKafka } from '../support/real-stack.js';

describe('alerts topic', () => {
  it('announces the loaded model with its version and execution provider', async () => {
    const driver = await StackDriver.create();
    try {
      await driver.loadCatalog(scenarioCatalog('al')); // starts the processor
      const reader = parseSchema(loadSchema('alert'));
      const alerts: Array<{ kind: string; severity: string; details: Record<string, string> }> = [];
      const consumer = testKafka(driver.config).consumer({ groupId: `${driver.config.groupId}-alerts` });
      await consumer.connect();
      await consumer.subscribe({ topic: driver.config.topicAlerts, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void alerts.push((await driver.codec.decode(message.value!, reader)) as (typeof alerts)[number]) });
      const end = Date.now() + 30_000;
      while (alerts.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      await consumer.disconnect();
      const status = driver.processor!.status() as { model: { name: string; version: string; executionProvider: string } };
      expect(alerts[0]).toMatchObject({
        kind: 'model-loaded',
        severity: 'info',
        details: { model: status.model.name, version: status.model.version, provider: 'cpu' },
      });
    } finally {
      await driver.close();
    }
  }, 90_000);
});

describe('consumer lag', () => {
  it('reports zero lag per input topic once everything is processed', async () => {
    const driver = await StackDriver.create();
    try {
      const catalog = scenarioCatalog('lg');
      await driver.loadCatalog(catalog);
      await driver.send([{ topic: 'sales', value: { eventId: 'lg-1', store: catalog[0]!.store, item: catalog[0]!.item, eventTime: Date.now() - 3_600_000, quantity: 2, unitPrice: null } }]);
      await driver.waitForForecasts((fs) => fs.length > 0);
      await driver.quiesce();
      const metrics = await driver.processor!.metrics.registry.getSingleMetricAsString('forecast_stream_consumer_lag');
      expect(metrics).toContain(`topic="${driver.config.topicSales}"`);
      // the monitor polls every 10 s; the one sale must show up as committed
      const lagOf = () => (driver.processor!.status() as { consumerLag: Record<string, number> }).consumerLag;
      const end = Date.now() + 25_000;
      while (lagOf()[driver.config.topicSales] !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
      expect(Object.keys(lagOf()).sort()).toEqual([driver.config.topicCatalog, driver.config.topicPrices, driver.config.topicPromotions, driver.config.topicSales, driver.config.topicWeather].sort());
      expect(lagOf()[driver.config.topicSales]).toBe(0);
    } finally {
      await driver.close();
    }
  }, 90_000);
});
