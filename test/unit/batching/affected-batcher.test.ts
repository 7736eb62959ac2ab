import { describe, expect, it } from 'vitest';
import { AffectedBatcher, type BatchItem, type BatchingEvents } from '../../../src/batching/affected-batcher.js';
import { TypedEmitter } from '../../../src/core/typed-emitter.js';
import { ManualClock, settle } from '../../support/manual-clock.js';

const src = (offset: number) => [{ topic: 'sales', partition: 0, offset: String(offset) }];

function make(opts: Partial<{ maxSize: number; maxDelayMs: number; capacity: number; maxInFlight: number }> = {}) {
  const clock = new ManualClock(0);
  const batches: BatchItem[][] = [];
  let release: (() => void) | null = null;
  let hold = false;
  let fail = false;
  const events = new TypedEmitter<BatchingEvents>();
  const reasons: string[] = [];
  events.on('batch-started', (e) => reasons.push(e.reason));
  const batcher = new AffectedBatcher({
    maxSize: opts.maxSize ?? 3,
    maxDelayMs: opts.maxDelayMs ?? 10,
    capacity: opts.capacity ?? 100,
    maxInFlight: opts.maxInFlight ?? 1,
    maxTriggers: 2,
    clock,
    events,
    handle: async (b) => {
      batches.push(b);
      if (fail) throw new Error('publish failed');
      if (hold) await new Promise<void>((r) => (release = r));
    },
  });
  return {
    clock,
    batches,
    batcher,
    reasons,
    hold: (v: boolean) => (hold = v),
    fail: (v: boolean) => (fail = v),
    release: () => release?.(),
  };
}

describe('AffectedBatcher', () => {
  it('flushes when the batch reaches its size, without waiting for the delay', async () => {
    const t = make({ maxSize: 3 });
    const done = t.batcher.add([['a', src(1)], ['b', src(2)], ['c', src(3)]]);
    await done;
    expect(t.batches.map((b) => b.map((i) => i.seriesId))).toEqual([['a', 'b', 'c']]);
    expect(t.reasons).toEqual(['size']);
  });

  it('flushes a partial batch once the oldest entry waited the maximum delay', async () => {
    const t = make({ maxSize: 10, maxDelayMs: 10 });
    let resolved = false;
    void t.batcher.add([['a', src(1)]]).then(() => (resolved = true));
    t.clock.advance(9);
    await settle();
    expect(t.batches).toHaveLength(0);
    t.clock.advance(1);
    await settle();
    expect(t.batches).toHaveLength(1);
    expect(resolved).toBe(true);
    expect(t.reasons).toEqual(['delay']);
  });

  it('de-duplicates series pending together and keeps the newest triggers', async () => {
    const t = make({ maxSize: 10 });
    const p1 = t.batcher.add([['a', src(1)], ['b', src(2)]]);
    const p2 = t.batcher.add([['a', src(3)], ['a', src(4)]]);
    t.clock.advance(10);
    await Promise.all([p1, p2]);
    expect(t.batches).toHaveLength(1);
    const a = t.batches[0]!.find((i) => i.seriesId === 'a')!;
    expect(t.batches[0]!.map((i) => i.seriesId)).toEqual(['a', 'b']);
    expect(a.triggers.map((x) => x.offset)).toEqual(['3', '4']);
  });

  it('queues a series again when it changes while its batch is in flight', async () => {
    const t = make({ maxSize: 1 });
    t.hold(true);
    const first = t.batcher.add([['a', src(1)]]);
    await settle();
    expect(t.batcher.inFlight).toBe(1);
    const second = t.batcher.add([['a', src(2)]]);
    expect(t.batcher.pending).toBe(1);
    t.hold(false);
    t.release();
    await first;
    await second;
    expect(t.batches.map((b) => b[0]!.triggers[0]!.offset)).toEqual(['1', '2']);
  });

  it('applies backpressure: add waits for room when the pending set is full', async () => {
    const t = make({ maxSize: 2, capacity: 2, maxInFlight: 1 });
    t.hold(true);
    const a = t.batcher.add([['a', src(1)], ['b', src(2)]]); // starts a batch of 2 (held)
    await settle();
    const c = t.batcher.add([['c', src(3)], ['d', src(4)]]); // fills pending to capacity
    let eAdded = false;
    const e = t.batcher.add([['e', src(5)]]).then(() => (eAdded = true));
    await settle();
    expect(t.batcher.pending).toBe(2);
    expect(eAdded).toBe(false);
    t.hold(false);
    t.release();
    await settle();
    t.clock.advance(10); // 'e' alone waits for the delay
    await Promise.all([a, c, e]);
    expect(t.batches.flat().map((i) => i.seriesId).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('rejects the waiters of a failed batch so their offsets are not committed', async () => {
    const t = make({ maxSize: 1 });
    t.fail(true);
    await expect(t.batcher.add([['a', src(1)]])).rejects.toThrow('publish failed');
  });

  it('stop() drains what is pending and then refuses new work; it is idempotent', async () => {
    const t = make({ maxSize: 10, maxDelayMs: 1_000 });
    const p = t.batcher.add([['a', src(1)]]);
    await t.batcher.stop();
    await p;
    expect(t.reasons).toEqual(['drain']);
    await t.batcher.stop();
    await expect(t.batcher.add([['b', src(2)]])).rejects.toThrow(/stopped/);
  });
});
