import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, startHealthServer } from '../../../src/ops/health-server.js';

const health = { live: () => true, ready: () => true, status: () => ({ ok: true }) };

describe('who may call the API routes', () => {
  it('with a token: only a request carrying exactly that bearer token', () => {
    expect(authorize({ authorization: 'Bearer s3cret' }, '10.0.0.7', 's3cret')).toEqual({ ok: true });
    expect(authorize({ authorization: 'Bearer s3cre' }, '127.0.0.1', 's3cret')).toMatchObject({ ok: false, status: 401, message: expect.stringContaining('does not match') });
    expect(authorize({}, '127.0.0.1', 's3cret')).toMatchObject({ ok: false, status: 401, message: expect.stringContaining('Authorization: Bearer') });
    expect(authorize({ authorization: 'Basic czNjcmV0' }, '127.0.0.1', 's3cret')).toMatchObject({ ok: false, status: 401 });
  });

  it('without a token: loopback clients only, others are told how to set one', () => {
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(authorize({}, a, '')).toEqual({ ok: true });
    expect(authorize({}, '10.0.0.7', '')).toMatchObject({ ok: false, status: 403, message: expect.stringContaining('FS_ADMIN_TOKEN') });
    expect(authorize({}, undefined, '')).toMatchObject({ ok: false, status: 403 });
  });
});

describe('the HTTP server with a token', () => {
  let base = '';
  let calls = 0;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const server = await startHealthServer(0, new Registry(), health, { '/v1/what-if': async () => ({ status: 200, body: { n: ++calls } }) }, { host: '127.0.0.1', token: 's3cret', get: { '/v1/ops': async () => ({ status: 200, body: { ops: true } }) } });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => server.close(() => r()));
  });
  afterAll(async () => close());

  it('refuses what-if and the explorer API without it, serves them with it, and keeps probes and metrics open', async () => {
    const post = (headers: Record<string, string>) => fetch(`${base}/v1/what-if`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    const denied = await post({});
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { field: string } }).error.field).toBe('authorization');
    expect(calls).toBe(0); // the handler never ran
    expect((await post({ authorization: 'Bearer nope' })).status).toBe(401);
    const ok = await post({ authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ n: 1 });
    expect((await fetch(`${base}/v1/ops`)).status).toBe(401);
    expect((await fetch(`${base}/v1/ops`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});
