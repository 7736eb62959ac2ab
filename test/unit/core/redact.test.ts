import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../src/core/redact.js';

describe('redactUrl', () => {
  it.each([
    ['redis://:s3cret@redis.example:6379', 'redis://:***@redis.example:6379'],
    ['rediss://default:s3cret@redis.example:6380/2', 'rediss://default:***@redis.example:6380/2'],
    ['https://user:s3cret@registry.example/apis/ccompat/v7', 'https://user:***@registry.example/apis/ccompat/v7'],
    ['https://registry.example/x?token=s3cret&a=1', 'https://registry.example/x?token=***&a=1'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
  ])('%s -> %s', (url, want) => {
    expect(redactUrl(url)).toBe(want);
    expect(redactUrl(url)).not.toContain('s3cret');
  });
});
