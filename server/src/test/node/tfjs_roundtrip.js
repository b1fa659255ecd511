#!/usr/bin/env node
/*
 * Real TensorFlow.js 4.22 in Node against tfport serve: saves models with model.save(url), loads them
 * back by URL and checks the predictions are bit-identical.
 *
 * Usage: node tfjs_roundtrip.js BASE_URL TOKEN GRAPH_MODEL_JSON
 * (@tensorflow/tfjs is found through NODE_PATH, pointing at testkit/node/node_modules.)
 * Prints one JSON object on the last line of stdout.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const QUIET = ['looks like you are running TensorFlow.js in Node.js', 'did not contain any nodes with control flow'];
const warn = console.warn;
console.warn = (...a) => { if (!(typeof a[0] === 'string' && QUIET.some((q) => a[0].includes(q)))) warn(...a); };
const tf = require('@tensorflow/tfjs');

const [base, token, graphJson] = process.argv.slice(2);
const auth = { requestInit: { headers: { Authorization: 'Bearer ' + token } } };

function bits(values) {
  return Array.from(new Uint32Array(Float32Array.from(values).buffer));
}

function sameBits(a, b) {
  const x = bits(a);
  const y = bits(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** A tiny deterministic generator, so the weights and inputs are the same on every run. */
function seeded(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function fileHandler(modelJsonPath) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
      const dir = path.dirname(modelJsonPath);
      const specs = [];
      const buffers = [];
      for (const g of json.weightsManifest) {
        for (const p of g.paths) buffers.push(fs.readFileSync(path.resolve(dir, p)));
        specs.push(...g.weights);
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy,
        convertedBy: json.convertedBy, signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

async function layers() {
  const out = {};
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 16, activation: 'relu', inputShape: [8], name: 'hidden' }));
  model.add(tf.layers.dense({ units: 4, activation: 'softmax', name: 'probs' }));
  const rnd = seeded(42);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, rnd), w.shape)));
  const x = tf.tensor(Float32Array.from({ length: 3 * 8 }, seeded(7)), [3, 8]);
  const before = Array.from(await model.predict(x).data());
  const url = base + '/models/node-layers';
  try {
    await model.save(url);
    out.savedWithoutToken = true;
  } catch (e) {
    out.savedWithoutToken = false;
    out.noTokenError = e.message;
  }
  const saved = await model.save(tf.io.http(url, auth));
  out.saveStatus = saved.responses[0].status;
  out.saveBody = await saved.responses[0].json();
  out.info = saved.modelArtifactsInfo;
  const loaded = await tf.loadLayersModel(url + '/model.json');
  const after = Array.from(await loaded.predict(x).data());
  out.identical = sameBits(before, after);
  out.values = before.length;
  out.prediction = after.slice(0, 4);
  return out;
}

async function graph() {
  const out = {};
  const model = await tf.loadGraphModel(fileHandler(graphJson));
  const inputs = model.inputs.map((info, i) => tf.tensor([1 + i, 3, 5], [3], 'int32'));
  const run = async (m) => {
    let r = await m.executeAsync(inputs.length === 1 ? inputs[0] : inputs);
    r = Array.isArray(r) ? r : [r];
    const v = [];
    for (const t of r) v.push(...Array.from(await t.data()));
    return v;
  };
  const before = await run(model);
  const url = base + '/models/node-graph';
  const saved = await model.save(tf.io.http(url, auth));
  out.saveStatus = saved.responses[0].status;
  out.saveBody = await saved.responses[0].json();
  const loaded = await tf.loadGraphModel(url + '/model.json');
  const after = await run(loaded);
  out.identical = sameBits(before, after);
  out.values = before.length;
  return out;
}

(async () => {
  const result = { tfjs: tf.version.tfjs, layers: await layers(), graph: await graph() };
  console.log(JSON.stringify(result));
})().catch((e) => {
  console.log(JSON.stringify({ error: e.stack || String(e) }));
  process.exit(1);
});
