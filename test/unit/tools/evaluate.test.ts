/**
 * `evaluate` end to end on the fixture: the committed model and the fallback, the report's
 * fields, and its WMAE recomputed independently from the predictions CSV and the raw CSVs.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateCommand } from '../../../src/cli/commands/evaluate.js';

const fixture = fileURLToPath(new URL('../../fixtures/walmart-mini/', import.meta.url));
const FROM = '2011-11-04';
const TO = '2012-04-27';

async function run(model: string) {
  const dir = await mkdtemp(join(tmpdir(), 'evaluate-'));
  const out = join(dir, 'report.json');
  const predictions = join(dir, 'pairs.csv');
  const args = ['--data', fixture, '--from', FROM, '--to', TO, '--horizons', '4', '--out', out, '--predictions', predictions, '--bench-batch', '64'];
  if (model) args.push('--model', model);
  const stderr = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write; // keep test output readable
  try {
    await evaluateCommand().parseAsync(args, { from: 'user' });
  } finally {
    process.stderr.write = stderr;
  }
  const report = JSON.parse(await readFile(out, 'utf8'));
  const csv = (await readFile(predictions, 'utf8')).trim().split('\n');
  const html = await readFile(join(dir, 'report.html'), 'utf8');
  return { report, csv, html };
}

/** Scored pairs from the raw train.csv: rows dated in the window, each seen from H origins. */
async function expectedPairs(): Promise<{ pairs: number; snaive: Map<string, number> }> {
  const lines = (await readFile(join(fixture, 'train.csv'), 'utf8')).trim().split('\n').slice(1);
  const sales = new Map<string, number>();
  let inWindow = 0;
  for (const l of lines) {
    const [store, dept, date, v] = l.split(',');
    sales.set(`${store}-${dept}-${date}`, Number(v));
    if (date! >= FROM && date! <= TO) inWindow++;
  }
  return { pairs: inWindow * 4, snaive: sales };
}

describe('evaluate on the fixture', () => {
  it.each([['committed model', ''], ['fallback', 'fallback']])('%s: report fields and WMAE recomputed from the pairs', async (_n, model) => {
    const { report, csv, html } = await run(model);
    const { pairs, snaive } = await expectedPairs();
    expect(report.pairs).toBe(pairs);
    expect(csv[0]).toBe('store,dept,origin,target,horizon,actual,p10,p50,p90,holiday');
    expect(csv.length - 1).toBe(pairs);

    let num = 0, den = 0, base = 0, covered = 0;
    for (const line of csv.slice(1)) {
      const [store, dept, , target, , actual, p10, p50, p90, holiday] = line.split(',');
      const w = holiday === '1' ? 5 : 1;
      const a = Number(actual);
      num += w * Math.abs(a - Number(p50));
      den += w;
      const lastYear = new Date(Date.parse(`${target}T00:00:00Z`) - 364 * 86_400_000).toISOString().slice(0, 10);
      base += w * Math.abs(a - (snaive.get(`${store}-${dept}-${lastYear}`) ?? 0));
      if (a >= Number(p10) && a <= Number(p90)) covered++;
    }
    // CSV values are rounded to cents: compare loosely.
    expect(report.wmae).toBeCloseTo(num / den, 0);
    expect(report.baseline.seasonal_naive).toBeCloseTo(base / den, 0);
    expect(report.ratio_to_seasonal_naive).toBeCloseTo(report.wmae / report.baseline.seasonal_naive, 6);
    expect(report.coverage_p10_p90).toBeCloseTo(covered / pairs, 2);
    expect(report.wmae_per_horizon).toHaveLength(4);
    expect(report.per_horizon.reduce((s: number, h: { pairs: number }) => s + h.pairs, 0)).toBe(pairs);
    expect(report.model.kind).toBe(model === 'fallback' ? 'fallback' : 'onnx');
    expect(report.inference.batch).toBe(64);
    expect(html).toContain('<svg');
    expect((html.match(/<polygon/g) ?? []).length).toBeGreaterThanOrEqual(4);
  });

  it('rejects a window that ends before it starts', async () => {
    const cmd = evaluateCommand();
    await expect(cmd.parseAsync(['--data', fixture, '--from', TO, '--to', FROM, '--model', 'fallback', '--out', join(tmpdir(), 'x.json')], { from: 'user' })).rejects.toThrow(/before/);
  });
});
