/** Loading engines/: the committed model validates; a feature-spec mismatch or a changed file is refused. */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FEATURE_SPEC_HASH } from '../../../src/inference/features/feature-spec.js';
import { ModelArtifactError, findModelDir, loadModelArtifact } from '../../../src/inference/model/model-artifact.js';

const engines = fileURLToPath(new URL('../../../engines/', import.meta.url));

async function copyOfCommittedModel(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'model-'));
  await cp(await findModelDir(engines, 'walmart-mlp'), dir, { recursive: true });
  return dir;
}

describe('model artifact', () => {
  it('finds and validates the committed model', async () => {
    const a = await loadModelArtifact(await findModelDir(engines, 'walmart-mlp'));
    expect(a.metadata.featureSpec.hash).toBe(FEATURE_SPEC_HASH);
    expect(a.metadata.horizons).toEqual([1, 2, 3, 4]);
    expect(a.metadata.quantiles).toEqual([0.1, 0.5, 0.9]);
    expect(a.metadata.referenceDistribution.p50OverScale).toHaveLength(4);
  });

  it('refuses a model trained on another feature spec, naming both hashes', async () => {
    const dir = await copyOfCommittedModel();
    const meta = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    meta.featureSpec.hash = 'f'.repeat(64);
    await writeFile(join(dir, 'model.json'), JSON.stringify(meta));
    const err = await loadModelArtifact(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelArtifactError);
    expect(String((err as Error).message)).toMatch(new RegExp(`ffffffffffff.*${FEATURE_SPEC_HASH.slice(0, 12)}`));
  });

  it('refuses an ONNX file that is not the one the metadata describes', async () => {
    const dir = await copyOfCommittedModel();
    const bytes = await readFile(join(dir, 'model.onnx'));
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(join(dir, 'model.onnx'), bytes);
    await expect(loadModelArtifact(dir)).rejects.toThrow(/sha256/);
  });

  it('refuses metadata that misses fields', async () => {
    const dir = await copyOfCommittedModel();
    await writeFile(join(dir, 'model.json'), JSON.stringify({ name: 'x' }));
    await expect(loadModelArtifact(dir)).rejects.toThrow(/invalid model metadata/);
  });
});
