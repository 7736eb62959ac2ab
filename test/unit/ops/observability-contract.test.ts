/**
 * The alert rules (helm/forecast-stream/files/alerts.yaml) and the Grafana dashboard
 * (files/dashboard.json) only mean something if they query what the processor exports: every
 * metric they name must be in the processor's registry, every label they group or match by must
 * be one of that metric's labels (or a scrape target label), every alert must link an existing
 * runbook, and every metric docs/operations.md says is worth an alert must have a rule.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src/core/typed-emitter.js';
import { LagMonitor } from '../../../src/ops/lag-monitor.js';
import { PipelineMetrics } from '../../../src/ops/metrics.js';
import { alertRules, dashboardPanels, used, withVariables } from '../../support/observability-queries.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TARGET_LABELS = new Set(['namespace', 'pod', 'job', 'instance', 'container', 'service', 'endpoint']);

/** name → labels it may carry (histograms: its _bucket/_sum/_count series, `le` on buckets). */
function exported(): Map<string, Set<string>> {
  const metrics = new PipelineMetrics({ ingest: new TypedEmitter(), batching: new TypedEmitter(), inference: new TypedEmitter(), publish: new TypedEmitter() } as never);
  new LagMonitor({} as Admin, 'g', [], metrics.registry);
  const out = new Map<string, Set<string>>();
  for (const m of metrics.registry.getMetricsAsArray() as unknown as Array<{ name: string; labelNames?: string[]; constructor: { name: string } }>) {
    const labels = new Set(m.labelNames ?? []);
    if (m.constructor.name === 'Histogram') {
      out.set(`${m.name}_bucket`, new Set([...labels, 'le']));
      out.set(`${m.name}_sum`, labels);
      out.set(`${m.name}_count`, labels);
    } else out.set(m.name, labels);
  }
  return out;
}

function check(where: string, expr: string, known: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  const u = used(withVariables(expr, 'x'));
  if (u.metrics.length === 0) problems.push(`${where}: queries no forecast_stream_* metric`);
  const labelsOf = new Set<string>(TARGET_LABELS);
  for (const m of u.metrics) {
    const labels = known.get(m);
    if (!labels) problems.push(`${where}: ${m} is not exported by the processor`);
    else for (const l of labels) labelsOf.add(l);
  }
  for (const l of u.labels) if (!labelsOf.has(l)) problems.push(`${where}: label '${l}' is not a label of ${u.metrics.join(', ')}`);
  return problems;
}

describe('alerts and dashboard query what the processor exports', () => {
  const known = exported();
  const alerts = alertRules();

  it('every alert rule names exported metrics and their labels, has a severity and an existing runbook', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    const problems = alerts.flatMap((a) => check(a.alert, a.expr, known));
    for (const a of alerts) {
      if (!['critical', 'warning', 'info'].includes(a.labels?.severity ?? '')) problems.push(`${a.alert}: severity label missing`);
      const runbook = /^RUNBOOK_BASE\/([a-z-]+\.md)$/.exec(a.annotations?.runbook_url ?? '')?.[1];
      if (!runbook || !existsSync(`${ROOT}docs/runbooks/${runbook}`)) problems.push(`${a.alert}: runbook_url ${a.annotations?.runbook_url} is not a docs/runbooks file`);
      if (!a.annotations?.summary || !a.annotations?.description) problems.push(`${a.alert}: summary/description missing`);
    }
    expect(problems).toEqual([]);
  });

  it('every metric docs/operations.md calls worth an alert has a rule', () => {
    const ops = readFileSync(`${ROOT}docs/operations.md`, 'utf8');
    const table = ops.slice(ops.indexOf('## Metrics worth an alert'), ops.indexOf('## Alerts topic'));
    const documented = [...table.matchAll(/^\| `(forecast_stream_[a-z_]+)`/gm)].map((m) => m[1]!);
    expect(documented.length).toBeGreaterThanOrEqual(8);
    const inRules = new Set(alerts.flatMap((a) => used(a.expr).metrics.map((m) => m.replace(/_bucket$/, ''))));
    expect(documented.filter((m) => !inRules.has(m))).toEqual([]);
  });

  it('every dashboard query names exported metrics and their labels', () => {
    const panels = dashboardPanels();
    const problems = panels.flatMap((p) => p.targets.flatMap((t, i) => check(`${p.title} [${i}]`, t.expr, known)));
    expect(problems).toEqual([]);
    // the panels the operations issue asks for
    const titles = panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const w of ['lag', 'breaker', 'drift', 'fallback', 'dead letters', 'inference', 'forecasts']) expect(titles).toContain(w);
  });

  it('the checker catches an unknown metric and a label the metric does not have', () => {
    expect(check('t', 'sum by (topic) (rate(forecast_stream_nope_total[5m]))', known)).toEqual(['t: forecast_stream_nope_total is not exported by the processor', "t: label 'topic' is not a label of forecast_stream_nope_total"]);
    expect(check('t', 'sum by (source) (forecast_stream_consumer_lag)', known)).toEqual(["t: label 'source' is not a label of forecast_stream_consumer_lag"]);
  });
});
