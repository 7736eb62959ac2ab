/**
 * The explorer page (/ui) in a real browser (Debian's chromium through puppeteer-core) on the
 * real stack with the daily model: search a series, check the fan chart holds the history
 * and the 28 forecast days with exactly the p50 values the forecast topic carries, move the
 * what-if slider and check the numbers against the endpoint (one series, then its store ×
 * category aggregated), see a real price event move the series into the "moved most" list,
 * and open the operations view. Screenshots go to bench/results/ui/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatIfAnswer } from '../../src/inference/what-if.js';
import type { InputRecord } from '../../src/tools/input-producer.js';
import { dateOf, dayOf, M5Dataset } from '../../src/tools/m5/m5-data.js';
import { loadM5Replay } from '../../src/tools/m5/m5-replay.js';
import type { ForecastView } from '../scenarios/pipeline-driver.js';
import { freePort } from '../support/child-processor.js';
import { StackDriver } from '../support/stack-driver.js';

const SAMPLE = fileURLToPath(new URL('../../data/m5-sample', import.meta.url));
const SHOTS = fileURLToPath(new URL('../../bench/results/ui/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
type Forecast = ForecastView & { issuedAt: number };

describe('explorer page in headless Chromium (real stack, daily model)', () => {
  let driver: StackDriver;
  let browser: Browser;
  let page: Page;
  let port = 0;
  const data = M5Dataset.load(SAMPLE);
  const LAST = '2014-06-30';
  const replay = loadM5Replay(data, dateOf(dayOf(LAST) - 59), LAST);
  const latest = (id: string) => (driver.forecasts() as Forecast[]).filter((f) => f.seriesId === id).at(-1);
  let busy: Forecast;

  const post = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/what-if`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as WhatIfAnswer;
  };
  /** Wait in the page until `fn` (a function body over window.fsUi) is truthy; fails the test on timeout. */
  const until = async (fn: string, what: string, timeout = 20_000) => {
    try {
      await page.waitForFunction(fn, { timeout, polling: 100 });
    } catch (err) {
      const errors = await page.evaluate('JSON.stringify(window.fsUi && window.fsUi.errors)');
      throw new Error(`page: ${what} did not happen in ${timeout} ms (page errors: ${String(errors)}): ${(err as Error).message}`);
    }
  };

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error("no Chromium found: install Debian's chromium package (make test does: scripts/ensure-chromium.sh) or set CHROMIUM_PATH");
    port = await freePort();
    driver = await StackDriver.create({ modelName: 'm5-daily-gbm', metricsPort: port });
    await driver.loadCatalog(replay.catalog);
    const records: InputRecord[] = [...replay.records()];
    for (let i = 0; i < records.length; i += 5_000) await driver.send(records.slice(i, i + 5_000));
    const selling = replay.catalog.filter((s) => data.get(`${s.store}:${s.item}`)!.firstSale !== null);
    await driver.waitForForecasts(() => selling.every((s) => latest(s.seriesId)?.originDate === LAST), 90_000);
    await driver.quiesce();
    const sum = (f: Forecast) => f.horizons.reduce((t, h) => t + h.p50, 0);
    busy = selling.map((s) => latest(s.seriesId)!).sort((a, b) => sum(b) - sum(a))[0]!;
    expect(busy.originDate).toBe(LAST);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await driver?.close();
  });

  it('finds a series and draws its history and fan chart with the p50 values the forecast topic carries', async () => {
    await page.goto(`http://127.0.0.1:${port}/ui`, { waitUntil: 'load' });
    await until('window.fsUi.ops && window.fsUi.ops.ready === true', 'the operations status');
    expect(await page.$eval('#ready', (e) => e.textContent)).toBe('ready');
    await page.type('#search', busy.item);
    await until(`document.querySelector('#results li[data-id="${busy.seriesId}"]')`, 'the search result');
    await page.click(`#results li[data-id="${busy.seriesId}"]`);
    await until('window.fsUi.plotted && window.fsUi.plotted.forecast === 28', 'the fan chart');
    const plotted = (await page.evaluate('({ ...window.fsUi.plotted, xs: window.fsUi.charts.series.data[0].length, p50: window.fsUi.charts.series.data[3].filter((v) => v !== null) })')) as { history: number; forecast: number; xs: number; p50: number[] };
    // the days of history the state holds (the replay's 60, at most the page's 91) up to the origin, then the 28 days ahead
    const detail = (await (await fetch(`http://127.0.0.1:${port}/v1/series/${encodeURIComponent(busy.seriesId)}`)).json()) as { history: Array<{ date: string; sales: number }> };
    expect(detail.history.length).toBeGreaterThan(50);
    expect(detail.history.length).toBeLessThanOrEqual(60);
    expect(detail.history.at(-1)!.date).toBe(LAST);
    expect(plotted.history).toBe(detail.history.length);
    expect(plotted.xs).toBe(detail.history.length + 28);
    // the same numbers the topic carried for this series' newest forecast
    expect(plotted.p50).toEqual(latest(busy.seriesId)!.horizons.map((h) => h.p50));
    // and uPlot really drew: a canvas of the chart's size exists
    const canvas = (await page.evaluate("(() => { const c = document.querySelector('#series-chart canvas'); return { w: c.width, h: c.height }; })()")) as { w: number; h: number };
    expect(canvas.w).toBeGreaterThan(300);
    expect(canvas.h).toBeGreaterThan(200);
    expect(await page.$eval('#series-meta', (e) => e.textContent)).toContain('primary');
    expect(await page.$$eval('#recent tbody tr', (rows) => rows.length)).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: `${SHOTS}explorer.png`, fullPage: true });
  }, 60_000);

  it('what-if: the slider asks the endpoint and the page shows its numbers, for the series and for its store x category', async () => {
    // the default question once the series is open: a 20% cut over the first 14 forecast days
    await until('window.fsUi.whatIf && window.fsUi.whatIf.question.priceCut', 'the first what-if');
    await page.evaluate("(() => { const el = document.getElementById('wi-depth'); el.value = '30'; el.dispatchEvent(new Event('input')); })()");
    await until('window.fsUi.whatIf && window.fsUi.whatIf.question.priceCut.depth === 0.3', 'the 30% what-if');
    const ui = (await page.evaluate('window.fsUi.whatIf')) as { question: Record<string, unknown>; answer: WhatIfAnswer };
    expect(ui.question).toEqual({ series: [busy.seriesId], priceCut: { depth: 0.3, from: '2014-07-01', to: '2014-07-14' } });
    const direct = await post(ui.question);
    expect(ui.answer.series![0]!.scenario).toEqual(direct.series![0]!.scenario);
    expect(ui.answer.total.scenarioTotal).toBe(direct.total.scenarioTotal);
    expect(direct.total.change!).toBeGreaterThan(0); // a cut lifts the forecast
    // the table shows the endpoint's numbers per day
    const rows = await page.$$eval('#wi-delta tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toHaveLength(28);
    direct.series![0]!.scenario.forEach((h, j) => {
      expect(rows[j]![0]).toBe(h.bucketDate);
      expect(rows[j]![2]).toBe(h.p50.toFixed(2));
    });
    expect(await page.evaluate("document.querySelector('#whatif-chart canvas').width")).toBeGreaterThan(300);
    await page.screenshot({ path: `${SHOTS}what-if-series.png`, fullPage: true });

    // the store x category of the series, aggregated (hundreds of series in a real store)
    await page.select('#wi-scope', 'group');
    await until("window.fsUi.whatIf && window.fsUi.whatIf.question.store !== undefined && window.fsUi.whatIf.answer.seriesCount > 1", 'the aggregated what-if');
    const group = (await page.evaluate('window.fsUi.whatIf')) as { question: Record<string, unknown>; answer: WhatIfAnswer };
    expect(group.question).toMatchObject({ store: busy.store, detail: 'total' });
    const directGroup = await post(group.question);
    expect(group.answer.seriesCount).toBe(directGroup.seriesCount);
    expect(group.answer.total.scenarioP50).toEqual(directGroup.total.scenarioP50);
    expect(group.answer.total.baselineP50).toEqual(directGroup.total.baselineP50);
    await page.screenshot({ path: `${SHOTS}what-if-store-category.png`, fullPage: true });
  }, 60_000);

  it('a real price cut moves the series: the page lists it among the series that moved most, with its new forecast', async () => {
    const s = data.get(`${busy.store}:${busy.item}`)!;
    const regular = s.prices.at(-1)!.price;
    const before = latest(busy.seriesId)!.issuedAt;
    const eventTime = Date.parse(`${LAST}T23:30:00Z`);
    // watch from now: the replay moved every series minutes ago; this cut is the only news
    await page.click('#movers-watch');
    await until("window.fsUi.movers && window.fsUi.movers.length === 0 && document.querySelector('#movers-window').value === 'mark'", 'an empty watch list');
    await driver.send([
      { topic: 'prices', value: { eventId: `ui-cut-${busy.seriesId}`, store: busy.store, item: busy.item, price: Math.round(regular * 70) / 100, regularPrice: regular, effectiveDate: '2014-07-01', eventTime } },
      { topic: 'prices', value: { eventId: `ui-back-${busy.seriesId}`, store: busy.store, item: busy.item, price: regular, regularPrice: regular, effectiveDate: '2014-07-15', eventTime } },
    ]);
    const f = await driver.waitForForecasts(() => (latest(busy.seriesId)?.issuedAt ?? 0) > before, 30_000);
    expect(f.filter((x) => x.seriesId === busy.seriesId).length).toBeGreaterThanOrEqual(2);
    // the page polls every 2 s: the mover appears and the chart shows the new numbers
    await until(`document.querySelector('#movers li[data-id="${busy.seriesId}"]')`, 'the series among the movers', 15_000);
    const moved = ((await page.evaluate('window.fsUi.movers')) as Array<{ seriesId: string; change: number }>).find((m) => m.seriesId === busy.seriesId)!;
    expect(moved.change).toBeGreaterThan(0); // a cut lifts the 28-day total
    const now = latest(busy.seriesId)!;
    await until(`JSON.stringify(window.fsUi.plotted.p50) === ${JSON.stringify(JSON.stringify(now.horizons.map((h) => h.p50)))}`, 'the chart updated to the new forecast', 15_000);
    expect(await page.$$eval('#recent tbody tr', (rows) => rows.length)).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: `${SHOTS}explorer-after-price-cut.png`, fullPage: true });
  }, 60_000);

  it('the operations view shows the breaker, forecasts by source, lag per topic and dead letters', async () => {
    // one bad record: a sale of an item the catalog does not list
    await driver.send([{ topic: 'sales', value: { eventId: 'ui-unknown', store: busy.store, item: 'NOT_LISTED_1', eventTime: Date.parse(`${LAST}T20:00:00Z`), quantity: 1, unitPrice: null } }]);
    expect(await driver.waitForDeadLetters(1, 30_000)).toHaveLength(1);
    await page.click('#tab-ops');
    await until("document.querySelector('#ops-dlq').textContent.includes('UNKNOWN_SERIES')", 'the dead letter in the operations view');
    await until("document.querySelector('#ops-sources table') && document.querySelector('#ops-lag tbody tr')", 'the operations view');
    const ops = (await page.evaluate('window.fsUi.ops')) as { breaker: string; forecastsBySource: { primary: number }; consumerLag: Record<string, number> };
    expect(ops.breaker).toBe('closed');
    expect(ops.forecastsBySource.primary).toBeGreaterThan(0);
    expect(Object.keys(ops.consumerLag)).toContain(driver.config.topicSales);
    expect(await page.$eval('#ops-sources', (e) => e.textContent)).toContain(String(ops.forecastsBySource.primary));
    // the model lifecycle card names the live version the status reports; the accuracy table renders
    const live = (ops as unknown as { lifecycle: { live: { version: string } } }).lifecycle.live.version;
    await until(`document.querySelector('#ops-lifecycle').textContent.includes(${JSON.stringify(live)})`, 'the live version in the model-versions card');
    expect(await page.$eval('#ops-timeline tbody', (e) => e.textContent)).toContain('serving at start');
    expect(await page.$$eval('#ops-accuracy tbody tr', (rows) => rows.length)).toBeGreaterThan(0);
    await page.screenshot({ path: `${SHOTS}operations.png`, fullPage: true });
  }, 60_000);
});
