import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { storeFor } from '../../src/cli/cli-context.js';
import { RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { envFor } from '../support/child-processor.js';
import { testConfig, testKafka } from '../support/real-stack.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe('simulate command', () => {
  it('loads the synthetic catalog and writes its history and live days into the input topics', async () => {
    const c = testConfig();
    const kafka = testKafka(c);
    await setupTopicsWith(kafka, RegistrySchemaCodec.fromSettings(c), c);
    const args = [CLI, 'simulate', '--stores', '2', '--items', '3', '--days', '5', '--history-weeks', '4', '--rate', '0'];
    const { stdout } = await promisify(execFile)(process.execPath, args, { env: envFor(c) });
    const [, history, live] = /sent (\d+) history and (\d+) live events for 6 series/.exec(stdout) ?? [];
    expect(Number(history)).toBe(6 * 4);
    expect(Number(live)).toBeGreaterThan(5 * 2); // at least a weather report per store per day

    const store = await storeFor(c);
    expect((await store.loadCatalog()).map((s) => s.seriesId).sort()).toEqual(['S001-SKU00001', 'S001-SKU00002', 'S001-SKU00003', 'S002-SKU00001', 'S002-SKU00002', 'S002-SKU00003']);
    await store.close();

    const admin = kafka.admin();
    await admin.connect();
    let onTopics = 0;
    for (const t of [c.topicSales, c.topicPromotions, c.topicWeather]) onTopics += (await admin.fetchTopicOffsets(t)).reduce((sum, p) => sum + Number(p.high), 0);
    await admin.disconnect();
    expect(onTopics).toBe(Number(history) + Number(live));
  }, 120_000);
});
