import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKafkaAuthFailure, kafkaAuthError, kafkaConnection } from '../../../src/core/kafka-connection.js';
import { loadConfig } from '../../../src/ops/config.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-kc-'));
writeFileSync(join(dir, 'pw'), 's3cret\n');
writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

describe('kafkaConnection', () => {
  it('plaintext: brokers only, no TLS, no SASL', () => {
    const k = kafkaConnection(loadConfig({ env: {}, overrides: { kafkaBrokers: 'a:1,b:2' } }));
    expect(k).toEqual({ brokers: ['a:1', 'b:2'] });
  });

  it('sasl_ssl: SCRAM-SHA-512 with the password from the file (trimmed) and the CA', () => {
    const c = loadConfig({ env: { FS_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', FS_KAFKA_SASL_USERNAME: 'fs', FS_KAFKA_SASL_PASSWORD: 'env-loses', FS_KAFKA_SASL_PASSWORD_FILE: join(dir, 'pw'), FS_KAFKA_TLS_CA_FILE: join(dir, 'ca.pem') } });
    const k = kafkaConnection(c);
    expect(k.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'fs', password: 's3cret' });
    expect(k.ssl).toMatchObject({ rejectUnauthorized: true, ca: [expect.stringContaining('BEGIN CERTIFICATE')] });
  });

  it('ssl without a CA file trusts the system CAs; sasl_plaintext has no TLS', () => {
    expect(kafkaConnection(loadConfig({ env: { FS_KAFKA_SECURITY_PROTOCOL: 'ssl' } })).ssl).toEqual({ rejectUnauthorized: true });
    const k = kafkaConnection(loadConfig({ env: { FS_KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', FS_KAFKA_SASL_MECHANISM: 'scram-sha-256', FS_KAFKA_SASL_USERNAME: 'u', FS_KAFKA_SASL_PASSWORD: 'p' } }));
    expect(k.ssl).toBeUndefined();
    expect(k.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'u', password: 'p' });
  });

  it('an unreadable password file is a CONFIG_INVALID naming the variable, not a crash later', () => {
    const c = loadConfig({ env: { FS_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', FS_KAFKA_SASL_USERNAME: 'fs', FS_KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing') } });
    expect(() => kafkaConnection(c)).toThrow(/FS_KAFKA_SASL_PASSWORD_FILE: cannot read .*missing/);
  });

  it('recognises kafkajs SASL refusals (also wrapped) and says what to fix without the password', () => {
    const refused = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512'), { name: 'KafkaJSSASLAuthenticationError' });
    expect(isKafkaAuthFailure(refused)).toBe(true);
    expect(isKafkaAuthFailure(Object.assign(new Error('outer'), { cause: refused }))).toBe(true);
    expect(isKafkaAuthFailure(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9094'))).toBe(false);
    const c = loadConfig({ env: { FS_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', FS_KAFKA_SASL_USERNAME: 'fs', FS_KAFKA_SASL_PASSWORD: 'topsecret' } });
    const e = kafkaAuthError(c, refused);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/FS_KAFKA_SASL_USERNAME.*FS_KAFKA_SASL_PASSWORD_FILE.*FS_KAFKA_SASL_MECHANISM/);
    expect(e.message).not.toContain('topsecret');
  });
});
