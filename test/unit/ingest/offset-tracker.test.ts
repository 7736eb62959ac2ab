import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../../src/ingest/offset-tracker.js';
import { settle } from '../../support/manual-clock.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { done, resolve, reject };
}

describe('OffsetTracker', () => {
  it('makes offsets committable only for the published prefix of a partition', async () => {
    const t = new OffsetTracker(() => undefined);
    const a = deferred();
    const b = deferred();
    t.track('sales', 0, { first: '0', next: '10', done: a.done });
    t.track('sales', 0, { first: '10', next: '20', done: b.done });
    b.resolve();
    await settle();
    expect(t.takeCommittable()).toEqual([]); // chunk b is published, but a before it is not
    a.resolve();
    await settle();
    expect(t.takeCommittable()).toEqual([{ topic: 'sales', partition: 0, offset: '20' }]);
    expect(t.takeCommittable()).toEqual([]);
  });

  it('keeps partitions independent', async () => {
    const t = new OffsetTracker(() => undefined);
    const slow = deferred();
    t.track('sales', 0, { first: '0', next: '5', done: slow.done });
    t.track('sales', 1, { first: '0', next: '7', done: Promise.resolve() });
    await settle();
    expect(t.takeCommittable()).toEqual([{ topic: 'sales', partition: 1, offset: '7' }]);
    expect(t.outstanding('sales', 0)).toBe(1);
  });

  it('on a failed chunk, rewinds the partition to it and never commits past it', async () => {
    const rewinds: Array<[string, number, string]> = [];
    const t = new OffsetTracker((topic, partition, to) => rewinds.push([topic, partition, to]));
    const a = deferred();
    t.track('sales', 2, { first: '0', next: '10', done: Promise.resolve() });
    t.track('sales', 2, { first: '10', next: '20', done: a.done });
    t.track('sales', 2, { first: '20', next: '30', done: Promise.resolve() });
    a.reject(new Error('publish failed'));
    await settle();
    expect(rewinds).toEqual([['sales', 2, '10']]);
    expect(t.takeCommittable()).toEqual([{ topic: 'sales', partition: 2, offset: '10' }]);
    expect(t.outstanding('sales', 2)).toBe(0);
    await t.idle();
  });

  it('refuses a chunk that a rewind overtook while it was ingested (it would be committed before the rewound chunk)', async () => {
    const rewinds: string[] = [];
    const t = new OffsetTracker((_t, _p, to) => rewinds.push(to));
    const failing = deferred();
    t.track('sales', 0, { first: '0', next: '10', done: failing.done }, t.generation('sales', 0));
    // chunk 10..20 starts ingesting before the publish of 0..10 fails
    const started = t.generation('sales', 0);
    failing.reject(new Error('publish failed'));
    await settle();
    expect(rewinds).toEqual(['0']);
    // it finishes after the rewind: tracked, it would be committable at 20 while 0..10 is not published
    expect(t.track('sales', 0, { first: '10', next: '20', done: Promise.resolve() }, started)).toBe(false);
    await settle();
    expect(t.takeCommittable()).toEqual([]);
    // the re-fetched chunk from the rewind point is tracked as usual
    expect(t.track('sales', 0, { first: '0', next: '10', done: Promise.resolve() }, t.generation('sales', 0))).toBe(true);
    await settle();
    expect(t.takeCommittable()).toEqual([{ topic: 'sales', partition: 0, offset: '10' }]);
  });

  it('after a rebalance forgets the partitions it lost: no commit for them, and their in-flight chunks are refused', async () => {
    const t = new OffsetTracker(() => undefined);
    const slow = deferred();
    t.track('sales', 0, { first: '0', next: '5', done: Promise.resolve() });
    t.track('sales', 1, { first: '0', next: '7', done: Promise.resolve() });
    const started = t.generation('sales', 1);
    t.track('sales', 1, { first: '7', next: '9', done: slow.done }, started);
    await settle();
    const dropped = t.retain(new Set([OffsetTracker.key('sales', 0)]));
    expect(dropped).toEqual(['sales[1]']);
    expect(t.takeCommittable()).toEqual([{ topic: 'sales', partition: 0, offset: '5' }]);
    slow.resolve();
    await settle();
    expect(t.takeCommittable()).toEqual([]); // the revoked partition's late chunk commits nothing
    expect(t.track('sales', 1, { first: '9', next: '12', done: Promise.resolve() }, started)).toBe(false);
    expect(t.outstanding('sales', 1)).toBe(0);
    await t.idle();
  });

  it('restores offsets after a failed commit unless newer ones arrived', async () => {
    const t = new OffsetTracker(() => undefined);
    t.track('sales', 0, { first: '0', next: '3', done: Promise.resolve() });
    await settle();
    const taken = t.takeCommittable();
    t.track('sales', 0, { first: '3', next: '6', done: Promise.resolve() });
    await settle();
    t.restore(taken);
    expect(t.takeCommittable()).toEqual([{ topic: 'sales', partition: 0, offset: '6' }]);
  });
});
