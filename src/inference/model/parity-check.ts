import { withTimeout } from '../../core/with-timeout.js';
import type { PrimaryModel } from '../forecast.js';
import { readParity } from './model-artifact.js';

/**
 * Runs the version's parity vectors (parity.json: real feature rows and the outputs training's
 * runtime gave for them) through the loaded model and says what differs, or null when every
 * output is within the file's tolerance (relative to max(1, |output|)) — or the version ships
 * none. Used at start-up and before a hot swap: a runtime, provider or build that does not
 * compute what training computed never serves.
 */
export async function checkParity(model: PrimaryModel, dir: string, timeoutMs: number): Promise<string | null> {
  const p = await readParity(dir);
  if (!p) return null;
  const family = model.family;
  const series = p.rows / family.rowsPerSeries;
  if (!Number.isInteger(series) || p.features.length !== p.rows * family.featureCount) return `parity.json holds ${p.features.length} values for ${p.rows} rows of ${family.featureCount} features`;
  const out = await withTimeout(model.run(Float32Array.from(p.features), series), timeoutMs);
  if (out.length !== p.outputs.length) return `parity: ${out.length} outputs, parity.json has ${p.outputs.length}`;
  let worst = 0;
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const d = Math.abs(out[i]! - p.outputs[i]!) / Math.max(1, Math.abs(p.outputs[i]!));
    if (d > worst) [worst, at] = [d, i];
  }
  return worst > p.tolerance ? `parity: output ${at} is ${out[at]} here, ${p.outputs[at]} in training (relative difference ${worst.toExponential(2)} > ${p.tolerance})` : null;
}
