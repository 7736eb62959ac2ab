import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_INDEX } from '../../../src/inference/features/feature-spec.js';
import { checkQuantiles } from '../../../src/inference/output-check.js';
import { findPrimaryArtifact, loadPrimaryModel } from '../../../src/main/models.js';
import { loadConfig } from '../../../src/ops/config.js';

// The committed model, run through the production path: engines/ -> metadata checks -> worker thread.
describe('primary model in its worker thread', () => {
  it('loads the committed model on CPU and returns valid quantiles for a batch', async () => {
    const config = loadConfig({ env: {}, overrides: { executionProviders: ['tensorrt', 'cpu'], modelName: 'walmart-mlp' } });
    const model = await loadPrimaryModel(config, await findPrimaryArtifact(config), pino({ level: 'silent' }));
    try {
      expect(model.provider).toBe('cpu');
      // tensorrt is not in this onnxruntime-node build: it must have been tried and reported
      expect(model.providerFailures?.map((f) => f.provider)).toEqual(['tensorrt']);
      expect(model.reference).not.toBeNull();
      const batch = 64;
      const features = new Float32Array(batch * FEATURE_COUNT);
      for (let r = 0; r < batch; r++) {
        features[r * FEATURE_COUNT + FEATURE_INDEX.logScale] = Math.log(10 + r);
        for (let k = 0; k < 8; k++) features[r * FEATURE_COUNT + FEATURE_INDEX.lag0 + k] = 1;
      }
      const out = await model.run(features, batch);
      expect(out.length).toBe(batch * model.horizons * 3);
      expect(checkQuantiles(out, batch, model.horizons)).toBeNull();
      // de-normalised inside the graph: a bigger series gets a bigger forecast
      expect(out[(batch - 1) * model.horizons * 3 + 1]!).toBeGreaterThan(out[1]!);
    } finally {
      await model.close();
    }
  });
});
