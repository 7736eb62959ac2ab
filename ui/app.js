// forecast-stream explorer: plain JavaScript on the processor's own JSON endpoints
// (docs/explorer.md), charts with uPlot (served by the processor from its npm package).
// window.fsUi exposes what is drawn, so the browser test can check it against the topic.
'use strict';

const fsUi = (window.fsUi = { seriesId: null, detail: null, whatIf: null, charts: {}, ops: null, errors: [] });
const $ = (id) => document.getElementById(id);
const DAY = 86400;

// with FS_ADMIN_TOKEN set, open the page once as /ui?token=<token>: it is kept for this tab only
const token = new URLSearchParams(location.search).get('token') || sessionStorage.getItem('fs-token') || '';
if (token) {
  sessionStorage.setItem('fs-token', token);
  if (location.search.includes('token=')) history.replaceState(null, '', location.pathname);
}
async function getJson(url, init = {}) {
  const headers = { ...(init.headers || {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(url, { ...init, headers });
  if (res.status === 401 || res.status === 403) {
    const body = await res.json().catch(() => ({}));
    throw new Error(`not allowed: ${body.error ? body.error.message : res.status}; open this page as /ui?token=<FS_ADMIN_TOKEN>`);
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ? `${body.error.field ? body.error.field + ': ' : ''}${body.error.message}` : `${res.status} ${res.statusText}`);
  return body;
}
const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
const pct = (x) => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`);
const ago = (ms) => (ms < 1500 ? 'just now' : ms < 90_000 ? `${Math.round(ms / 1000)} s ago` : ms < 5_400_000 ? `${Math.round(ms / 60_000)} min ago` : `${Math.round(ms / 3_600_000)} h ago`);
const ts = (date) => Date.parse(`${date}T12:00:00Z`) / 1000;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
function report(err) {
  fsUi.errors.push(String(err && err.message ? err.message : err));
  console.error(err);
}

// ---- charts -------------------------------------------------------------------------------
function chartWidth(el) {
  return Math.max(320, el.clientWidth || el.parentElement.clientWidth - 30);
}
function draw(key, el, opts, data) {
  const old = fsUi.charts[key];
  if (old && old.series.length === opts.series.length) {
    old.setData(data);
    return old;
  }
  if (old) old.destroy();
  el.innerHTML = '';
  fsUi.charts[key] = new uPlot({ width: chartWidth(el), height: el.classList.contains('small') ? 180 : 300, ...opts }, data, el);
  return fsUi.charts[key];
}
const band = (fill) => ({ fill, width: 0, points: { show: false } });

/** History (bars of the last buckets) and the newest forecast as a fan: p10–p90 band, p50 line. */
function drawSeries(detail) {
  const latest = detail.recent[0] || null;
  const hx = detail.history.map((h) => ts(h.date));
  const fx = latest ? latest.bucketDates.map(ts) : [];
  const xs = [...hx, ...fx];
  const nH = hx.length;
  const pad = (arr, before) => [...new Array(before).fill(null), ...arr];
  const sales = [...detail.history.map((h) => h.sales), ...new Array(fx.length).fill(null)];
  const p10 = latest ? pad(latest.p10, nH) : [];
  const p50 = latest ? pad(latest.p50, nH) : [];
  const p90 = latest ? pad(latest.p90, nH) : [];
  const data = latest ? [xs, sales, p10, p50, p90] : [xs, sales];
  const series = [{}, { label: 'sales', stroke: '#374151', width: 1.5, points: { show: nH < 120 } }];
  if (latest) series.push({ label: 'p10', stroke: 'rgba(37,99,235,0.35)', ...band('rgba(37,99,235,0.15)') }, { label: 'p50', stroke: '#2563eb', width: 2 }, { label: 'p90', stroke: 'rgba(37,99,235,0.35)', width: 1 });
  draw('series', $('series-chart'), { series, bands: latest ? [{ series: [4, 2], fill: 'rgba(37,99,235,0.15)' }] : [], scales: { x: { time: true } }, axes: [{}, { label: 'units' }] }, data);
  fsUi.plotted = { history: nH, forecast: fx.length, p50: latest ? latest.p50.slice() : [] };
}

function drawWhatIf(answer, scope) {
  const one = scope === 'series' && answer.series && answer.series[0];
  const dates = one ? one.baseline.map((h) => h.bucketDate) : answer.total.bucketDates;
  const xs = dates.map(ts);
  let data;
  let series;
  let bands = [];
  if (one) {
    data = [xs, one.baseline.map((h) => h.p10), one.baseline.map((h) => h.p50), one.baseline.map((h) => h.p90), one.scenario.map((h) => h.p10), one.scenario.map((h) => h.p50), one.scenario.map((h) => h.p90)];
    series = [{}, { label: 'now p10', stroke: 'rgba(107,114,128,0.4)', width: 1 }, { label: 'now p50', stroke: '#6b7280', width: 2 }, { label: 'now p90', stroke: 'rgba(107,114,128,0.4)', width: 1 }, { label: 'what-if p10', stroke: 'rgba(217,119,6,0.45)', width: 1 }, { label: 'what-if p50', stroke: '#d97706', width: 2 }, { label: 'what-if p90', stroke: 'rgba(217,119,6,0.45)', width: 1 }];
    bands = [{ series: [3, 1], fill: 'rgba(107,114,128,0.12)' }, { series: [6, 4], fill: 'rgba(217,119,6,0.15)' }];
  } else {
    data = [xs, answer.total.baselineP50, answer.total.scenarioP50];
    series = [{}, { label: 'now, sum of p50', stroke: '#6b7280', width: 2 }, { label: 'what-if, sum of p50', stroke: '#d97706', width: 2 }];
  }
  draw('whatIf', $('whatif-chart'), { series, bands, scales: { x: { time: true } }, axes: [{}, { label: 'units' }] }, data);
  const rows = dates.map((d, j) => {
    const b = one ? one.baseline[j].p50 : answer.total.baselineP50[j];
    const s = one ? one.scenario[j].p50 : answer.total.scenarioP50[j];
    return `<tr data-date="${d}"><td>${d}</td><td class="num">${fmt(b, 2)}</td><td class="num">${fmt(s, 2)}</td><td class="num ${s - b > 1e-9 ? 'up' : s - b < -1e-9 ? 'down' : ''}">${s - b >= 0 ? '+' : ''}${fmt(s - b, 2)}</td></tr>`;
  });
  $('wi-delta').tBodies[0].innerHTML = rows.join('');
}

// ---- explorer -----------------------------------------------------------------------------
let searchTimer = null;
async function search() {
  const q = $('search').value.trim();
  try {
    const r = await getJson(`/v1/series?q=${encodeURIComponent(q)}&limit=100`);
    $('search-count').textContent = `${r.matched} series${r.matched > r.series.length ? `, first ${r.series.length}` : ''}`;
    $('results').innerHTML = r.series.map((s) => `<li data-id="${esc(s.seriesId)}"><span>${esc(s.store)} · ${esc(s.item)}</span><span class="muted">${esc(s.category)}</span></li>`).join('');
    fsUi.groups = r.groups;
  } catch (e) {
    report(e);
  }
}

async function showSeries(id) {
  fsUi.seriesId = id;
  for (const li of document.querySelectorAll('.list li')) li.classList.toggle('active', li.dataset.id === id);
  await refreshSeries();
  setDefaultDates();
  await runWhatIf();
}

async function refreshSeries() {
  const id = fsUi.seriesId;
  if (!id) return;
  try {
    const d = await getJson(`/v1/series/${encodeURIComponent(id)}`);
    if (fsUi.seriesId !== id) return;
    fsUi.detail = d;
    const latest = d.recent[0];
    $('series-title').textContent = `${d.series.store} · ${d.series.item}`;
    $('series-meta').innerHTML = latest
      ? `<span class="source-${latest.source}">${latest.source}</span> · ${esc(d.model.name)} ${esc(latest.modelVersion)} · from ${latest.originDate} · issued ${ago(latest.ageMs)} · last sales ${d.lastSalesDate ?? '–'}`
      : `no forecast published since this process started · last sales ${d.lastSalesDate ?? '–'}`;
    drawSeries(d);
    $('recent').tBodies[0].innerHTML = d.recent
      .map((r) => `<tr><td>${new Date(r.issuedAt).toLocaleTimeString()}</td><td class="source-${r.source}">${r.source}</td><td>${esc(r.modelVersion)}</td><td>${r.originDate}</td><td class="num">${fmt(r.total, 1)}</td><td class="num ${r.change > 0 ? 'up' : r.change < 0 ? 'down' : ''}">${pct(r.change)}</td><td class="muted">${esc(r.triggers.slice(0, 3).join(', '))}${r.triggers.length > 3 ? ` +${r.triggers.length - 3}` : ''}</td></tr>`)
      .join('');
  } catch (e) {
    report(e);
  }
}

async function refreshMovers() {
  try {
    const w = $('movers-window').value;
    const r = await getJson(w === 'mark' ? `/v1/movers?since=${fsUi.watchFrom || Date.now()}&limit=15` : `/v1/movers?minutes=${w}&limit=15`);
    fsUi.movers = r.movers;
    $('movers').innerHTML = r.movers.length
      ? r.movers.map((m) => `<li data-id="${esc(m.seriesId)}"><span>${esc(m.store ?? '')} · ${esc(m.item ?? m.seriesId)}</span><span class="${(m.change ?? 1) > 0 ? 'up' : 'down'}">${m.change === null ? 'new' : pct(m.change)}</span></li>`).join('')
      : `<li class="muted">nothing moved ${$('movers-window').value === 'mark' ? 'since you pressed watch' : 'in this window'}</li>`;
  } catch (e) {
    report(e);
  }
}

function setDefaultDates() {
  const latest = fsUi.detail && fsUi.detail.recent[0];
  if (!latest) return;
  const first = latest.bucketDates[0];
  const step = fsUi.detail.bucketSize === 'day' ? 13 : 13; // two weeks of days, or two weeks
  $('wi-from').value = first;
  $('wi-to').value = new Date((ts(first) + step * DAY) * 1000).toISOString().slice(0, 10);
}

let wiSeq = 0;
async function runWhatIf() {
  const d = fsUi.detail;
  if (!d) return;
  const depth = Number($('wi-depth').value) / 100;
  const kind = $('wi-kind').value;
  const scope = $('wi-scope').value;
  const from = $('wi-from').value;
  const to = $('wi-to').value;
  const question = scope === 'series' ? { series: [d.series.seriesId] } : { store: d.series.store, category: d.series.category, detail: 'total' };
  if (kind === 'priceCut') question.priceCut = { depth, from, to };
  else question.promotion = { depth, from, to };
  const seq = ++wiSeq;
  const t0 = performance.now();
  try {
    const a = await getJson('/v1/what-if', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(question) });
    if (seq !== wiSeq) return; // a newer question was asked meanwhile
    fsUi.whatIf = { question, answer: a, ms: performance.now() - t0 };
    const t = a.total;
    $('wi-summary').innerHTML = `${scope === 'series' ? 'This series' : `${a.seriesCount} series of ${esc(d.series.store)} · ${esc(d.series.category)}`}: <strong>${fmt(t.baselineTotal, 1)} → ${fmt(t.scenarioTotal, 1)}</strong> units over the horizon (<strong>${pct(t.change)}</strong>), answered in ${Math.round(fsUi.whatIf.ms)} ms${a.ignored.length ? ` · ignored: ${esc(a.ignored.join('; '))}` : ''}`;
    drawWhatIf(a, scope);
  } catch (e) {
    if (seq === wiSeq) $('wi-summary').textContent = `what-if failed: ${e.message}`;
    report(e);
  }
}

// ---- operations ---------------------------------------------------------------------------
async function refreshOps() {
  try {
    const o = await getJson('/v1/ops');
    fsUi.ops = o;
    const m = o.model || {};
    $('model').textContent = m.name ? `${m.name} ${m.version}` : 'no model';
    $('ready').textContent = o.ready ? 'ready' : `not ready: ${o.notReady}`;
    $('ready').className = `pill ${o.ready ? 'ok' : 'bad'}`;
    $('breaker').textContent = `breaker ${o.breaker}`;
    $('breaker').className = `pill ${o.breaker === 'closed' ? 'ok' : o.breaker === 'open' ? 'bad' : 'warn'}`;
    if ($('view-ops').hidden) return;
    $('ops-model').innerHTML = `<table><tr><th>model</th><td>${esc(m.name)} ${esc(m.version)} (${esc(m.family)}, ${m.horizons} × ${esc(m.bucketSize)})</td></tr><tr><th>provider</th><td>${esc(m.executionProvider)}</td></tr><tr><th>worker</th><td>${m.workerUp ? 'up' : 'down'}, ${m.workerRestarts} restarts</td></tr><tr><th>inputs</th><td>${esc((m.inputs || []).join(', '))}</td></tr><tr><th>breaker</th><td>${esc(o.breaker)}</td></tr></table>`;
    $('ops-breaker').tBodies[0].innerHTML = o.breakerHistory.length ? o.breakerHistory.map((b) => `<tr><td>${new Date(b.at).toLocaleTimeString()}</td><td>${esc(b.state)}</td><td>${esc(b.reason)}</td></tr>`).join('') : '<tr><td colspan="3" class="muted">closed since start</td></tr>';
    const dr = o.driftHistory;
    $('ops-drift').textContent = dr.length ? `last window: PSI ${fmt(dr.at(-1).psiBaseline, 3)} vs the last healthy window, ${fmt(dr.at(-1).psiTraining, 3)} vs training` : 'no window checked yet';
    if (dr.length) draw('drift', $('drift-chart'), { series: [{}, { label: 'PSI vs last window', stroke: '#dc2626', width: 2 }, { label: 'PSI vs training', stroke: '#6b7280', width: 1 }], scales: { x: { time: true } } }, [dr.map((p) => p.at / 1000), dr.map((p) => p.psiBaseline), dr.map((p) => p.psiTraining)]);
    const s = o.forecastsBySource;
    $('ops-sources').innerHTML = `<table><tr><th>primary</th><td class="num">${s.primary}</td></tr><tr><th>fallback</th><td class="num">${s.fallback}</td></tr><tr><th>cold start</th><td class="num">${s.cold_start}</td></tr><tr><th>fallback share</th><td class="num">${o.fallbackShare === null ? '–' : pct(o.fallbackShare).replace('+', '')}</td></tr></table>`;
    $('ops-lag').tBodies[0].innerHTML = Object.entries(o.consumerLag || {}).map(([t, n]) => `<tr><td>${esc(t)}</td><td class="num">${n}</td></tr>`).join('') || '<tr><td colspan="2" class="muted">not measured yet</td></tr>';
    const lc = o.lifecycle;
    if (lc) {
      const c = lc.candidate;
      $('ops-lifecycle').innerHTML = `<table><tr><th>live</th><td>${esc(lc.live.version)} since ${new Date(lc.live.since).toLocaleTimeString()}</td></tr><tr><th>previous (rollback target)</th><td>${lc.previous ? esc(lc.previous.version) : '<span class="muted">none loaded</span>'}</td></tr><tr><th>candidate</th><td>${c ? `${esc(c.version)}: ${esc(c.phase)}${c.phase === 'canary' ? ` on ${c.canaryPercent}% of series` : ''}, ${c.compared} of ${c.target} series compared (policy ${esc(c.policy)})` : '<span class="muted">none</span>'}</td></tr><tr><th>refused</th><td>${lc.rejected.length ? lc.rejected.map((r) => `<div><b>${esc(r.version)}</b> · ${esc(r.check)}: ${esc(r.reason)}</div>`).join('') : '<span class="muted">none</span>'}</td></tr><tr><th>watch</th><td>${lc.watchMs ? `every ${lc.watchMs / 1000} s` : 'off (POST /v1/models only)'}, policy ${esc(lc.policy)}</td></tr></table>`;
      $('ops-timeline').tBodies[0].innerHTML = lc.timeline.slice().reverse().map((e) => `<tr><td>${new Date(e.at).toLocaleTimeString()}</td><td>${esc(e.event)}</td><td>${esc(e.version)}</td><td>${esc(e.detail)}</td></tr>`).join('');
    }
    const acc = o.accuracy || [];
    const f3 = (x) => (x === null || x === undefined ? '–' : fmt(x, 3));
    const cov = (x) => (x === null || x === undefined ? '–' : pct(x).replace('+', ''));
    $('ops-accuracy').tBodies[0].innerHTML = acc.length
      ? acc.map((a) => `<tr><td>${esc(a.version)}${a.degraded ? ' <span class="pill bad">degraded</span>' : ''}</td><td class="num">${a.pairs}</td><td class="num">${f3(a.wape)}</td><td class="num">${a.bias === null ? '–' : pct(a.bias)}</td><td class="num">${cov(a.coverage)}</td><td class="num">${f3(a.firstWindow.wape)}</td><td class="num">${f3(a.rollingWindow.wape)}</td><td>${Object.entries(a.bySource).map(([k, v]) => `${esc(k)} ${f3(v.wape)} (${v.pairs})`).join(', ')}</td></tr>`).join('')
      : '<tr><td colspan="8" class="muted">no bucket has closed yet (a forecast is scored once its series has sold past the target)</td></tr>';
    $('ops-dlq').tBodies[0].innerHTML = o.deadLetters.length ? o.deadLetters.map((d) => `<tr><td>${esc(d.code)}</td><td class="num">${d.count}</td><td>${d.latest.map((l) => `<div>${new Date(l.at).toLocaleTimeString()} · ${esc(l.topic)} · <b>${esc(l.field)}</b>: ${esc(l.reason)}</div>`).join('')}</td></tr>`).join('') : '<tr><td colspan="3" class="muted">no bad input since start</td></tr>';
  } catch (e) {
    report(e);
  }
}

// ---- wiring -------------------------------------------------------------------------------
$('search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, 150);
});
for (const list of [$('results'), $('movers')]) list.addEventListener('click', (ev) => {
  const li = ev.target.closest('li[data-id]');
  if (li) void showSeries(li.dataset.id);
});
$('movers-window').addEventListener('input', () => void refreshMovers());
$('movers-watch').addEventListener('click', () => {
  fsUi.watchFrom = Date.now();
  $('movers-window').value = 'mark';
  void refreshMovers();
});
let wiTimer = null;
for (const id of ['wi-depth', 'wi-kind', 'wi-scope', 'wi-from', 'wi-to']) $(id).addEventListener('input', () => {
  $('wi-depth-out').textContent = `${$('wi-depth').value}%`;
  clearTimeout(wiTimer);
  wiTimer = setTimeout(runWhatIf, 120);
});
for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => {
  for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t === tab);
  $('view-explore').hidden = tab.dataset.view !== 'explore';
  $('view-ops').hidden = tab.dataset.view !== 'ops';
  void refreshOps();
});

void search();
void refreshMovers();
void refreshOps();
setInterval(() => {
  void refreshMovers();
  void refreshOps();
  void refreshSeries();
}, 2000);
