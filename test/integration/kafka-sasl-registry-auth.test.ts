/**
 * Authenticated connections end to end, against real servers:
 * - Kafka's SASL_SSL listener of the local stack (stack/up.sh: SCRAM-SHA-512 over TLS, a CA
 *   generated into .stack/secure/, the SCRAM user made through the plaintext listener);
 * - a schema registry that requires HTTP basic auth (an Apicurio Registry of this test's own,
 *   the stack's jar, with Quarkus' embedded users: anonymous calls get 401).
 * The processor consumes, forecasts and publishes through both with the passwords read from
 * files; the listener really refuses plaintext clients and wrong passwords; a wrong Kafka or
 * registry password fails start-up naming the setting to fix; no password reaches a log line,
 * an error or /status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Processor } from '../../src/main/processor.js';
import { sale, salesHistory, scenarioCatalog } from '../scenarios/scenario-data.js';
import { freePort } from '../support/child-processor.js';
import { testConfig } from '../support/real-stack.js';
import { StackDriver } from '../support/stack-driver.js';

const stackDir = resolve(process.env.STACK_DIR ?? '.stack');
const secureBrokers = process.env.KAFKA_SECURE_BROKERS ?? '127.0.0.1:9094';
const saslUser = process.env.KAFKA_SASL_USERNAME ?? 'forecast-stream';
const saslPasswordFile = process.env.KAFKA_SASL_PASSWORD_FILE ?? join(stackDir, 'secure', 'kafka-password');
const caFile = process.env.KAFKA_TLS_CA_FILE ?? join(stackDir, 'secure', 'ca.crt');
const REGISTRY_USER = 'fs-registry';
const REGISTRY_PASSWORD = 'r3gistry-pa55-for-auth-test';
const dir = mkdtempSync(join(tmpdir(), 'fs-sasl-'));
let registry: ChildProcess | null = null;
let registryUrl = '';
let kafkaPassword = '';

function secured(extra: Record<string, unknown> = {}) {
  return {
    kafkaBrokers: [secureBrokers],
    kafkaSecurityProtocol: 'sasl_ssl' as const,
    kafkaSaslMechanism: 'scram-sha-512' as const,
    kafkaSaslUsername: saslUser,
    kafkaSaslPasswordFile: saslPasswordFile,
    kafkaTlsCaFile: caFile,
    schemaRegistryUrl: registryUrl,
    schemaRegistryUsername: REGISTRY_USER,
    schemaRegistryPasswordFile: join(dir, 'registry-password'),
    ...extra,
  };
}

async function httpStatus(url: string, auth?: string): Promise<number> {
  try {
    const res = await fetch(url, { headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}, signal: AbortSignal.timeout(2_000) });
    return res.status;
  } catch {
    return 0;
  }
}

beforeAll(async () => {
  if (!existsSync(saslPasswordFile) || !existsSync(caFile)) {
    throw new Error(`the stack's secured Kafka listener material is missing (${saslPasswordFile}, ${caFile}): start the stack with stack/up.sh (KAFKA_SECURE_PORT must not be 0)`);
  }
  kafkaPassword = readFileSync(saslPasswordFile, 'utf8').trim();
  writeFileSync(join(dir, 'registry-password'), `${REGISTRY_PASSWORD}\n`);
  const libDir = join(stackDir, 'lib', 'registry');
  const jar = existsSync(libDir) ? readdirSync(libDir).find((f) => /^apicurio-registry-app-.*-runner\.jar$/.test(f)) : undefined;
  if (!jar) throw new Error(`no Apicurio Registry jar in ${libDir}: stack/up.sh fetches it`);
  const port = await freePort();
  registry = spawn(
    'java',
    [
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Djava.io.tmpdir=${dir}`,
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.http.access-log.enabled=false',
      '-Dapicurio.ccompat.use-canonical-hash=true',
      // HTTP basic auth with Quarkus' embedded user store; every API path needs a user
      '-Dquarkus.http.auth.basic=true',
      '-Dquarkus.security.users.embedded.plain-text=true',
      `-Dquarkus.security.users.embedded.users.${REGISTRY_USER}=${REGISTRY_PASSWORD}`,
      `-Dquarkus.security.users.embedded.roles.${REGISTRY_USER}=sr-admin`,
      '-Dquarkus.http.auth.permission.apis.paths=/apis/*',
      '-Dquarkus.http.auth.permission.apis.policy=authenticated',
      '-jar',
      join(libDir, jar),
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  registryUrl = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  const deadline = Date.now() + 90_000;
  while ((await httpStatus(`${registryUrl}/subjects`, `${REGISTRY_USER}:${REGISTRY_PASSWORD}`)) !== 200) {
    if (Date.now() > deadline || registry.exitCode !== null) throw new Error(`the basic-auth registry on ${port} did not come up`);
    await new Promise((r) => setTimeout(r, 300));
  }
}, 120_000);

afterAll(() => {
  registry?.kill('SIGKILL');
});

describe('Kafka SASL SCRAM-SHA-512 over TLS and a registry with basic auth (real servers)', () => {
  it('the servers really demand the credentials', async () => {
    expect(await httpStatus(`${registryUrl}/subjects`)).toBe(401);
    expect(await httpStatus(`${registryUrl}/subjects`, `${REGISTRY_USER}:wrong`)).toBe(401);
    const wrong = new Kafka({ brokers: [secureBrokers], ssl: { ca: [readFileSync(caFile, 'utf8')] }, sasl: { mechanism: 'scram-sha-512', username: saslUser, password: 'wrong' }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = wrong.admin();
    await expect(admin.connect()).rejects.toThrow(/SASL|authentication/i);
    await admin.disconnect();
    // a plaintext client on the TLS port gets no answer (bounded by the connection timeout)
    const plain = new Kafka({ brokers: [secureBrokers], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2_000, requestTimeout: 3_000 });
    const padmin = plain.admin();
    await expect(padmin.connect().then(() => padmin.listTopics())).rejects.toThrow();
    await padmin.disconnect();
  }, 60_000);

  it('the processor forecasts through both, and no password shows up in logs or /status', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    const driver = await StackDriver.create({ ...secured(), logLevel: 'debug' });
    try {
      const catalog = scenarioCatalog('sa');
      await driver.loadCatalog(catalog, pino({ level: 'debug' }, sink));
      await driver.send([...salesHistory(catalog, 4), ...catalog.map((s, k) => sale(s, `sa-${k}`, 2 + k))].map((value) => ({ topic: 'sales' as const, value })));
      const fs = await driver.waitForForecasts((all) => catalog.every((s) => all.some((f) => f.seriesId === s.seriesId)), 60_000);
      expect(catalog.filter((s) => !fs.some((f) => f.seriesId === s.seriesId))).toEqual([]);
      // the forecasts' schema is registered in the authenticated registry
      const subjects = await fetch(`${registryUrl}/subjects`, { headers: { authorization: `Basic ${Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString('base64')}` } }).then((r) => r.json() as Promise<string[]>);
      expect(subjects).toContain(`${driver.config.topicForecasts}-value`);
      const status = JSON.stringify(driver.processor!.status());
      for (const secret of [kafkaPassword, REGISTRY_PASSWORD]) {
        expect(status).not.toContain(secret);
        expect(lines.join('')).not.toContain(secret);
      }
      expect(lines.length).toBeGreaterThan(0);
    } finally {
      await driver.close();
    }
  }, 150_000);

  it('a wrong Kafka password fails start-up naming the SASL settings, without the password', async () => {
    writeFileSync(join(dir, 'wrong-kafka'), 'not-the-kafka-password\n');
    const p = new Processor({ config: testConfig(secured({ kafkaSaslPasswordFile: join(dir, 'wrong-kafka') })), log: pino({ level: 'silent' }) });
    const err = await p.start().then(
      () => null,
      (e: Error) => e,
    );
    await p.stop();
    expect(err).not.toBeNull();
    expect((err as { code?: string }).code).toBe('CONFIG_INVALID');
    expect(err!.message).toContain('FS_KAFKA_SASL_USERNAME');
    expect(err!.message).toContain('FS_KAFKA_SASL_PASSWORD_FILE');
    expect(err!.message).not.toContain('not-the-kafka-password');
    expect(err!.message).not.toContain(kafkaPassword);
  }, 60_000);

  it('a wrong registry password fails start-up naming the registry settings, without the password', async () => {
    writeFileSync(join(dir, 'wrong-registry'), 'not-the-registry-password\n');
    const p = new Processor({ config: testConfig(secured({ schemaRegistryPasswordFile: join(dir, 'wrong-registry') })), log: pino({ level: 'silent' }) });
    const err = await p.start().then(
      () => null,
      (e: Error) => e,
    );
    await p.stop();
    expect(err).not.toBeNull();
    expect(err!.message).toContain('FS_SCHEMA_REGISTRY_USERNAME');
    expect(err!.message).not.toContain('not-the-registry-password');
    expect(err!.message).not.toContain(REGISTRY_PASSWORD);
  }, 60_000);

  it('SASL settings that cannot work are refused before connecting, naming the fix', () => {
    expect(() => testConfig({ kafkaSecurityProtocol: 'sasl_ssl', kafkaSaslUsername: saslUser })).toThrow(/FS_KAFKA_SASL_PASSWORD_FILE/);
    expect(() => testConfig({ kafkaSaslUsername: saslUser, kafkaSaslPassword: 'x' })).toThrow(/FS_KAFKA_SECURITY_PROTOCOL=sasl_ssl/);
    expect(() => testConfig({ kafkaTlsCaFile: caFile })).toThrow(/FS_KAFKA_SECURITY_PROTOCOL=ssl or sasl_ssl/);
  });
});
