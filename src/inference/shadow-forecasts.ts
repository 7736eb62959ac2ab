import type { Forecast, PrimaryModel } from './forecast.js';
import { applyStatistical } from './statistical/statistical-component.js';
import type { ServedGroup } from './serving-models.js';

/**
 * The forecasts a version in shadow would have published for a live batch: the live forecasts'
 * series, origins, issue time and triggers, with the shadow version's quantiles (its ONNX output
 * `out`, [series, horizons, 3], and its statistical component if it has one, as it would serve
 * them) and its name and version. `out` is not modified.
 */
export function shadowForecasts(model: PrimaryModel, group: ServedGroup, out: Float32Array): Forecast[] {
  const horizons = model.horizons;
  const values = Float32Array.from(out);
  if (model.statistical) applyStatistical(model.statistical, values, group.snapshots, group.origins, horizons);
  return group.forecasts.map((live, i) => ({
    ...live,
    modelName: model.name,
    modelVersion: model.version,
    source: live.source === 'fallback' ? 'primary' : live.source,
    horizons: live.horizons.slice(0, horizons).map((h, k) => ({
      ...h,
      p10: values[(i * horizons + k) * 3]!,
      p50: values[(i * horizons + k) * 3 + 1]!,
      p90: values[(i * horizons + k) * 3 + 2]!,
    })),
    triggers: [...live.triggers],
  }));
}
