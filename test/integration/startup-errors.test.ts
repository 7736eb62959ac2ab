import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Processor } from '../../src/main/processor.js';
import { testConfig } from '../support/real-stack.js';

// A processor that cannot reach a dependency says which one, under which setting, and stops cleanly.
describe('start-up errors', () => {
  const attempt = async (overrides: Parameters<typeof testConfig>[0]) => {
    const p = new Processor({ config: testConfig(overrides), log: pino({ level: 'silent' }) });
    const err = await p.start().then(
      () => null,
      (e: Error) => e,
    );
    await p.stop();
    return err;
  };

  it('names Kafka and FS_KAFKA_BROKERS', async () => {
    expect((await attempt({ kafkaBrokers: ['127.0.0.1:1'] }))?.message).toMatch(/cannot reach Kafka at 127\.0\.0\.1:1 \(FS_KAFKA_BROKERS\).*make up/);
  }, 60_000);

  it('names Redis and FS_REDIS_URL', async () => {
    expect((await attempt({ redisUrl: 'redis://127.0.0.1:1' }))?.message).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(FS_REDIS_URL\)/);
  }, 60_000);

  it('never shows a credential: the Redis password is redacted in the error and the logs', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    const p = new Processor({ config: testConfig({ redisUrl: 'redis://:hunter2-s3cret@127.0.0.1:1' }), log });
    const err = await p.start().then(() => null, (e: Error) => e);
    await p.stop();
    expect(err?.message).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(FS_REDIS_URL\)/);
    expect(err?.message).not.toContain('hunter2');
    expect(lines.join('\n')).not.toContain('hunter2');
  }, 60_000);

  it('names the engines folder when there is no model', async () => {
    expect((await attempt({ enginesDir: '/nonexistent-engines' }))?.message).toMatch(/cannot load a model from \/nonexistent-engines \(FS_ENGINES_DIR/);
  }, 60_000);
});
