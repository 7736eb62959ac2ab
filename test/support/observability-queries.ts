/**
 * The PromQL of the alert rules (helm/forecast-stream/files/alerts.yaml) and of the Grafana
 * dashboard (files/dashboard.json), and what each expression needs from the processor's
 * metrics: the metric names it queries and the labels it groups, matches or joins by. Shared
 * by the unit contract test (against the processor's registry) and the integration test that
 * has a real Prometheus scrape a running processor (test/integration/prometheus-scrape.test.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const CHART_FILES = fileURLToPath(new URL('../../helm/forecast-stream/files/', import.meta.url));

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface DashboardPanel {
  title: string;
  targets: Array<{ expr: string }>;
}

export function alertRules(): AlertRule[] {
  const rules = parse(readFileSync(`${CHART_FILES}alerts.yaml`, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return rules.groups.flatMap((g) => g.rules);
}

export function dashboardPanels(): DashboardPanel[] {
  return (JSON.parse(readFileSync(`${CHART_FILES}dashboard.json`, 'utf8')) as { panels: DashboardPanel[] }).panels;
}

/** Every expression of the rules and the dashboard, named by its alert or panel title [target]. */
export function allQueries(): Array<{ where: string; expr: string }> {
  return [
    ...alertRules().map((a) => ({ where: a.alert, expr: a.expr })),
    ...dashboardPanels().flatMap((p) => p.targets.map((t, i) => ({ where: `${p.title} [${i}]`, expr: t.expr }))),
  ];
}

/** A dashboard expression with its Grafana variables ($namespace, ${pod}) replaced by `value`. */
export function withVariables(expr: string, value: string): string {
  return expr.replace(/\$\{?[a-z_]+\}?/g, () => value);
}

const VARIABLE = 'grafana_variable';
const METRIC = /\b(forecast_stream_[a-z0-9_]+)\b/g;

/** The forecast_stream_* metric names an expression queries, as written (…_bucket, …_total). */
export function metricsIn(expr: string): string[] {
  return [...expr.matchAll(METRIC)].map((m) => m[1]!);
}

export interface LabelUse {
  label: string;
  /** The metrics the label must be a label of. */
  metrics: string[];
  clause: 'matcher' | 'by' | 'without' | 'on' | 'ignoring';
  /** For an equality matcher on a literal (`source="fallback"`): the value a series must have. */
  value?: string;
}

/**
 * Each label an expression uses, with the metrics it must be a label of:
 *  - a matcher `metric{label="…"}`: that metric (a bare `{…}`: every metric of the expression);
 *  - `by (…)` / `without (…)`: the metrics inside the aggregated expression (the parenthesised
 *    group after the clause, or before it for the `sum(x) by (l)` form);
 *  - `on (…)` / `ignoring (…)`: both sides of the binary operation, taken as every metric of the
 *    expression.
 * Grafana variables count as no value (`pod=~"$pod"` requires the label, not a value).
 */
export function labelUses(query: string): LabelUse[] {
  const expr = withVariables(query, VARIABLE); // a `${pod}` would end a matcher's braces early
  const all = metricsIn(expr);
  const out: LabelUse[] = [];
  for (const m of expr.matchAll(/(\b(forecast_stream_[a-z0-9_]+)\s*)?\{([^}]*)\}/g)) {
    const metrics = m[2] ? [m[2]] : all;
    for (const part of m[3]!.split(',')) {
      const matcher = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/.exec(part);
      if (!matcher) continue;
      const literal = matcher[2] === '=' && !matcher[3]!.includes(VARIABLE);
      out.push({ label: matcher[1]!, metrics, clause: 'matcher', ...(literal ? { value: matcher[3]! } : {}) });
    }
  }
  for (const m of expr.matchAll(/\b(by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    const clause = m[1] as LabelUse['clause'];
    let metrics = all;
    if (clause === 'by' || clause === 'without') {
      const after = m.index! + m[0].length;
      const next = /^\s*\(/.exec(expr.slice(after));
      const group = next ? balanced(expr, after + next[0].length - 1) : balancedBefore(expr, m.index!);
      if (group) metrics = metricsIn(group);
    }
    for (const l of m[2]!.split(',').map((x) => x.trim()).filter(Boolean)) out.push({ label: l, metrics, clause });
  }
  return out;
}

/** Metric names and the labels an expression uses on them (by/without/on/ignoring clauses and matchers). */
export function used(expr: string): { metrics: string[]; labels: string[] } {
  return { metrics: metricsIn(expr), labels: labelUses(expr).map((u) => u.label) };
}

/** The text of the parenthesised group opening at `open` (an index of '('), or null. */
function balanced(expr: string, open: number): string | null {
  let depth = 0;
  for (let i = open; i < expr.length; i++) {
    if (expr[i] === '(') depth++;
    else if (expr[i] === ')' && --depth === 0) return expr.slice(open, i + 1);
  }
  return null;
}

/** The parenthesised group that ends just before `end` (whitespace allowed), or null. */
function balancedBefore(expr: string, end: number): string | null {
  let i = end - 1;
  while (i >= 0 && /\s/.test(expr[i]!)) i--;
  if (expr[i] !== ')') return null;
  let depth = 0;
  for (let j = i; j >= 0; j--) {
    if (expr[j] === ')') depth++;
    else if (expr[j] === '(' && --depth === 0) return expr.slice(j, i + 1);
  }
  return null;
}
