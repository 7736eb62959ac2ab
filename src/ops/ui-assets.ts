import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { StaticAssets } from './health-server.js';

const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/**
 * The explorer page's files, read once at start: the page itself (`ui/` in the repository)
 * and uPlot, the charting library, from its npm package (installed with the processor, so
 * the page fetches nothing from the internet and works offline).
 */
export function loadUiAssets(): StaticAssets {
  const require = createRequire(import.meta.url);
  const uplotJs = require.resolve('uplot/dist/uPlot.iife.min.js');
  const uplotCss = require.resolve('uplot/dist/uPlot.min.css');
  const js = 'text/javascript; charset=utf-8';
  return new Map([
    ['/ui', { type: 'text/html; charset=utf-8', body: readFileSync(`${UI_DIR}index.html`) }],
    ['/ui/app.js', { type: js, body: readFileSync(`${UI_DIR}app.js`) }],
    ['/ui/app.css', { type: 'text/css; charset=utf-8', body: readFileSync(`${UI_DIR}app.css`) }],
    ['/ui/vendor/uplot.js', { type: js, body: readFileSync(uplotJs) }],
    ['/ui/vendor/uplot.css', { type: 'text/css; charset=utf-8', body: readFileSync(uplotCss) }],
  ]);
}
