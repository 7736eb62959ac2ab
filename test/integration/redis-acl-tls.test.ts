/**
 * Redis with an ACL user and password, over TLS with a private CA (a real redis-server of this
 * test's own; Debian's is built with TLS, certificates generated here with openssl): the
 * processor connects with `rediss://forecast@…`, the password from FS_REDIS_PASSWORD_FILE and
 * the CA from FS_REDIS_TLS_CA_FILE, stores state and forecasts; a wrong password fails start-up
 * with an error that names FS_REDIS_URL and never the password, and the password appears in no
 * log line and not in /status.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Processor } from '../../src/main/processor.js';
import { redisConnection } from '../../src/state/redis-connection.js';
import { sale, salesHistory, scenarioCatalog } from '../scenarios/scenario-data.js';
import { freePort } from '../support/child-processor.js';
import { testConfig } from '../support/real-stack.js';
import { StackDriver } from '../support/stack-driver.js';

const PASSWORD = 'p4ss-w0rd-for-acl-test';
const dir = mkdtempSync(join(tmpdir(), 'fs-redis-tls-'));
let redis: ChildProcess | null = null;
let port = 0;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

beforeAll(async () => {
  // a CA and a server certificate for localhost / 127.0.0.1
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=forecast-stream test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'redis.key', '-out', 'redis.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'redis.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'redis.crt');
  writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
  port = await freePort();
  // TLS only (port 0 = no plain TCP), the default user off, one ACL user for forecast-stream
  redis = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', 'redis.crt', '--tls-key-file', 'redis.key', '--tls-ca-cert-file', 'ca.crt', '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--user', 'default', 'off', '--user', 'forecast', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'], { cwd: dir, stdio: 'ignore' });
  const probe = { redisUrl: `rediss://forecast@127.0.0.1:${port}`, redisPasswordFile: join(dir, 'password'), redisTlsCaFile: join(dir, 'ca.crt') };
  for (let i = 0; ; i++) {
    const r = redisConnection(probe, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      expect(await r.ping()).toBe('PONG');
      await r.quit();
      break;
    } catch (err) {
      r.disconnect();
      if (i > 100) throw new Error(`redis-server with TLS on ${port} did not come up: ${(err as Error).message}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}, 60_000);

afterAll(() => {
  redis?.kill('SIGKILL');
});

describe('Redis with an ACL user, a password file and TLS (real redis-server)', () => {
  it('the processor stores state and forecasts through it, and the password shows up nowhere', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    const driver = await StackDriver.create({ redisUrl: `rediss://forecast@127.0.0.1:${port}`, redisPasswordFile: join(dir, 'password'), redisTlsCaFile: join(dir, 'ca.crt'), logLevel: 'debug' });
    try {
      const catalog = scenarioCatalog('tl');
      await driver.loadCatalog(catalog, pino({ level: 'debug' }, sink));
      await driver.send([...salesHistory(catalog, 4), ...catalog.map((s, k) => sale(s, `tl-${k}`, 2 + k))].map((value) => ({ topic: 'sales' as const, value })));
      const fs = await driver.waitForForecasts((all) => catalog.every((s) => all.some((f) => f.seriesId === s.seriesId)), 60_000);
      expect(catalog.filter((s) => !fs.some((f) => f.seriesId === s.seriesId))).toEqual([]);
      // the state really is in this Redis, read back over TLS as the ACL user
      const r = redisConnection(driver.config, { lazyConnect: true });
      await r.connect();
      expect(await r.hget(`${driver.config.redisPrefix}:{s:${catalog[0]!.seriesId}}:sales`, '_max')).not.toBeNull();
      expect(await r.acl('WHOAMI')).toBe('forecast');
      await r.quit();
      const status = JSON.stringify(driver.processor!.status());
      expect(status).not.toContain(PASSWORD);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('')).not.toContain(PASSWORD);
    } finally {
      await driver.close();
    }
  }, 120_000);

  it('a wrong password fails start-up naming FS_REDIS_URL and the ACL refusal, without the password', async () => {
    writeFileSync(join(dir, 'wrong'), 'not-the-password\n');
    // the URL carries a password too (replaced by the file's): neither may be printed
    const p = new Processor({ config: testConfig({ redisUrl: `rediss://forecast:${PASSWORD}-url@127.0.0.1:${port}`, redisPasswordFile: join(dir, 'wrong'), redisTlsCaFile: join(dir, 'ca.crt') }), log: pino({ level: 'silent' }) });
    const err = await p.start().then(
      () => null,
      (e: Error) => e,
    );
    await p.stop();
    expect(err).not.toBeNull();
    const text = `${err!.message} ${String((err as { cause?: Error }).cause?.message ?? '')}`;
    expect(text).toContain('FS_REDIS_URL');
    expect(text).toMatch(/WRONGPASS|invalid username-password/);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('not-the-password');
  }, 60_000);

  it('a CA file with a plain redis:// URL is refused with the fix', async () => {
    const p = new Processor({ config: testConfig({ redisUrl: `redis://127.0.0.1:${port}`, redisTlsCaFile: join(dir, 'ca.crt') }), log: pino({ level: 'silent' }) });
    await expect(p.start()).rejects.toThrow(/FS_REDIS_TLS_CA_FILE is set but FS_REDIS_URL is not rediss:\/\//);
    await p.stop();
  }, 60_000);
});
