import type { Config } from '../ops/config.js';
import type { Logger } from '../ops/logger.js';
import type { PrimaryModel } from '../inference/forecast.js';
import type { FallbackModel } from '../inference/forecaster.js';

export async function loadPrimaryModel(_c: Config, _log: Logger): Promise<PrimaryModel> {
  throw new Error('TODO');
}

export function loadFallbackModel(): FallbackModel {
  throw new Error('TODO');
}
