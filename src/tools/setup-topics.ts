import type { Admin, Kafka } from 'kafkajs';
import type { Config } from '../ops/config.js';
import { loadSchema, valueSubject, type SchemaName } from '../core/schemas.js';
import type { SchemaCodec } from '../core/schema-codec.js';

/** Topic -> schema of its values (the dead-letter topic keeps original bytes: no schema). */
export function topicSchemas(c: Config): Array<[string, SchemaName | null]> {
  return [
    [c.topicSales, 'sales'],
    [c.topicPromotions, 'promotion'],
    [c.topicWeather, 'weather'],
    [c.topicPrices, 'price'],
    [c.topicCatalog, 'catalog'],
    [c.topicForecasts, 'forecast-updated'],
    [c.topicAlerts, 'alert'],
    [c.topicDeadLetter, null],
    // a version in shadow publishes there (same record as forecast-updated), when configured
    ...(c.topicShadow ? ([[c.topicShadow, 'forecast-updated']] as Array<[string, SchemaName]>) : []),
  ];
}

export interface SetupResult {
  created: string[];
  existing: string[];
  subjects: string[];
}

/**
 * Creates the project's topics (auto-creation is off on the broker) and registers every
 * value schema with BACKWARD compatibility. Safe to run again: existing topics and
 * identical schemas are left as they are.
 */
export async function setupTopics(admin: Admin, codec: SchemaCodec, c: Config): Promise<SetupResult> {
  const existingTopics = new Set(await admin.listTopics());
  const wanted = topicSchemas(c).map(([t]) => t);
  const partitionsOf = (t: string) =>
    t === c.topicForecasts || t === c.topicShadow ? c.outputPartitions : t === c.topicAlerts || t === c.topicDeadLetter ? 1 : c.inputPartitions;
  const missing = wanted.filter((t) => !existingTopics.has(t));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: partitionsOf(topic),
        replicationFactor: 1,
        // the catalog is a table: the latest record per item is its entry (as a KTable would read it)
        ...(topic === c.topicCatalog ? { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] } : {}),
      })),
    });
  }
  const subjects: string[] = [];
  for (const [topic, schema] of topicSchemas(c)) {
    if (!schema) continue;
    const subject = valueSubject(topic);
    await codec.setCompatibility(subject, 'BACKWARD');
    await codec.encoder(subject, loadSchema(schema));
    subjects.push(subject);
  }
  return { created: missing, existing: wanted.filter((t) => existingTopics.has(t)), subjects };
}

/** setupTopics with an admin client of its own (connected for the call). */
export async function setupTopicsWith(kafka: Kafka, codec: SchemaCodec, c: Config): Promise<SetupResult> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await setupTopics(admin, codec, c);
  } finally {
    await admin.disconnect();
  }
}

/** Delete this configuration's topics (benchmarks and tests use throwaway ones). */
export async function deleteTopicsWith(kafka: Kafka, c: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = topicSchemas(c).map(([t]) => t).filter((t) => existing.has(t));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}
