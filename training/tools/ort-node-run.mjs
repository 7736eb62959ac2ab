#!/usr/bin/env node
// Runs an ONNX model on float32 feature rows with onnxruntime-node, the way the processor's
// worker does (CPU provider, 1 intra-op thread, graphOptimizationLevel 'all'), for
// make_precision_variants.py: the gate and the parity vectors of a variant must be what the
// serving runtime computes (onnxruntime-node 1.30 fuses QDQ MatMuls into integer kernels, which
// rounds differently from the Python onnxruntime pinned for CI).
//
//   node training/tools/ort-node-run.mjs MODEL.onnx IN.f32 ROWS FEATURES OUT.f32   → prints {"version": …}
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(fileURLToPath(new URL('../../package.json', import.meta.url)));
const ort = require('onnxruntime-node');
const [model, input, rowsText, featuresText, output] = process.argv.slice(2);
const rows = Number(rowsText);
const features = Number(featuresText);
const buf = readFileSync(input);
const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
if (x.length !== rows * features) throw new Error(`${input}: ${x.length} floats, expected ${rows} x ${features}`);
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const name = session.inputNames[0];
const parts = [];
for (let i = 0; i < rows; i += 8192) {
  const b = Math.min(8192, rows - i);
  const out = await session.run({ [name]: new ort.Tensor('float32', x.slice(i * features, (i + b) * features), [b, features]) });
  parts.push(out[session.outputNames[0]].data);
}
const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
let at = 0;
for (const p of parts) { all.set(p, at); at += p.length; }
writeFileSync(output, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
console.log(JSON.stringify({ version: require('onnxruntime-node/package.json').version }));
