import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { ForecastError } from './errors.js';
import { redactUrl } from './redact.js';
import { readSecretFile } from './secret-file.js';

/** A registry call that takes longer is a failure (retried like an unreachable registry), never a hang. */
const REGISTRY_TIMEOUT_MS = 10_000;

/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro
 * body: https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format).
 * The only place that talks to the schema registry. Readers always decode with their
 * own (reader) schema, resolved against the writer's schema fetched by id, so a consumer
 * on an old schema reads records written with a newer, compatible one.
 */
export interface SchemaCodec {
  /** Register (or find) `schema` under `subject`; returns a synchronous encoder. */
  encoder(subject: string, schema: object): Promise<(value: unknown) => Buffer>;
  /** Decode a wire-format buffer with the given reader type. */
  decode(buffer: Buffer, reader: avro.Type): Promise<unknown>;
  /** Set the registry's compatibility level for a subject. */
  setCompatibility(subject: string, level: 'BACKWARD' | 'FORWARD' | 'FULL' | 'NONE'): Promise<void>;
}

export function parseSchema(schema: object): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema);
}

/** The settings that say how to reach the registry (a slice of Config). */
export interface RegistryConnectionSettings {
  schemaRegistryUrl: string;
  schemaRegistryUsername: string;
  schemaRegistryPassword: string;
  schemaRegistryPasswordFile: string;
}

export class RegistrySchemaCodec implements SchemaCodec {
  readonly #registry: SchemaRegistry;
  readonly #host: string;
  readonly #writers = new Map<number, Promise<avro.Type>>();
  readonly #resolvers = new WeakMap<avro.Type, Map<number, avro.Resolver>>();

  readonly #headers: Record<string, string>;

  /**
   * host: the Confluent-compatible API base. auth: HTTP basic credentials (Confluent's
   * basic.auth.user.info); a `user:password@` in host is taken as auth too and removed from
   * the URL (fetch refuses URLs with credentials, and the URL is printed in errors).
   */
  constructor(host: string, auth?: { username: string; password: string }) {
    const u = new URL(host);
    if (u.username && !auth) auth = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    u.username = '';
    u.password = '';
    this.#host = u.toString().replace(/\/$/, '');
    this.#headers = auth ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } : {};
    this.#registry = new SchemaRegistry({ host: this.#host, clientId: 'forecast-stream', ...(auth ? { auth } : {}) });
  }

  /** The codec for a configuration: FS_SCHEMA_REGISTRY_URL with FS_SCHEMA_REGISTRY_USERNAME and the password (its _FILE wins). */
  static fromSettings(s: RegistryConnectionSettings): RegistrySchemaCodec {
    if (!s.schemaRegistryUsername) return new RegistrySchemaCodec(s.schemaRegistryUrl);
    const password = s.schemaRegistryPasswordFile ? readSecretFile(s.schemaRegistryPasswordFile, 'FS_SCHEMA_REGISTRY_PASSWORD_FILE', 'schemaRegistryPasswordFile') : s.schemaRegistryPassword;
    return new RegistrySchemaCodec(s.schemaRegistryUrl, { username: s.schemaRegistryUsername, password });
  }

  async encoder(subject: string, schema: object): Promise<(value: unknown) => Buffer> {
    const type = parseSchema(schema);
    let id: number;
    try {
      ({ id } = await this.#registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject }));
    } catch (cause) {
      const msg = (cause as Error).message;
      const hint = /\b40[13]\b|unauthori[sz]ed|forbidden/i.test(msg) ? ' — the registry refused the credentials: check FS_SCHEMA_REGISTRY_USERNAME and the password (FS_SCHEMA_REGISTRY_PASSWORD_FILE)' : '';
      throw new ForecastError('PUBLISH_FAILED', `registering schema for subject ${subject} at ${redactUrl(this.#host)} failed: ${msg}${hint}`, {
        retriable: true,
        cause,
      });
    }
    const header = Buffer.alloc(5);
    header.writeUInt8(0, 0);
    header.writeUInt32BE(id, 1);
    return (value) => Buffer.concat([header, type.toBuffer(value)]);
  }

  async decode(buffer: Buffer, reader: avro.Type): Promise<unknown> {
    if (buffer.length < 5 || buffer[0] !== 0) {
      throw new ForecastError('DECODE_FAILED', 'value is not in the Confluent wire format (magic byte 0 + schema id); produce it with a registry-aware Avro serializer', {
        field: 'value',
      });
    }
    const id = buffer.readUInt32BE(1);
    const writer = await this.#writer(id);
    let perReader = this.#resolvers.get(reader);
    if (!perReader) this.#resolvers.set(reader, (perReader = new Map()));
    let resolver = perReader.get(id);
    if (!resolver) {
      try {
        resolver = reader.createResolver(writer);
      } catch (cause) {
        throw new ForecastError('DECODE_FAILED', `writer schema id ${id} cannot be read as ${reader.name ?? 'the expected record'}: ${(cause as Error).message}; produce with a compatible schema`, {
          field: 'schemaId',
          cause,
        });
      }
      perReader.set(id, resolver);
    }
    try {
      return reader.fromBuffer(buffer.subarray(5), resolver, false);
    } catch (cause) {
      throw new ForecastError('DECODE_FAILED', `Avro body does not match schema id ${id}: ${(cause as Error).message}`, { field: 'value', cause });
    }
  }

  async setCompatibility(subject: string, level: 'BACKWARD' | 'FORWARD' | 'FULL' | 'NONE'): Promise<void> {
    const res = await fetch(`${this.#host}/config/${encodeURIComponent(subject)}`, {
      signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
      method: 'PUT',
      headers: { ...this.#headers, 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: level }),
    });
    if (!res.ok) throw new ForecastError('PUBLISH_FAILED', `setting compatibility of ${subject} failed: HTTP ${res.status} ${await res.text()}`);
  }

  #writer(id: number): Promise<avro.Type> {
    let p = this.#writers.get(id);
    if (!p) {
      p = this.#fetchWriter(id);
      this.#writers.set(id, p);
      // a failed lookup must not stay cached: the registry may be back or the id registered later
      p.catch(() => this.#writers.delete(id));
    }
    return p;
  }

  async #fetchWriter(id: number): Promise<avro.Type> {
    const res = await fetch(`${this.#host}/schemas/ids/${id}`, { headers: this.#headers, signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS) }).catch((cause: unknown) => {
      throw new ForecastError('DECODE_FAILED', `schema registry ${redactUrl(this.#host)} unreachable: ${(cause as Error).message}`, { retriable: true, cause });
    });
    if (res.status === 404) {
      throw new ForecastError('DECODE_FAILED', `unknown schema id ${id}: not in the registry; produce with a schema registered in ${redactUrl(this.#host)}`, { field: 'schemaId' });
    }
    if (res.status === 401 || res.status === 403) {
      throw new ForecastError('DECODE_FAILED', `schema registry ${this.#host} refused the credentials (HTTP ${res.status}) looking up schema id ${id}: check FS_SCHEMA_REGISTRY_USERNAME and the password (FS_SCHEMA_REGISTRY_PASSWORD_FILE)`, { retriable: true });
    }
    if (!res.ok) {
      throw new ForecastError('DECODE_FAILED', `schema registry answered HTTP ${res.status} for schema id ${id}`, { retriable: true });
    }
    const body = (await res.json()) as { schema: string };
    return avro.Type.forSchema(JSON.parse(body.schema) as avro.Schema);
  }
}

export { COMPATIBILITY };
