import { describe, expect, it } from 'vitest';
import { ForecastError } from '../../../src/core/errors.js';
import { deadLetterMessage, MAX_HEADER_CHARS, MAX_ORIGINAL_BYTES } from '../../../src/ingest/dead-letter.js';

const record = (value: Buffer, key: Buffer | null = Buffer.from('k')) => ({ topic: 'sales', partition: 2, offset: '41', key, value });

describe('dead-letter messages always fit', () => {
  it('keeps a small original byte for byte with the reason and source in headers', () => {
    const m = deadLetterMessage({ record: record(Buffer.from('abc')), error: new ForecastError('VALIDATION_FAILED', 'quantity: bad', { field: 'quantity' }) });
    expect(m.value.toString()).toBe('abc');
    expect(m.key?.toString()).toBe('k');
    expect(m.headers).toMatchObject({ 'x-error-code': 'VALIDATION_FAILED', 'x-error-field': 'quantity', 'x-source-topic': 'sales', 'x-source-partition': '2', 'x-source-offset': '41' });
    expect(m.headers['x-original-bytes']).toBeUndefined();
  });

  it('cuts a huge reason, drops a huge key and replaces a too-large original by its size and hash', () => {
    const big = Buffer.alloc(MAX_ORIGINAL_BYTES + 1, 7);
    const m = deadLetterMessage({ record: record(big, Buffer.alloc(5_000, 1)), error: new ForecastError('UNKNOWN_SERIES', `item: '${'X'.repeat(400_000)}' unknown`, { field: 'item' }) });
    expect(m.headers['x-error-reason']!.length).toBeLessThanOrEqual(MAX_HEADER_CHARS);
    expect(m.headers['x-error-reason']).toMatch(/400\d+ chars, cut\)$/);
    expect(m.key).toBeNull();
    expect(m.headers['x-original-key-bytes']).toBe('5000');
    expect(m.value.length).toBe(0);
    expect(m.headers['x-original-bytes']).toBe(String(big.length));
    expect(m.headers['x-original-sha256']).toMatch(/^[0-9a-f]{64}$/);
    const total = Object.values(m.headers).reduce((n, v) => n + v.length, 0);
    expect(total).toBeLessThan(10_000);
  });
});
