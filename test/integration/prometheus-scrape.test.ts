/**
 * A real Prometheus (the server of scripts/ensure-prometheus.sh, .tools/prometheus) scrapes a
 * running processor (`forecast-stream run`, its own process, on private topics of the real
 * stack) every second, with the chart's alert rules loaded. The processor is fed good sales, bad
 * records (dead letters) and a registry outage (ingest retries), and then Prometheus's HTTP API
 * must show: the target up; every metric the alert rules and the Grafana dashboard name, as
 * they name it (…_total, …_bucket); every label they group, match or join by, on that metric's
 * series; every dashboard query returning data; every rule evaluating without error; and the
 * bad-input alert pending for the dead-lettered records with the topic and code labels.
 * The unit test test/unit/ops/observability-contract.test.ts checks the same names against
 * the processor's registry; this one checks them against what a Prometheus really stores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema } from '../../src/core/schemas.js';
import type { Config } from '../../src/ops/config.js';
import { deleteTopicsWith } from '../../src/tools/setup-topics.js';
import { sale, salesHistory, scenarioCatalog, weather } from '../scenarios/scenario-data.js';
import { freePort, startChildProcessor } from '../support/child-processor.js';
import { FaultChecker, sleep } from '../support/fault-checker.js';
import { CHART_FILES, allQueries, alertRules, labelUses, metricsIn, withVariables } from '../support/observability-queries.js';
import { testConfig, testKafka } from '../support/real-stack.js';

const PROMETHEUS = fileURLToPath(new URL('../../.tools/prometheus', import.meta.url));
// The target labels a Prometheus Operator ServiceMonitor gives every series (the rules group by
// namespace and pod); a static scrape config attaches them the same way. They are not the
// processor's labels: the processor's own (topic, code, source, le, cause, kind) are checked.
const TARGET = { namespace: 'fs-scrape-test', pod: 'forecast-stream-0' };

type Series = Record<string, string>;
interface PromAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

/** Poll `problems` until it returns none or `ms` pass; the last problems (none: in time). */
async function settle(problems: () => Promise<string[]>, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  let last = await problems().catch((err: Error) => [err.message]);
  while (last.length > 0 && Date.now() < end) {
    await sleep(500);
    last = await problems().catch((err: Error) => [err.message]);
  }
  return last;
}

describe('a real Prometheus scraping a running processor', () => {
  const catalog = scenarioCatalog('ps');
  let c: Config;
  let check: FaultChecker | undefined;
  let producer: Producer | undefined;
  let proc: Awaited<ReturnType<typeof startChildProcessor>> | undefined;
  let prom: ChildProcess | undefined;
  let promLog = '';
  let promUrl = '';
  let registryProxy: Server | undefined;
  let registryDown = false;
  const dir = mkdtempSync(join(tmpdir(), 'fs-prometheus-'));

  const api = async <T,>(path: string): Promise<T> => {
    const res = await fetch(`${promUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as PromAnswer<T>;
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
    return body.data;
  };
  const query = (q: string) => api<{ resultType: string; result: Array<{ metric: Series; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(q)}`);
  /** Every forecast_stream_* series Prometheus holds: name → the label sets of its series. */
  const stored = async (): Promise<Map<string, Series[]>> => {
    const all = await api<Series[]>(`/api/v1/series?match[]=${encodeURIComponent('{__name__=~"forecast_stream_.+"}')}`);
    const out = new Map<string, Series[]>();
    for (const s of all) out.set(s.__name__!, [...(out.get(s.__name__!) ?? []), s]);
    return out;
  };
  const exposition = async () => (await fetch(`http://127.0.0.1:${proc!.httpPort}/metrics`)).text();

  beforeAll(async () => {
    if (!existsSync(PROMETHEUS)) throw new Error(`no ${PROMETHEUS}: run bash scripts/ensure-prometheus.sh (make test does)`);
    c = testConfig({ inputPartitions: 1, outputPartitions: 1 });
    check = await FaultChecker.create(c, catalog);

    // The processor reaches the schema registry through this proxy, so the test can take the
    // registry away from it alone (the shared one stays up): ingest then retries the records
    // whose writer schema it has not fetched yet (forecast_stream_ingest_retries_total{cause}).
    const upstream = new URL(c.schemaRegistryUrl);
    registryProxy = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        if (registryDown) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('registry taken away by the test');
        const body = Buffer.concat(chunks);
        fetch(new URL(req.url!, upstream.origin), { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json', accept: req.headers.accept ?? '*/*' }, body: body.length > 0 ? body : undefined })
          .then(async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await r.arrayBuffer())))
          .catch((err: Error) => res.writeHead(502).end(err.message));
      });
    });
    await new Promise<void>((r) => registryProxy!.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(registryProxy.address() as { port: number }).port}${upstream.pathname}`;
    proc = await startChildProcessor({ ...c, schemaRegistryUrl: proxyUrl });

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(`${CHART_FILES}alerts.yaml`)}]`,
        'scrape_configs:',
        '  - job_name: forecast-stream',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ["127.0.0.1:${proc.httpPort}"]`,
        `        labels: ${JSON.stringify(TARGET)}`,
        '',
      ].join('\n'),
    );
    prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
    prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    const ready = await settle(async () => {
      if (prom!.exitCode !== null) throw new Error(`prometheus exited with ${prom!.exitCode}: ${promLog}`);
      const r = await fetch(`${promUrl}/-/ready`);
      return r.ok ? [] : [`/-/ready answered ${r.status}`];
    }, 20_000);
    expect(ready, promLog).toEqual([]);

    // good input: three weeks of sales for every series, forecast
    producer = check.kafka.producer();
    await producer.connect();
    const encodeSale = await check.salesEncoder();
    for (const s of salesHistory(catalog, 3)) {
      const [meta] = await producer.send({ topic: c.topicSales, messages: [{ key: `${s.store}-${s.item}`, value: encodeSale(s) }], acks: -1 });
      check.acked.push({ seriesId: `${s.store}-${s.item}`, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), quantity: s.quantity });
    }
    // bad input, dead-lettered: a sale of an item the catalog does not know, and bytes that are not Avro
    await producer.send({ topic: c.topicSales, acks: -1, messages: [{ key: 'x', value: encodeSale(sale({ ...catalog[0]!, item: 'NOT_LISTED' }, 'ps-bad-1', 1)) }, { key: 'x', value: Buffer.from('not avro') }] });
    expect(await check.waitCovered(30_000), proc.log().slice(-3_000)).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await Promise.race([new Promise((r) => prom!.once('exit', r)), sleep(5_000).then(() => prom!.kill('SIGKILL'))]);
    }
    rmSync(dir, { recursive: true, force: true });
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGTERM');
      await Promise.race([new Promise((r) => proc!.child.once('exit', r)), sleep(15_000).then(() => proc!.child.kill('SIGKILL'))]);
    }
    await new Promise((r) => (registryProxy ? registryProxy.close(r) : r(undefined)));
    await producer?.disconnect().catch(() => undefined);
    await check?.close().catch(() => undefined);
    if (c) {
      await deleteTopicsWith(testKafka(c), c).catch(() => undefined);
      const { storeFor } = await import('../../src/cli/cli-context.js');
      const store = await storeFor(c);
      await store.clearAll();
      await store.close();
    }
  }, 60_000);

  it('scrapes the processor: the target is up and its last scrape had no error', async () => {
    const problems = await settle(async () => {
      const { activeTargets } = await api<{ activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string; labels: Series }> }>('/api/v1/targets?state=active');
      const mine = activeTargets.filter((t) => t.scrapeUrl === `http://127.0.0.1:${proc!.httpPort}/metrics`);
      if (mine.length !== 1) return [`${mine.length} targets scrape the processor: ${JSON.stringify(activeTargets)}`];
      return mine[0]!.health === 'up' && mine[0]!.lastError === '' ? [] : [`target ${mine[0]!.health}: ${mine[0]!.lastError}`];
    }, 15_000);
    expect(problems, promLog).toEqual([]);
    // the processor's own labels never clash with the target's (Prometheus would rename them exported_*)
    const clashing = [...(await stored()).values()].flat().filter((s) => Object.keys(s).some((l) => l.startsWith('exported_')));
    expect(clashing).toEqual([]);
  });

  it('after a registry outage, every metric and label the alert rules and the dashboard use is in Prometheus', async () => {
    // ingest retries exist only while a dependency is down: take the registry away from the
    // processor, send the first weather record (its writer schema is not fetched yet), wait
    // until Prometheus has scraped a retry, give the registry back
    const encodeWeather = await check!.codec.encoder(`${c.topicWeather}-value`, loadSchema('weather'));
    registryDown = true;
    try {
      await producer!.send({ topic: c.topicWeather, acks: -1, messages: [{ key: catalog[0]!.store, value: encodeWeather(weather(catalog[0]!.store, 'ps-wx-1')) }] });
      const stalled = await settle(async () => ((await query('forecast_stream_ingest_retries_total{cause="DECODE_FAILED"} > 0')).result.length > 0 ? [] : ['no ingest retry scraped yet']), 20_000);
      expect(stalled, `${proc!.log().slice(-2_000)}\n${(await exposition()).split('\n').filter((l) => l.includes('ingest')).join('\n')}`).toEqual([]);
    } finally {
      registryDown = false;
    }

    const queries = allQueries();
    const wanted = [...new Set(queries.flatMap((q) => metricsIn(q.expr)))].sort();
    // every metric name of every panel and rule (sanity: the extraction found them)
    expect(wanted.length).toBeGreaterThanOrEqual(20);
    let have = new Map<string, Series[]>();
    let checked = 0;
    const problems = await settle(async () => {
      have = await stored();
      checked = 0;
      const out: string[] = [];
      for (const m of wanted) if (!have.has(m)) out.push(`${m}: no series in Prometheus`);
      for (const q of queries) {
        for (const u of labelUses(q.expr)) {
          for (const m of u.metrics) {
            checked++;
            const series = have.get(m) ?? [];
            if (series.length > 0 && !series.some((s) => u.label in s)) out.push(`${q.where}: ${m} has no series with label '${u.label}' (${u.clause}); its labels: ${[...new Set(series.flatMap((s) => Object.keys(s)))].join(', ')}`);
            if (u.value !== undefined && series.length > 0 && !series.some((s) => s[u.label] === u.value)) out.push(`${q.where}: ${m} has no series with ${u.label}="${u.value}"`);
          }
        }
      }
      return out;
    }, 20_000);
    console.info(JSON.stringify({ scenario: 'prometheus-scrape', metricsUsed: wanted.length, labelUsesChecked: checked, seriesInPrometheus: [...have.values()].flat().length }));
    expect(problems).toEqual([]);
  });

  it('every dashboard query returns data and every alert rule evaluates without error', async () => {
    const dashboard = allQueries().filter((q) => !alertRules().some((a) => a.alert === q.where));
    const problems = await settle(async () => {
      const out: string[] = [];
      for (const q of dashboard) {
        const r = await query(withVariables(q.expr, '.*'));
        if (r.result.length === 0) out.push(`${q.where}: no data for ${q.expr}`);
      }
      const { groups } = await api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; lastEvaluation: string }> }> }>('/api/v1/rules?type=alert');
      const rules = groups.flatMap((g) => g.rules);
      if (rules.length !== alertRules().length) out.push(`${rules.length} alert rules loaded, ${alertRules().length} in alerts.yaml`);
      for (const r of rules) if (r.health !== 'ok') out.push(`${r.name}: health ${r.health} ${r.lastError ?? ''} (last evaluated ${r.lastEvaluation})`);
      return out;
    }, 20_000);
    expect(problems).toEqual([]);
  });

  it('ForecastStreamBadInput is pending for the dead-lettered records, with their topic and code', async () => {
    // a rate needs the counter to rise between two scrapes: another dead letter now that
    // Prometheus holds the series (the first ones created it)
    const encodeSale = await check!.salesEncoder();
    await producer!.send({ topic: c.topicSales, acks: -1, messages: [{ key: 'x', value: encodeSale(sale({ ...catalog[0]!, item: 'NOT_LISTED' }, 'ps-bad-2', 1)) }] });
    let alerts: Array<{ labels: Series; state: string }> = [];
    const problems = await settle(async () => {
      alerts = (await api<{ alerts: Array<{ labels: Series; state: string }> }>('/api/v1/alerts')).alerts;
      const mine = alerts.filter((a) => a.labels.alertname === 'ForecastStreamBadInput' && a.labels.topic === c.topicSales && a.labels.code === 'UNKNOWN_SERIES' && a.labels.namespace === TARGET.namespace);
      return mine.some((a) => a.state === 'pending' || a.state === 'firing') ? [] : ['ForecastStreamBadInput{code="UNKNOWN_SERIES"} not pending'];
    }, 20_000);
    expect(problems, JSON.stringify(alerts)).toEqual([]);
    // nothing in this run is an outage worth paging for: no alert fires (the `for:` of the
    // pending ones has not passed, and the rules without one see no unreadable series)
    expect(alerts.filter((a) => a.state === 'firing')).toEqual([]);
  });
});
