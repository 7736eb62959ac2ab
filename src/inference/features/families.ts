/**
 * The feature families this build can compute, by the id a model artifact declares.
 * Adding a family: a spec module, a builder, parity vectors, and one entry here.
 */
import type { FeatureFamily } from './feature-family.js';
import { walmartWeeklyFamily, WALMART_WEEKLY } from './walmart-weekly-family.js';
import { loadM5DailyFamily, M5_DAILY } from './m5-daily-family.js';

/** What a family needs from the artifact's metadata. */
export interface FamilyMetadata {
  bucketSize: 'day' | 'week';
  featureSpec: { family: string };
  [key: string]: unknown;
}

export const KNOWN_FAMILIES: readonly string[] = [WALMART_WEEKLY, M5_DAILY];

/** The family of a model artifact in `dir` (some families read files shipped with the model, e.g. a calendar). */
export async function familyOf(m: FamilyMetadata, dir: string): Promise<FeatureFamily> {
  const id = m.featureSpec.family;
  if (id === WALMART_WEEKLY) return walmartWeeklyFamily(m.bucketSize);
  if (id === M5_DAILY) return loadM5DailyFamily(m, dir);
  throw new Error(`feature family '${id}' is not built into this processor (known: ${KNOWN_FAMILIES.join(', ')}); deploy a build that has it`);
}
