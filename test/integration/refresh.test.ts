import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { storeFor } from '../../src/cli/cli-context.js';
import { RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { bucketOf } from '../../src/inference/features/bucket-clock.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { envFor } from '../support/child-processor.js';
import { testConfig, testKafka } from '../support/real-stack.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe('refresh command', () => {
  it('re-forecasts every catalog series from state, with progress, and publishes one forecast each', async () => {
    const c = testConfig({ batchMaxSize: 256 });
    const kafka = testKafka(c);
    await setupTopicsWith(kafka, RegistrySchemaCodec.fromSettings(c), c);
    const store = await storeFor(c);
    const catalog = Array.from({ length: 1000 }, (_, i) => ({ seriesId: `F${i % 10}-${i}`, store: `F${i % 10}`, item: String(i), category: 'c', region: 'r' }));
    await store.putCatalog(catalog);
    const week = bucketOf(Date.now(), 'week') - 1;
    await store.applySales(catalog.map((s, i) => ({ seriesId: s.seriesId, eventId: `e${i}`, bucket: week, quantity: 5 + (i % 7), eventTimeMs: Date.now() - 7 * 86_400_000 })));
    await store.close();

    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'refresh'], { env: envFor(c) });
    expect(stdout).toMatch(/refreshed 1000 series in [\d.]+ s/);
    expect(stderr).toMatch(/refresh: 1000\/1000 \(100\.0%\)/);

    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(c.topicForecasts);
    await admin.disconnect();
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(1000);
  }, 120_000);
});
