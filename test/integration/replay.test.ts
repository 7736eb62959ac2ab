import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseSchema, RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { loadSchema } from '../../src/core/schemas.js';
import { Processor } from '../../src/main/processor.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { envFor } from '../support/child-processor.js';
import { testConfig, testKafka } from '../support/real-stack.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const MINI = fileURLToPath(new URL('../fixtures/walmart-mini', import.meta.url));

describe('replay of Walmart-format data through the whole pipeline', () => {
  it('the replay command loads the catalog and plays the CSVs; every series gets primary-model forecasts', async () => {
    const c = testConfig();
    const kafka = testKafka(c);
    const codec = RegistrySchemaCodec.fromSettings(c);
    await setupTopicsWith(kafka, codec, c);

    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'replay', '--dataset', 'walmart', '--data', MINI, '--to', '2010-06-30'], { env: envFor(c) });
    const sent = Number(/replayed (\d+) events/.exec(stdout)?.[1]);
    expect(sent).toBeGreaterThan(0);

    const processor = new Processor({ config: c, log: pino({ level: 'error' }) });
    await processor.start();
    const series = [...processor.catalog.all()].map((s) => s.seriesId);
    const rows = readFileSync(`${MINI}/train.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const played = new Set(rows.filter((r) => r[2]! <= '2010-06-30').map((r) => `${r[0]}-${r[1]}`));
    expect(new Set(series)).toEqual(played);

    const reader = parseSchema(loadSchema('forecast-updated'));
    const latest = new Map<string, { source: string; originDate: string; horizons: Array<{ p10: number; p50: number; p90: number }> }>();
    const watcher = kafka.consumer({ groupId: `${c.groupId}-watch` });
    await watcher.connect();
    await watcher.subscribe({ topic: c.topicForecasts, fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ message }) => {
        const f = (await codec.decode(message.value!, reader)) as { seriesId: string; source: string; originDate: string; horizons: Array<{ p10: number; p50: number; p90: number }> };
        latest.set(f.seriesId, f);
      },
    });
    const end = Date.now() + 60_000;
    // wait until every series has a forecast from the last week it sold in
    const lastWeek = new Map<string, string>();
    for (const r of rows) if (r[2]! <= '2010-06-30') lastWeek.set(`${r[0]}-${r[1]}`, r[2]!);
    while (Date.now() < end && !series.every((id) => latest.get(id)?.originDate === lastWeek.get(id))) await new Promise((r) => setTimeout(r, 200));
    await watcher.disconnect();
    await processor.stop();

    for (const id of series) {
      const f = latest.get(id);
      expect(f?.originDate, id).toBe(lastWeek.get(id));
      expect(f!.source).toBe('primary');
      for (const h of f!.horizons) {
        expect(h.p10).toBeLessThanOrEqual(h.p50);
        expect(h.p50).toBeLessThanOrEqual(h.p90);
        expect(h.p10).toBeGreaterThanOrEqual(0);
      }
    }
  }, 180_000);

  it('replay --dataset m5 plays the sample (daily totals, announced prices) and loads its catalog; a weekly model is refused with the fix', async () => {
    const c = testConfig({ modelName: 'm5-daily-gbm' });
    const kafka = testKafka(c);
    const codec = RegistrySchemaCodec.fromSettings(c);
    await setupTopicsWith(kafka, codec, c);
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [CLI, 'replay', '--dataset', 'm5', '--from', '2014-06-01', '--to', '2014-06-30'], { env: envFor(c) });
    const sent = Number(/replayed (\d+) events/.exec(stdout)?.[1]);
    const { M5Dataset, dayOf } = await import('../../src/tools/m5/m5-data.js');
    const { loadM5Replay } = await import('../../src/tools/m5/m5-replay.js');
    const r = loadM5Replay(M5Dataset.load(fileURLToPath(new URL('../../data/m5-sample', import.meta.url))), '2014-06-01', '2014-06-30');
    const expected = [...r.records()].length;
    expect(sent).toBe(expected);
    expect(r.days[0]).toBe(dayOf('2014-06-01'));
    const { storeFor } = await import('../../src/cli/cli-context.js');
    const store = await storeFor(c);
    expect((await store.loadCatalog()).length).toBe(r.catalog.length);
    await store.close();
    const weekly = await run(process.execPath, [CLI, 'replay', '--dataset', 'm5', '--to', '2014-06-30'], { env: envFor(testConfig()) }).catch((e: { stderr: string }) => e);
    expect(String((weekly as { stderr: string }).stderr)).toMatch(/daily but model 'walmart-mlp' forecasts weeks: set FS_MODEL=m5-daily-gbm/);
  }, 120_000);
});
