import { execFileSync } from 'node:child_process';
import { appendFile, readFile } from 'node:fs/promises';
import type { ScenarioResult } from './pipeline-bench.js';

export const TREND_HEADER = 'date,commit,machine,scenario,figures';

/** The figures of a result as `name=value` pairs (numbers only, nested objects flattened with dots), `;`-separated. */
export function figures(r: ScenarioResult): string {
  const out: string[] = [];
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) out.push(`${prefix}=${Number(v.toPrecision(6))}`);
    else if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
  };
  for (const [k, v] of Object.entries(r)) if (k !== 'scenario') walk(k, v);
  return out.join(';');
}

/** The commit the bench ran on (`-dirty` with uncommitted changes), or `unknown` outside git. */
export function currentCommit(cwd = process.cwd()): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=10', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/**
 * Append one line per scenario to the trend file (bench/results/trend.csv), so a regression
 * shows as a change between lines of the same scenario. Writes the header into a new file.
 */
export async function appendTrend(file: string, o: { date: string; commit: string; machine: string; results: readonly ScenarioResult[] }): Promise<number> {
  const exists = await readFile(file, 'utf8').then(
    (t) => t.length > 0,
    () => false,
  );
  const lines = o.results.map((r) => [o.date, o.commit, o.machine, r.scenario, figures(r)].map(csvField).join(','));
  await appendFile(file, `${exists ? '' : `${TREND_HEADER}\n`}${lines.join('\n')}\n`);
  return lines.length;
}
