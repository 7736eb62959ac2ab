// Writes docs/configuration.md from the comments and defaults in src/ops/config.ts, so the
// documentation cannot drift from the schema (a unit test checks every setting is listed).
import { readFileSync, writeFileSync } from 'node:fs';

const src = readFileSync(new URL('../src/ops/config.ts', import.meta.url), 'utf8');
const rows = [];
const lines = src.split('\n');
for (let i = 1; i < lines.length; i++) {
  const doc = /^\s*\/\*\* (.*) \*\/$/.exec(lines[i - 1]);
  const field = /^\s*(\w+): (.*)$/.exec(lines[i]);
  if (!doc || !field) continue;
  const [, key, def] = field;
  if (!/default\(|optional\(/.test(def)) continue;
  const text = doc[1].trim();
  const dflt = /\.default\((.*)\),?$/.exec(def.trim())?.[1] ?? 'see meaning';
  rows.push(`| \`${key}\` | ${text.replace(/\|/g, '\\|')} | \`${dflt.replace(/_/g, '')}\` |`);
}
const out = `# Configuration

Generated from \`src/ops/config.ts\` by \`node scripts/config-docs.mjs\`. Settings come from
environment variables, then an optional JSON file (\`--config FILE\`, keys as in the first
column), then command-line overrides; the later source wins. The whole configuration is
validated once at start-up: an invalid value stops the process with a message naming the
setting and its environment variable, and cross-field rules name both fields.

| setting | environment variable and meaning | default |
| --- | --- | --- |
${rows.join('\n')}
`;
writeFileSync(new URL('../docs/configuration.md', import.meta.url), out);
console.log(`docs/configuration.md: ${rows.length} settings`);
