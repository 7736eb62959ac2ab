/**
 * The Redis calls the state store makes, and nothing more (so a fake or another client
 * can stand in). ioredis' `Redis` satisfies it; on a cluster, RedisClusterClient does
 * (ioredis' own `Cluster` refuses pipelines across nodes).
 */
export interface RedisPipeline {
  hgetall(key: string): RedisPipeline;
  hset(key: string, ...fieldValues: string[]): RedisPipeline;
  mgetBuffer(...keys: string[]): RedisPipeline;
  unlink(...keys: string[]): RedisPipeline;
  set(key: string, value: Buffer | string, px: 'PX', ms: number): RedisPipeline;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
  [script: string]: unknown;
}

export interface RedisClient {
  pipeline(): RedisPipeline;
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
  hgetall(key: string): Promise<Record<string, string>>;
  hmget(key: string, ...fields: string[]): Promise<Array<string | null>>;
  scan(cursor: string | number, ...args: Array<string | number>): Promise<[string, string[]]>;
  type(key: string): Promise<string>;
  unlink(...keys: string[]): Promise<number>;
  zrange(key: string, start: number, stop: number, withScores: 'WITHSCORES'): Promise<string[]>;
  quit(): Promise<unknown>;
}
