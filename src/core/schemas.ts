import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The Avro schemas in `schemas/` (one file each), read from src/ or dist/ alike. */
export type SchemaName = 'sales' | 'promotion' | 'weather' | 'price' | 'catalog' | 'forecast-updated' | 'alert';

const DIR = new URL('../../schemas/', import.meta.url);

export function loadSchema(name: SchemaName): object {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`${name}.avsc`, DIR)), 'utf8')) as object;
}

/** Subject naming: Confluent's TopicNameStrategy, `<topic>-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}
