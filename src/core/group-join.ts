import type { Consumer } from 'kafkajs';

/**
 * Resolves at the consumer's next group join (partitions assigned). Call it before
 * consumer.run(): records produced after it resolves are consumed even when the group
 * starts at the latest offsets.
 */
export function nextGroupJoin(consumer: Consumer): Promise<void> {
  return new Promise((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, () => {
      off();
      resolve();
    });
  });
}
