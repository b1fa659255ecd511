#!/usr/bin/env node
/*
 * Times a TF.js graph model in TensorFlow.js 4.22 on the WASM backend, for RuntimeComparison.
 *
 * Usage: NODE_PATH=<repo>/testkit/node/node_modules node tfjs_bench.js MODEL_JSON RUNS WARMUP [SEED]
 *
 * Prints one JSON object on stdout: load_ms, first_run_ms, min_ms, median_ms, p90_ms, mean_ms, num_runs,
 * warmup_runs, num_threads, peak_rss_bytes, backend, simd, execute ("sync" or "async"). Inputs are seeded random:
 * floats in [-1, 1), integers in [0, 10), unknown dimensions 1 (as tfport benchmark makes them). A run is
 * execute() plus reading every output back, since tfport's and TFLite's runs also hand back their outputs.
 * tfjs-backend-wasm 4.22 never uses threads in Node (WASM_HAS_MULTITHREAD_SUPPORT is false there), so
 * num_threads is always 1.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const QUIET = ['looks like you are running TensorFlow.js in Node.js',
  'did not contain any nodes with control flow or dynamic output shapes'];
const originalWarn = console.warn;
console.warn = (...args) => {
  if (args.length > 0 && typeof args[0] === 'string' && QUIET.some((q) => args[0].includes(q))) return;
  originalWarn(...args);
};

const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');

function fileHandler(modelJsonPath) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
      const dir = path.dirname(modelJsonPath);
      const weightSpecs = [];
      const buffers = [];
      for (const group of json.weightsManifest || []) {
        for (const p of group.paths || []) buffers.push(fs.readFileSync(path.resolve(dir, p)));
        for (const w of group.weights || []) weightSpecs.push(w);
      }
      const all = Buffer.concat(buffers);
      const artifacts = {modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy,
        convertedBy: json.convertedBy, weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)};
      for (const key of ['signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature']) {
        if (json[key] != null) artifacts[key] = json[key];
      }
      return artifacts;
    },
  };
}

function ms(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main() {
  const [modelJson, runsArg, warmupArg, seedArg] = process.argv.slice(2);
  if (!modelJson || !runsArg || !warmupArg) {
    console.error('usage: node tfjs_bench.js MODEL_JSON RUNS WARMUP [SEED]');
    process.exit(2);
  }
  const runs = parseInt(runsArg, 10);
  const warmup = parseInt(warmupArg, 10);
  const seed = seedArg ? parseInt(seedArg, 10) : 0;
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialize');
  await tf.ready();

  let t0 = process.hrtime.bigint();
  const model = await tf.loadGraphModel(fileHandler(path.resolve(modelJson)));
  const loadMs = ms(t0);
  const feeds = {};
  model.inputs.forEach((spec, i) => {
    const shape = (spec.shape || []).map((d) => (d == null || d < 0 ? 1 : d));
    feeds[spec.name] = spec.dtype === 'int32'
      ? tf.randomUniform(shape, 0, 10, 'int32', seed + i)
      : tf.randomUniform(shape, -1, 1, 'float32', seed + i);
  });
  let mode = 'sync';
  const once = async () => {
    let out;
    if (mode === 'sync') {
      try {
        out = model.execute(feeds);
      } catch (e) {
        // Models with control flow or dynamic shapes must use executeAsync; tfjs says so in the message.
        if (!String(e && e.message).includes('executeAsync')) throw e;
        mode = 'async';
      }
    }
    if (mode === 'async') out = await model.executeAsync(feeds);
    const list = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.values(out);
    for (const t of list) {
      await t.data();
      t.dispose();
    }
  };
  const timed = async () => {
    const t = process.hrtime.bigint();
    await once();
    return ms(t);
  };
  const first = await timed();
  for (let i = 0; i < warmup; i++) await timed();
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await timed());
  const sorted = [...times].sort((a, b) => a - b);
  const n = sorted.length;
  const round = (x) => Math.round(x * 1000) / 1000;
  const result = {
    model: modelJson, load_ms: round(loadMs), first_run_ms: round(first), min_ms: round(sorted[0]),
    median_ms: round(n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    p90_ms: round(sorted[Math.ceil(0.9 * n) - 1]), mean_ms: round(times.reduce((a, b) => a + b, 0) / n),
    num_runs: n, warmup_runs: warmup, num_threads: 1,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    backend: tf.getBackend(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), execute: mode,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
