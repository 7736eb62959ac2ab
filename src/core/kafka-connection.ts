import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { ForecastError } from './errors.js';
import { readSecretFile as readSecret } from './secret-file.js';

/** The settings that say how to reach and authenticate to Kafka (a slice of Config). */
export interface KafkaConnectionSettings {
  kafkaBrokers: readonly string[];
  kafkaSecurityProtocol: 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';
  kafkaSaslMechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain';
  kafkaSaslUsername: string;
  kafkaSaslPassword: string;
  kafkaSaslPasswordFile: string;
  kafkaTlsCaFile: string;
}

/**
 * The one way this project connects to Kafka: the brokers of FS_KAFKA_BROKERS over the
 * FS_KAFKA_SECURITY_PROTOCOL (librdkafka's names: plaintext, ssl, sasl_plaintext, sasl_ssl),
 * SASL with FS_KAFKA_SASL_MECHANISM (SCRAM-SHA-512 by default) as FS_KAFKA_SASL_USERNAME, the
 * password from FS_KAFKA_SASL_PASSWORD_FILE (a mounted Secret) or FS_KAFKA_SASL_PASSWORD, and
 * TLS verified against FS_KAFKA_TLS_CA_FILE (a private CA) or the system's CAs. Files are read
 * here, once per client. The password is never logged: callers print brokers, never this object.
 */
export function kafkaConnection(c: KafkaConnectionSettings): Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> = { brokers: [...c.kafkaBrokers] };
  const tls = c.kafkaSecurityProtocol === 'ssl' || c.kafkaSecurityProtocol === 'sasl_ssl';
  const sasl = c.kafkaSecurityProtocol === 'sasl_ssl' || c.kafkaSecurityProtocol === 'sasl_plaintext';
  if (tls) out.ssl = c.kafkaTlsCaFile ? { ca: [readSecret(c.kafkaTlsCaFile, 'FS_KAFKA_TLS_CA_FILE')], rejectUnauthorized: true } : { rejectUnauthorized: true };
  if (sasl) {
    const password = c.kafkaSaslPasswordFile ? readSecret(c.kafkaSaslPasswordFile, 'FS_KAFKA_SASL_PASSWORD_FILE') : c.kafkaSaslPassword;
    out.sasl = { mechanism: c.kafkaSaslMechanism, username: c.kafkaSaslUsername, password } as SASLOptions;
  }
  return out;
}

/** A SASL refusal from the broker, as the Kafka client reports it (wrong user, password or mechanism). */
export function isKafkaAuthFailure(err: unknown): boolean {
  for (let e = err as { name?: string; message?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (e.name === 'KafkaJSSASLAuthenticationError' || /SASL .*authentication failed|Authentication failed/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** A start-up error for refused Kafka credentials that names the settings to fix, never the password. */
export function kafkaAuthError(c: KafkaConnectionSettings, cause: unknown): ForecastError {
  return new ForecastError(
    'CONFIG_INVALID',
    `Kafka at ${c.kafkaBrokers.join(',')} (FS_KAFKA_BROKERS) refused the credentials of user '${c.kafkaSaslUsername}' (${c.kafkaSaslMechanism.toUpperCase()}): ${(cause as Error).message} — check FS_KAFKA_SASL_USERNAME, the password (FS_KAFKA_SASL_PASSWORD_FILE or FS_KAFKA_SASL_PASSWORD) and FS_KAFKA_SASL_MECHANISM`,
    { field: 'kafkaSaslUsername', cause },
  );
}
