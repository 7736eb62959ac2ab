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
