/**
 * What-if on the real stack (Kafka, registry, Redis, the daily model's ONNX worker): the
 * answer comes from the live model on the live state, agrees exactly with the forecast the
 * same events produce when they are really sent, writes no state, publishes nothing, and
 * names the field of a bad question.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatIfAnswer } from '../../src/inference/what-if.js';
import type { InputRecord } from '../../src/tools/input-producer.js';
import { dateOf, dayOf, M5Dataset } from '../../src/tools/m5/m5-data.js';
import { loadM5Replay } from '../../src/tools/m5/m5-replay.js';
import type { ForecastView } from '../scenarios/pipeline-driver.js';
import { StackDriver } from '../support/stack-driver.js';

const SAMPLE = fileURLToPath(new URL('../../data/m5-sample', import.meta.url));
type Forecast = ForecastView & { issuedAt: number };
const PORT = 20_000 + Math.floor(Math.random() * 20_000);

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${PORT}/v1/what-if`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('what-if endpoint (real stack, daily model)', () => {
  let driver: StackDriver;
  const data = M5Dataset.load(SAMPLE);
  const LAST = '2014-06-30';
  const replay = loadM5Replay(data, dateOf(dayOf(LAST) - 59), LAST);
  const latest = (id: string) => (driver.forecasts() as Forecast[]).filter((f) => f.seriesId === id).at(-1);
  let busy: Forecast[] = [];

  beforeAll(async () => {
    driver = await StackDriver.create({ modelName: 'm5-daily-gbm', metricsPort: PORT });
    await driver.loadCatalog(replay.catalog);
    const records: InputRecord[] = [...replay.records()];
    for (let i = 0; i < records.length; i += 5_000) await driver.send(records.slice(i, i + 5_000));
    const selling = replay.catalog.filter((s) => data.get(`${s.store}:${s.item}`)!.firstSale !== null);
    await driver.waitForForecasts(() => selling.every((s) => latest(s.seriesId)?.originDate === LAST), 90_000);
    await driver.quiesce();
    const sum = (f: Forecast) => f.horizons.reduce((t, h) => t + h.p50, 0);
    busy = selling.map((s) => latest(s.seriesId)!).filter((f) => f.originDate === LAST).sort((a, b) => sum(b) - sum(a)).slice(0, 3);
  }, 150_000);

  afterAll(async () => {
    await driver?.close();
  });

  it('answers with the live forecast as baseline, and the same numbers the real price events then produce', async () => {
    const f = busy[0]!;
    const s = data.get(`${f.store}:${f.item}`)!;
    const regular = s.prices.at(-1)!.price;
    const cut = Math.round(regular * 75) / 100;
    const changes = [
      { effectiveDate: '2014-07-01', price: cut },
      { effectiveDate: '2014-07-15', price: regular },
    ];
    const { status, json } = await post({ series: [f.seriesId], prices: changes });
    expect(status, JSON.stringify(json)).toBe(200);
    const a = json as unknown as WhatIfAnswer;
    expect(a.model.name).toBe('m5-daily-gbm');
    expect(a.ignored).toEqual([]);
    const one = a.series![0]!;
    expect(one.seriesId).toBe(f.seriesId);
    expect(one.originDate).toBe(LAST);
    // the baseline is the live forecast, number for number
    expect(one.baseline).toEqual(latest(f.seriesId)!.horizons);
    // the cut days move up, the others stay
    for (const h of one.scenario) {
      const d = one.deltaP50[h.horizon - 1]!;
      if (h.bucketDate <= '2014-07-14') expect(d).toBeGreaterThanOrEqual(0);
      else expect(d).toBe(0);
    }
    expect(a.total.change!).toBeGreaterThan(0.05);
    // now the same changes for real
    const before = latest(f.seriesId)!.issuedAt;
    const eventTime = Date.parse(`${LAST}T23:30:00Z`);
    await driver.send(changes.map((c, i) => ({ topic: 'prices' as const, value: { eventId: `wi-${i}-${f.seriesId}`, store: f.store, item: f.item, price: c.price, regularPrice: regular, effectiveDate: c.effectiveDate, eventTime } })));
    await driver.waitForForecasts(() => (latest(f.seriesId)?.issuedAt ?? 0) > before, 30_000);
    const real = latest(f.seriesId)!;
    expect(real.issuedAt).toBeGreaterThan(before);
    expect(real.originDate).toBe(one.originDate);
    expect(real.horizons).toEqual(one.scenario);
  }, 60_000);

  it('writes no state and publishes nothing', async () => {
    await driver.quiesce();
    const state = await driver.dumpState();
    const published = driver.forecasts().length;
    const { status } = await post({ store: 'CA_3', category: 'FOODS', priceCut: { depth: 0.3, from: '2014-07-02', to: '2014-07-08' } });
    expect(status).toBe(200);
    await driver.quiesce();
    expect(driver.forecasts().length).toBe(published);
    expect(await driver.dumpState()).toEqual(state);
  }, 60_000);

  it('a store x category promotion: every covered series answers, the promotion days rise and the other days stay', async () => {
    const covered = replay.catalog.filter((s) => s.store === 'CA_3' && s.category === 'FOODS');
    const { status, json } = await post({ store: 'CA_3', category: 'FOODS', promotion: { depth: 0.3, from: '2014-07-08', to: '2014-07-14' } });
    expect(status).toBe(200);
    const a = json as unknown as WhatIfAnswer;
    expect(a.seriesCount).toBe(covered.length);
    expect(a.series!.map((s) => s.seriesId).sort()).toEqual(covered.map((s) => s.seriesId).sort());
    let rose = 0;
    for (const s of a.series!) {
      for (const h of s.scenario) {
        const d = s.deltaP50[h.horizon - 1]!;
        const inPromo = h.bucketDate >= '2014-07-08' && h.bucketDate <= '2014-07-14';
        if (!inPromo) expect(d, `${s.seriesId} ${h.bucketDate}`).toBe(0);
        else expect(d).toBeGreaterThanOrEqual(0);
        if (inPromo && d > 0) rose++;
      }
    }
    expect(rose).toBeGreaterThan(0);
    // 30% off is past the model's step: x1.2 on those days for the series without another cut
    const promoDays = a.total.bucketDates.map((d, j) => [d, j] as const).filter(([d]) => d >= '2014-07-08' && d <= '2014-07-14');
    const base = promoDays.reduce((t, [, j]) => t + a.total.baselineP50[j]!, 0);
    const scen = promoDays.reduce((t, [, j]) => t + a.total.scenarioP50[j]!, 0);
    expect(scen / base).toBeGreaterThan(1.1);
    expect(scen / base).toBeLessThanOrEqual(1.2 + 1e-6);
  }, 60_000);

  it('says so when the model learned nothing from an input (weather for the daily model), and changes nothing', async () => {
    const f = busy[1]!;
    const { status, json } = await post({ series: [f.seriesId], weather: [{ date: '2014-07-02', temperatureC: 38, precipitationMm: 0 }] });
    expect(status).toBe(200);
    const a = json as unknown as WhatIfAnswer;
    expect(a.ignored.join(' ')).toMatch(/weather: model m5-daily-gbm learned no weather effect/);
    expect(a.series![0]!.scenario).toEqual(a.series![0]!.baseline);
  }, 30_000);

  it('a bad question gets the field and the fix', async () => {
    const f = busy[2]!;
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{ series: ['NOPE-1'], priceCut: { depth: 0.2, from: '2014-07-01', to: '2014-07-02' } }, 404, 'series[0]', /not in the catalog/],
      [{ series: [f.seriesId], priceCut: { depth: 20, from: '2014-07-01', to: '2014-07-02' } }, 400, 'priceCut.depth', /less than 1/],
      [{ series: [f.seriesId], priceCut: { depth: 0.2, from: '2014-07-05', to: '2014-07-01' } }, 400, 'priceCut.to', /on or after/],
      [{ series: [f.seriesId] }, 400, 'prices', /ask about something/],
      [{ category: 'FOODS', prices: [{ effectiveDate: '2014-07-01', price: 1 }] }, 400, 'series', /or a store/],
      [{ series: [f.seriesId], prices: [{ effectiveDate: '1 July', price: 1 }] }, 400, 'prices.0.effectiveDate', /YYYY-MM-DD/],
      [{ series: [f.seriesId], discount: 0.2 }, 400, 'body', /unknown field\(s\) discount/],
      ['{"series": [', 400, 'body', /not JSON/],
    ];
    for (const [body, status, field, message] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      const err = r.json.error as { field: string; message: string };
      expect(err.field, JSON.stringify(body)).toBe(field);
      expect(err.message).toMatch(message);
    }
  }, 30_000);
});
