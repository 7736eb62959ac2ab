/**
 * FS_BAD_INPUT=fail: a bad record stops the processor for good, so it must not look healthy:
 * `forecast-stream run` exits non-zero naming the record's position and the reason (Kubernetes
 * restarts it; an operator finds why in the log), and it committed nothing past the record.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { RegistrySchemaCodec } from '../../src/core/schema-codec.js';
import { setupTopicsWith } from '../../src/tools/setup-topics.js';
import { startChildProcessor } from '../support/child-processor.js';
import { testConfig, testKafka } from '../support/real-stack.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
});

describe("bad-input policy 'fail'", () => {
  it('a bad record makes forecast-stream run exit non-zero with its position and reason, committing nothing past it', async () => {
    const c = testConfig({ badInputPolicy: 'fail' });
    const kafka = testKafka(c);
    await setupTopicsWith(kafka, RegistrySchemaCodec.fromSettings(c), c);
    const proc = await startChildProcessor(c);
    children.push(proc.child);
    const producer = kafka.producer();
    await producer.connect();
    const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: 'k', value: Buffer.from('not avro') }], acks: -1 });
    await producer.disconnect();
    const code = await Promise.race([
      new Promise<number | null>((r) => proc.child.once('exit', (c2) => r(c2))),
      new Promise<'alive'>((r) => setTimeout(() => r('alive'), 45_000)),
    ]);
    expect(code, `still running 45 s after the bad record:\n${proc.log().slice(-2_000)}`).not.toBe('alive');
    expect(code).not.toBe(0);
    expect(proc.log()).toContain(`${c.topicSales}[${meta!.partition}]@${meta!.baseOffset} with policy 'fail'`);
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: c.groupId, topics: [c.topicSales] });
    await admin.disconnect();
    const committed = offsets[0]!.partitions.find((p) => p.partition === meta!.partition)!.offset;
    // nothing committed past the bad record (-1: nothing at all)
    expect(BigInt(committed)).toBeLessThanOrEqual(BigInt(meta!.baseOffset!));
  }, 120_000);
});
