import avro from 'avsc';
import { ForecastError } from '../../src/core/errors.js';
import type { SchemaCodec } from '../../src/core/schema-codec.js';

/**
 * A unit-test stand-in for the schema registry: same wire format (magic byte, schema id,
 * Avro body), schemas kept in a map. Integration tests use the real registry.
 */
export class InMemoryCodec implements SchemaCodec {
  readonly #byId = new Map<number, avro.Type>();
  readonly #bySubject = new Map<string, number>();
  #next = 1;

  async encoder(subject: string, schema: object): Promise<(value: unknown) => Buffer> {
    const text = JSON.stringify(schema);
    let id = this.#bySubject.get(`${subject}\u0000${text}`);
    const type = avro.Type.forSchema(schema as avro.Schema);
    if (id === undefined) {
      id = this.#next++;
      this.#bySubject.set(`${subject}\u0000${text}`, id);
      this.#byId.set(id, type);
    }
    const header = Buffer.from([0, 0, 0, 0, 0]);
    header.writeUInt32BE(id, 1);
    return (value) => Buffer.concat([header, type.toBuffer(value)]);
  }

  async decode(buffer: Buffer, reader: avro.Type): Promise<unknown> {
    if (buffer.length < 5 || buffer[0] !== 0) throw new ForecastError('DECODE_FAILED', 'value is not in the Confluent wire format', { field: 'value' });
    const id = buffer.readUInt32BE(1);
    const writer = this.#byId.get(id);
    if (!writer) throw new ForecastError('DECODE_FAILED', `unknown schema id ${id}`, { field: 'schemaId' });
    try {
      return reader.fromBuffer(buffer.subarray(5), reader.createResolver(writer));
    } catch (cause) {
      throw new ForecastError('DECODE_FAILED', `Avro body does not match schema id ${id}`, { field: 'value', cause });
    }
  }

  async setCompatibility(): Promise<void> {}
}
