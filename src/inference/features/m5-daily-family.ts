import type { FeatureFamily } from './feature-family.js';

export const M5_DAILY = 'm5-daily';

export async function loadM5DailyFamily(_m: unknown, _dir: string): Promise<FeatureFamily> {
  throw new Error('m5-daily: not yet built');
}
