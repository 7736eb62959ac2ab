import { Redis, type RedisOptions } from 'ioredis';
import { ForecastError } from '../core/errors.js';
import { readSecretFile as readSecret } from '../core/secret-file.js';
import type { Config } from '../ops/config.js';

/**
 * The one way this project connects to Redis: FS_REDIS_URL (`redis://` or `rediss://` for TLS,
 * with an ACL user and password in it if any), the password from FS_REDIS_PASSWORD_FILE when
 * set (a mounted Secret, so it is in no environment variable), and the private CA of
 * FS_REDIS_TLS_CA_FILE for TLS. Credentials never reach logs: callers print redactUrl().
 */
export function redisConnection(c: Pick<Config, 'redisUrl' | 'redisPasswordFile' | 'redisTlsCaFile'>, options: RedisOptions = {}): Redis {
  const extra: RedisOptions = { ...options };
  let url = c.redisUrl;
  if (c.redisPasswordFile) {
    // the URL's own (possibly empty) password would win over an option: move the user out of it
    const u = new URL(c.redisUrl);
    if (u.username) extra.username = decodeURIComponent(u.username);
    u.username = '';
    u.password = '';
    url = u.toString();
    extra.password = readSecret(c.redisPasswordFile, 'FS_REDIS_PASSWORD_FILE');
  }
  if (c.redisTlsCaFile) {
    if (!c.redisUrl.startsWith('rediss://')) throw new ForecastError('CONFIG_INVALID', 'FS_REDIS_TLS_CA_FILE is set but FS_REDIS_URL is not rediss://: use rediss://host:port for TLS', { field: 'redisUrl' });
    extra.tls = { ...(typeof options.tls === 'object' ? options.tls : {}), ca: readSecret(c.redisTlsCaFile, 'FS_REDIS_TLS_CA_FILE') };
  }
  return new Redis(url, extra);
}
