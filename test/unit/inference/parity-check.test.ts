import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrimaryModel } from '../../../src/inference/forecast.js';
import { loadModelArtifact, readParity } from '../../../src/inference/model/model-artifact.js';
import { checkParity } from '../../../src/inference/model/parity-check.js';
import { loadPrimaryModel } from '../../../src/main/models.js';
import { loadConfig } from '../../../src/ops/config.js';

const ENGINES = resolve('engines');
const shipped = readdirSync(ENGINES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
  .flatMap((d) => readdirSync(join(ENGINES, d.name), { withFileTypes: true }).filter((v) => v.isDirectory()).map((v) => join(d.name, v.name)));
const config = loadConfig({ env: {}, overrides: { executionProviders: ['cpu'] } });
const log = pino({ level: 'silent' });

// Every shipped version carries the training pipeline's parity vectors (real feature rows and the
// outputs Python onnxruntime gave for them), and the processor's runtime reproduces them.
describe('parity vectors of the shipped models', () => {
  it('finds the four shipped versions', () => {
    expect(shipped.sort()).toEqual(['m5-daily-gbm/2-2014-06-30', 'walmart-gbm/1-2012-04-27', 'walmart-mlp/3-2012-04-27', 'walmart-stl/1-2012-04-27']);
  });

  for (const v of shipped) {
    it(`${v}: ships real rows from training and onnxruntime-node reproduces their outputs`, async () => {
      const dir = join(ENGINES, v);
      const p = await readParity(dir);
      expect(p, `${v} has no parity.json (training/tools/write_parity.py writes one)`).not.toBeNull();
      const doc = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8')) as { source: string };
      expect(doc.source).toMatch(/real feature rows/);
      const artifact = await loadModelArtifact(dir);
      expect(p!.rows % artifact.family.rowsPerSeries).toBe(0);
      // several series, not one row repeated
      const width = artifact.family.featureCount;
      const rows = new Set(Array.from({ length: p!.rows }, (_, r) => p!.features.slice(r * width, (r + 1) * width).join(',')));
      expect(rows.size).toBeGreaterThan(p!.rows / 2);
      const model = await loadPrimaryModel(config, artifact, log);
      try {
        expect(await checkParity(model, dir, 30_000)).toBeNull();
      } finally {
        await model.close();
      }
    }, 60_000);
  }
});

describe('the parity check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-parity-'));
  const src = join(ENGINES, 'walmart-gbm/1-2012-04-27');
  let model: PrimaryModel;
  beforeAll(async () => {
    cpSync(src, dir, { recursive: true });
    model = await loadPrimaryModel(config, await loadModelArtifact(dir), log);
  }, 60_000);
  afterAll(async () => model.close());
  const tamper = (edit: (p: { rows: number; features: number[]; outputs: number[]; tolerance: number }) => void) => {
    const p = JSON.parse(readFileSync(join(src, 'parity.json'), 'utf8'));
    edit(p);
    writeFileSync(join(dir, 'parity.json'), JSON.stringify(p));
  };

  it('names the output, both values and the difference when one output is 0.5% off', async () => {
    tamper((p) => {
      p.outputs[13] = p.outputs[13]! * 1.005 + 0.005;
    });
    expect(await checkParity(model, dir, 30_000)).toMatch(/^parity: output 13 is [\d.e+-]+ here, [\d.e+-]+ in training \(relative difference [\d.e+-]+ > 0\.001\)$/);
  });

  it('accepts a difference within the tolerance', async () => {
    tamper((p) => {
      p.outputs[13] = p.outputs[13]! * (1 + 2e-4);
    });
    expect(await checkParity(model, dir, 30_000)).toBeNull();
  });

  it('refuses vectors of another width, and a file that is not parity vectors', async () => {
    tamper((p) => {
      p.features = p.features.slice(0, -1);
    });
    expect(await checkParity(model, dir, 30_000)).toMatch(/parity.json holds \d+ values for 96 rows of 45 features/);
    writeFileSync(join(dir, 'parity.json'), JSON.stringify({ rows: 'x' }));
    await expect(checkParity(model, dir, 30_000)).rejects.toThrow(/invalid parity vectors/);
  });
});
