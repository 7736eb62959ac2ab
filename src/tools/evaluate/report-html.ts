/**
 * The picture of an evaluation: one self-contained HTML page with inline SVG (no scripts,
 * no external assets) — fan charts (p10–p90 band, p50 line, actuals) of a few series at
 * horizon 1 and H, and WMAE per horizon next to seasonal naive.
 */
import type { EvaluationResult, SeriesTrace } from './run-evaluation.js';

const W = 640;
const HGT = 220;
const PAD = { l: 64, r: 12, t: 24, b: 28 };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0);
}

function fanChart(trace: SeriesTrace, horizon: number): string {
  const fc = trace.forecasts[horizon - 1] ?? [];
  const dates = [...new Set([...trace.actual.map(([d]) => d), ...fc.map(([d]) => d)])].sort();
  if (dates.length < 2) return '';
  const xi = new Map(dates.map((d, i) => [d, i]));
  const values = [...trace.actual.map(([, v]) => v), ...fc.flatMap(([, a, , c]) => [a, c])];
  const lo = Math.min(0, ...values);
  const hi = Math.max(1, ...values);
  const x = (d: string) => PAD.l + ((xi.get(d) ?? 0) / (dates.length - 1)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - lo) / (hi - lo)) * (HGT - PAD.t - PAD.b);
  const band =
    fc.map(([d, p10]) => `${x(d).toFixed(1)},${y(p10).toFixed(1)}`).join(' ') +
    ' ' +
    [...fc].reverse().map(([d, , , p90]) => `${x(d).toFixed(1)},${y(p90).toFixed(1)}`).join(' ');
  const p50 = fc.map(([d, , m]) => `${x(d).toFixed(1)},${y(m).toFixed(1)}`).join(' ');
  const act = trace.actual.map(([d, v]) => `${x(d).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const ticks = [lo, (lo + hi) / 2, hi]
    .map((v) => `<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`)
    .join('');
  const xt = [dates[0]!, dates[Math.floor(dates.length / 2)]!, dates.at(-1)!]
    .map((d) => `<text x="${x(d)}" y="${HGT - 8}" text-anchor="middle">${d}</text>`)
    .join('');
  return `<svg width="${W}" height="${HGT}" font-size="11" font-family="sans-serif">
<text x="${PAD.l}" y="14" font-weight="bold">${esc(trace.seriesId)} — horizon ${horizon}</text>
<polygon points="${band}" fill="#9ecae1" opacity="0.6"/><polyline points="${p50}" fill="none" stroke="#08519c" stroke-width="1.5"/>
<polyline points="${act}" fill="none" stroke="#d94801" stroke-width="1.5"/>${ticks}${xt}</svg>`;
}

function horizonChart(r: EvaluationResult): string {
  const hi = Math.max(...r.per_horizon.flatMap((h) => [h.wmae, h.seasonal_naive]), 1);
  const bw = (W - PAD.l - PAD.r) / r.per_horizon.length;
  const y = (v: number) => PAD.t + (1 - v / hi) * (HGT - PAD.t - PAD.b);
  const bars = r.per_horizon
    .map((h, i) => {
      const x0 = PAD.l + i * bw + bw * 0.15;
      const w = bw * 0.33;
      return `<rect x="${x0}" y="${y(h.wmae)}" width="${w}" height="${y(0) - y(h.wmae)}" fill="#08519c"/>
<rect x="${x0 + w}" y="${y(h.seasonal_naive)}" width="${w}" height="${y(0) - y(h.seasonal_naive)}" fill="#bdbdbd"/>
<text x="${x0 + w}" y="${HGT - 8}" text-anchor="middle">h=${h.horizon} (${h.ratio_to_seasonal_naive.toFixed(2)})</text>
<text x="${x0 + w / 2}" y="${y(h.wmae) - 3}" text-anchor="middle">${fmt(h.wmae)}</text>`;
    })
    .join('');
  return `<svg width="${W}" height="${HGT}" font-size="11" font-family="sans-serif">
<text x="${PAD.l}" y="14" font-weight="bold">WMAE per horizon: model (blue) vs seasonal naive (grey), ratio in brackets</text>${bars}</svg>`;
}

export function renderReportHtml(r: EvaluationResult, title: string): string {
  const rows = r.per_horizon
    .map((h) => `<tr><td>${h.horizon}</td><td>${h.wmae.toFixed(1)}</td><td>${h.seasonal_naive.toFixed(1)}</td><td>${h.ratio_to_seasonal_naive.toFixed(3)}</td><td>${(100 * h.coverage_p10_p90).toFixed(1)}%</td><td>${h.pairs}</td></tr>`)
    .join('');
  const fans = r.traces.map((t) => `<div>${fanChart(t, 1)}${fanChart(t, r.horizons)}</div>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:1.5em}td,th{padding:2px 10px;text-align:right}svg{margin:4px;border:1px solid #eee}</style></head><body>
<h1>${esc(title)}</h1>
<p>Targets ${r.window.from} … ${r.window.to}, origins ${r.window.firstOrigin} … ${r.window.lastOrigin}, ${r.series} series, ${r.pairs} scored pairs.
WMAE <b>${r.wmae.toFixed(1)}</b>, seasonal naive ${r.seasonal_naive.toFixed(1)}, ratio <b>${r.ratio_to_seasonal_naive.toFixed(3)}</b>,
p10–p90 coverage <b>${(100 * r.coverage_p10_p90).toFixed(1)}%</b> (nominal 80%).</p>
<table><tr><th>horizon</th><th>WMAE</th><th>seasonal naive</th><th>ratio</th><th>coverage</th><th>pairs</th></tr>${rows}</table>
${horizonChart(r)}
<h2>Forecast fans (band p10–p90, blue p50, orange actual)</h2>
${fans}
</body></html>
`;
}
