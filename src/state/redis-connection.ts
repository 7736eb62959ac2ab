import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ForecastError } from '../core/errors.js';
import { readSecretFile as readSecret } from '../core/secret-file.js';
import type { Config } from '../ops/config.js';
import type { RedisClient } from './redis-client.js';
import { RedisClusterClient } from './redis-cluster-client.js';

/**
 * The one way this project connects to Redis: FS_REDIS_URL (`redis://` or `rediss://` for TLS,
 * with an ACL user and password in it if any), the password from FS_REDIS_PASSWORD_FILE when
 * set (a mounted Secret, so it is in no environment variable), and the private CA of
 * FS_REDIS_TLS_CA_FILE for TLS. Credentials never reach logs: callers print redactUrl().
 */
export function redisConnection(c: Pick<Config, 'redisUrl' | 'redisPasswordFile' | 'redisTlsCaFile'>, options: RedisOptions = {}): Redis {
  const { url, extra } = connectionOptions(c, options);
  return new Redis(url, extra);
}

/** What the state store, the accuracy stage and the processor's probes hold: one Redis, or a cluster behind the same calls. */
export type StateRedis = RedisClient & {
  readonly status: string;
  connect(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  disconnect(): void;
};

/**
 * The state's Redis: one server (redisConnection), or with FS_REDIS_CLUSTER a Redis Cluster
 * seeded by FS_REDIS_URL's host and port (the other nodes are discovered; the same user,
 * password and TLS for every node), behind the cluster-aware client (RedisClusterClient).
 */
export function stateRedis(c: Pick<Config, 'redisUrl' | 'redisPasswordFile' | 'redisTlsCaFile' | 'redisCluster'>, options: RedisOptions = {}): StateRedis {
  if (!c.redisCluster) return redisConnection(c, options) as unknown as StateRedis;
  const { url, extra } = connectionOptions(c, options);
  const u = new URL(url);
  const { lazyConnect, enableAutoPipelining, ...perNode } = extra;
  if (u.username) perNode.username = decodeURIComponent(u.username);
  if (u.password) perNode.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:' && !perNode.tls) perNode.tls = {};
  const cluster = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    redisOptions: perNode,
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(enableAutoPipelining !== undefined ? { enableAutoPipelining } : {}),
    // reads and writes go to the masters: the state is read right after it is written
    scaleReads: 'master',
  });
  return new RedisClusterClient(cluster) as unknown as StateRedis;
}

function connectionOptions(c: Pick<Config, 'redisUrl' | 'redisPasswordFile' | 'redisTlsCaFile'>, options: RedisOptions): { url: string; extra: RedisOptions } {
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
  return { url, extra };
}
