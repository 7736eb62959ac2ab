/**
 * The picture of an M5 evaluation: one self-contained HTML page with inline SVG (no
 * scripts, no external assets): WAPE by horizon and by weekday next to the baseline, the
 * promotion-day and event-day figures, and fan charts (p10-p90 band, p50, actuals) of a few
 * series from a few origins (rolling) or launches.
 */
import type { WapeSummary } from './wape-accumulator.js';
import type { M5LaunchResult, M5RollingResult, M5Trace } from './run-m5-evaluation.js';

const W = 720;
const HGT = 220;
const PAD = { l: 56, r: 12, t: 24, b: 30 };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '-');
const num = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '-');

/** Grouped bars: model WAPE (blue) and baseline WAPE (grey) per label. */
function bars(title: string, groups: Array<{ label: string; s: WapeSummary }>): string {
  const hi = Math.max(0.01, ...groups.flatMap((g) => [g.s.wape, g.s.baseline_wape].filter(Number.isFinite)));
  const bw = (W - PAD.l - PAD.r) / groups.length;
  const y = (v: number) => PAD.t + (1 - v / hi) * (HGT - PAD.t - PAD.b);
  const body = groups
    .map((g, i) => {
      const x0 = PAD.l + i * bw + bw * 0.1;
      const w = bw * 0.4;
      const m = Number.isFinite(g.s.wape) ? g.s.wape : 0;
      const b = Number.isFinite(g.s.baseline_wape) ? g.s.baseline_wape : 0;
      return `<rect x="${x0.toFixed(1)}" y="${y(m).toFixed(1)}" width="${w.toFixed(1)}" height="${(y(0) - y(m)).toFixed(1)}" fill="#08519c"><title>${esc(g.label)}: ${num(m)}</title></rect>
<rect x="${(x0 + w).toFixed(1)}" y="${y(b).toFixed(1)}" width="${w.toFixed(1)}" height="${(y(0) - y(b)).toFixed(1)}" fill="#bdbdbd"><title>baseline ${num(b)}</title></rect>
<text x="${(x0 + w).toFixed(1)}" y="${HGT - 16}" text-anchor="middle">${esc(g.label)}</text>
<text x="${(x0 + w).toFixed(1)}" y="${HGT - 4}" text-anchor="middle" fill="#555">${num(g.s.ratio_to_baseline, 2)}</text>`;
    })
    .join('');
  const ticks = [0, hi / 2, hi].map((v) => `<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`).join('');
  return `<svg width="${W}" height="${HGT}" font-size="10" font-family="sans-serif"><text x="${PAD.l}" y="14" font-weight="bold">${esc(title)}</text>${ticks}${body}</svg>`;
}

function fan(trace: M5Trace, pick: number): string {
  const fc = trace.forecasts[pick];
  if (!fc) return '';
  const first = fc.days[0]?.[0] ?? '';
  const last = fc.days.at(-1)?.[0] ?? '';
  const act = trace.actual.filter(([d]) => d >= shift(first, -28) && d <= last);
  const dates = [...new Set([...act.map(([d]) => d), ...fc.days.map(([d]) => d)])].sort();
  if (dates.length < 2) return '';
  const xi = new Map(dates.map((d, i) => [d, i]));
  const values = [...act.map(([, v]) => v), ...fc.days.flatMap(([, a, , c]) => [a, c])];
  const hi = Math.max(1, ...values);
  const x = (d: string) => PAD.l + ((xi.get(d) ?? 0) / (dates.length - 1)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - v / hi) * (HGT - PAD.t - PAD.b);
  const band = fc.days.map(([d, p10]) => `${x(d).toFixed(1)},${y(p10).toFixed(1)}`).join(' ') + ' ' + [...fc.days].reverse().map(([d, , , p90]) => `${x(d).toFixed(1)},${y(p90).toFixed(1)}`).join(' ');
  const p50 = fc.days.map(([d, , m]) => `${x(d).toFixed(1)},${y(m).toFixed(1)}`).join(' ');
  const a = act.map(([d, v]) => `${x(d).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const xt = [dates[0]!, dates.at(-1)!].map((d, i) => `<text x="${x(d)}" y="${HGT - 8}" text-anchor="${i ? 'end' : 'start'}">${d}</text>`).join('');
  return `<svg width="${W}" height="${HGT}" font-size="10" font-family="sans-serif">
<text x="${PAD.l}" y="14" font-weight="bold">${esc(trace.seriesId)}, origin ${esc(fc.origin)}</text>
<polygon points="${band}" fill="#9ecae1" opacity="0.6"/><polyline points="${p50}" fill="none" stroke="#08519c" stroke-width="1.5"/>
<polyline points="${a}" fill="none" stroke="#d94801" stroke-width="1.2"/>
<text x="${PAD.l - 6}" y="${y(hi) + 4}" text-anchor="end">${hi.toFixed(0)}</text><text x="${PAD.l - 6}" y="${y(0) + 4}" text-anchor="end">0</text>${xt}</svg>`;
}

function shift(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function row(label: string, s: WapeSummary): string {
  return `<tr><td style="text-align:left">${esc(label)}</td><td>${s.pairs}</td><td>${num(s.wape)}</td><td>${num(s.baseline_wape)}</td><td>${num(s.ratio_to_baseline)}</td><td>${pct(s.coverage_p10_p90)}</td></tr>`;
}

const STYLE = 'body{font-family:sans-serif;margin:1.5em;max-width:980px}td,th{padding:2px 10px;text-align:right}svg{margin:4px;border:1px solid #eee}';
const HEAD = '<tr><th style="text-align:left">pairs</th><th>n</th><th>WAPE</th><th>baseline WAPE</th><th>ratio</th><th>p10–p90 coverage</th></tr>';

export function renderM5RollingHtml(r: M5RollingResult, title: string): string {
  const fans = r.traces.map((t) => `<div>${fan(t, 0)}${fan(t, Math.floor(t.forecasts.length / 2))}${fan(t, t.forecasts.length - 1)}</div>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>
<h1>${esc(title)}</h1>
<p>Rolling protocol (../shared/data/m5-daily/README.md): targets ${r.window.from} … ${r.window.to}, ${r.window.origins} weekly origins ${r.window.firstOrigin} … ${r.window.lastOrigin},
${r.series} series, ${r.pairs} scored pairs. WAPE <b>${num(r.wape)}</b>, seasonal naive (last 7 days repeated) ${num(r.seasonal_naive)},
ratio <b>${num(r.ratio_to_seasonal_naive)}</b>, p10–p90 coverage <b>${pct(r.coverage_p10_p90)}</b> (nominal 80%). Baseline = seasonal naive.</p>
<table>${HEAD}${row('all', r)}${row('promotion days (price >= 10% below its 8-week max)', r.promotion_days)}${row('event days', r.event_days)}</table>
${bars('WAPE by horizon (days ahead): model blue, seasonal naive grey, ratio below', r.per_horizon.map((h) => ({ label: String(h.horizon), s: h })))}
${bars('WAPE by target weekday', r.per_weekday.map((w) => ({ label: w.weekday.slice(0, 3), s: w })))}
${bars('Promotion and event days', [{ label: 'all', s: r }, { label: 'promotion', s: r.promotion_days }, { label: 'event', s: r.event_days }])}
<h2>Fan charts (band p10–p90, blue p50, orange actual)</h2>${fans}
</body></html>
`;
}

export function renderM5LaunchHtml(r: M5LaunchResult, title: string): string {
  const fans = r.traces.map((t) => `<div>${fan(t, 0)}</div>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>
<h1>${esc(title)}</h1>
<p>Launch protocol: ${r.launches} launches listed ${r.window.from} … ${r.window.to} (minus 27 days), origin the day before listing.
WAPE of the 28-day totals <b>${num(r.total_wape)}</b>, baseline (day-by-day median of earlier launches of the department in the store) ${num(r.baseline_total_wape)},
ratio <b>${num(r.ratio_to_baseline)}</b>.</p>
<table>${HEAD}${row('daily pairs', r.daily)}</table>
${bars('Daily WAPE by day since listing: model blue, launch baseline grey', r.per_horizon.map((h) => ({ label: String(h.horizon), s: h })))}
<h2>Launch fan charts</h2>${fans}
</body></html>
`;
}
