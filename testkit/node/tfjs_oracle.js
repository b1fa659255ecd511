#!/usr/bin/env node
/*
 * tfport TensorFlow.js oracle: loads models with the real @tensorflow/tfjs 4.22 and runs them.
 *
 * Usage: node tfjs_oracle.js <jobs.json> [results.json]
 *
 * jobs.json is either a list of jobs or {"jobs": [...]}. A job:
 *   {kind: "layers"|"graph", modelJson: "/abs/model.json",
 *    inputs?: [{name?, shape: [...], dtype: "float32"|"int32", data: "/path/to/little-endian.bin"}],
 *    outputs?: ["name", ...]   (graph models: output node names; layers models: output layer names),
 *    backend?: "cpu"|"wasm"}
 *
 * results.json (default: <jobs>.results.json) is {"tfjsVersion", "results": [...]}, one entry per job:
 *   {ok: true, backend, outputs: [{name, shape, dtype, data: "/path/to/out.bin"}]}  (predict)
 *   {ok: true, loaded: true, backend, inputs: [{name, shape, dtype}], outputs: [{name, shape, dtype}]}
 *   {ok: false, error: "message", stack: "..."}
 * Output binaries are written next to results.json: float32 outputs as little-endian float32,
 * int32 and bool outputs as little-endian int32 (dtype in the entry says which).
 * One line per finished job goes to stdout ("job <i> ok|error"), so a crash can be located.
 *
 * A training job {kind: "fit", modelJson, inputs: [x...], targets: [{shape, dtype, data}, ...] (one per output),
 *   losses: ["categoricalCrossentropy"|"huber"|..., ...] (one for all outputs or one per output), lossWeights?: [...],
 *   optimizer: {name: "sgd"|"momentum"|"adam"|"rmsprop"|"adagrad"|"adadelta"|"adamax", learningRate, momentum?, useNesterov?},
 *   epochs, batchSize, metrics?: [...]} compiles the layers model and fits it unshuffled (batches in order), then returns
 *   {ok, backend, history: {loss: [...], ...}, outputs: the trained weights in model.weights order, named by originalName}.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const os = require('os');

// tfjs-backend-cpu prints a "Hi, looks like you are running TensorFlow.js in Node.js" banner on first
// use, and GraphModel.executeAsync advises execute() for models without control flow. Drop exactly
// those messages; every other warning still reaches stderr.
const QUIET = [
  'looks like you are running TensorFlow.js in Node.js',
  'did not contain any nodes with control flow or dynamic output shapes',
];
const originalWarn = console.warn;
console.warn = (...args) => {
  if (args.length > 0 && typeof args[0] === 'string' && QUIET.some((q) => args[0].includes(q))) return;
  originalWarn(...args);
};

const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');

const LITTLE_ENDIAN = os.endianness() === 'LE';

function wasmDir() {
  // require.resolve gives .../tfjs-backend-wasm/dist/<main>.js; the .wasm files sit beside it.
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

let wasmPathsSet = false;
async function useBackend(name) {
  const backend = name || 'cpu';
  if (backend === 'wasm' && !wasmPathsSet) {
    wasm.setWasmPaths(wasmDir());
    wasmPathsSet = true;
  }
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`tfjs backend '${backend}' failed to initialize`);
  }
  await tf.ready();
  return tf.getBackend();
}

function toArrayBuffer(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

/** A minimal IOHandler reading model.json and its weight shards from the file system. */
function fileHandler(modelJsonPath) {
  return {
    load: async () => {
      const text = fs.readFileSync(modelJsonPath, 'utf8');
      const json = JSON.parse(text);
      if (json == null || typeof json !== 'object' || Array.isArray(json)) {
        throw new Error(`${modelJsonPath}: not a model.json object`);
      }
      if (json.modelTopology == null) {
        throw new Error(`${modelJsonPath}: model.json has no modelTopology`);
      }
      const dir = path.dirname(modelJsonPath);
      const manifest = json.weightsManifest || [];
      const weightSpecs = [];
      const buffers = [];
      for (const group of manifest) {
        for (const p of group.paths || []) {
          buffers.push(fs.readFileSync(path.resolve(dir, p)));
        }
        for (const w of group.weights || []) weightSpecs.push(w);
      }
      const artifacts = {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs,
        weightData: toArrayBuffer(Buffer.concat(buffers)),
      };
      for (const key of ['signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature', 'trainingConfig']) {
        if (json[key] != null) artifacts[key] = json[key];
      }
      return artifacts;
    },
  };
}

function readInput(spec) {
  const dtype = spec.dtype || 'float32';
  if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`unsupported input dtype '${dtype}'`);
  const buf = fs.readFileSync(spec.data);
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (buf.byteLength !== 4 * n) {
    throw new Error(`input ${spec.name || ''}: ${spec.data} has ${buf.byteLength} bytes, shape [${spec.shape}] needs ${4 * n}`);
  }
  let values;
  if (LITTLE_ENDIAN) {
    const ab = toArrayBuffer(buf);
    values = dtype === 'float32' ? new Float32Array(ab) : new Int32Array(ab);
  } else {
    values = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i < n; i++) values[i] = dtype === 'float32' ? dv.getFloat32(4 * i, true) : dv.getInt32(4 * i, true);
  }
  return tf.tensor(values, spec.shape, dtype);
}

function writeOutput(tensor, file) {
  let dtype = tensor.dtype;
  let values;
  if (dtype === 'float32') {
    values = tensor.dataSync();
  } else if (dtype === 'int32' || dtype === 'bool') {
    values = Int32Array.from(tensor.dataSync());
  } else {
    throw new Error(`output dtype '${dtype}' is not supported by the oracle`);
  }
  let bytes;
  if (LITTLE_ENDIAN) {
    bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  } else {
    bytes = Buffer.alloc(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      if (dtype === 'float32') bytes.writeFloatLE(values[i], 4 * i); else bytes.writeInt32LE(values[i], 4 * i);
    }
  }
  fs.writeFileSync(file, bytes);
  return {shape: tensor.shape, dtype, data: file};
}

function shapeOf(s) {
  return s == null ? null : Array.from(s, (d) => (d == null ? -1 : d));
}

// Sequential models fill inputNames/outputNames only when compiled, so name tensors by their layers.
function layerInputNames(model) {
  return model.inputs.map((t) => t.sourceLayer.name);
}

function layerOutputNames(model) {
  return model.outputs.map((t) => t.sourceLayer.name);
}

function describeLayers(model) {
  const inNames = layerInputNames(model);
  const outNames = layerOutputNames(model);
  return {
    inputs: model.inputs.map((t, i) => ({name: inNames[i], tensorName: t.name, shape: shapeOf(t.shape), dtype: t.dtype})),
    outputs: model.outputs.map((t, i) => ({name: outNames[i], tensorName: t.name, shape: shapeOf(t.shape), dtype: t.dtype})),
  };
}

function describeGraph(model) {
  return {
    inputs: model.inputs.map((t) => ({name: t.name, shape: shapeOf(t.shape), dtype: t.dtype})),
    outputs: model.outputs.map((t) => ({name: t.name, shape: shapeOf(t.shape), dtype: t.dtype})),
    modelVersion: model.modelVersion,
  };
}

/** Normalizes a model result (Tensor, Tensor[] or a {name: Tensor} map) to [[name, tensor], ...]. */
function namedOutputs(result, names) {
  if (result instanceof tf.Tensor) return [[names[0], result]];
  if (Array.isArray(result)) return result.map((t, i) => [names[i] != null ? names[i] : `output_${i}`, t]);
  if (result != null && typeof result === 'object') return Object.keys(result).map((k) => [k, result[k]]);
  throw new Error(`unexpected model result: ${result}`);
}

function makeOptimizer(spec) {
  const lr = spec.learningRate;
  switch (spec.name) {
    case 'sgd': return tf.train.sgd(lr);
    case 'momentum': return tf.train.momentum(lr, spec.momentum, !!spec.useNesterov);
    case 'adam': return tf.train.adam(lr);
    case 'rmsprop': return tf.train.rmsprop(lr);
    case 'adagrad': return tf.train.adagrad(lr);
    case 'adadelta': return tf.train.adadelta(lr);
    case 'adamax': return tf.train.adamax(lr);
    default: throw new Error(`unknown optimizer '${spec.name}'`);
  }
}

// Keras' Huber (delta 1): the mean over the last axis of the element losses; tf.layers has no such loss name.
function huber(yTrue, yPred) {
  return tf.tidy(() => tf.mean(tf.losses.huberLoss(yTrue, yPred, undefined, 1.0, tf.Reduction.NONE), -1));
}

function makeLoss(name) {
  return name === 'huber' ? huber : name;
}

async function fitJob(job, index, outDir) {
  const backend = await useBackend(job.backend);
  const model = await tf.loadLayersModel(fileHandler(job.modelJson));
  const xs = (job.inputs || []).map(readInput);
  const ys = (job.targets || []).map(readInput);
  try {
    const losses = (job.losses || []).map(makeLoss);
    model.compile({optimizer: makeOptimizer(job.optimizer), loss: losses.length === 1 ? losses[0] : losses,
        lossWeights: job.lossWeights || undefined, metrics: job.metrics || []});
    const h = await model.fit(xs.length === 1 ? xs[0] : xs, ys.length === 1 ? ys[0] : ys,
        {epochs: job.epochs, batchSize: job.batchSize, shuffle: false, verbose: 0});
    const outputs = model.weights.map((w, k) => ({name: w.originalName,
        ...writeOutput(w.read(), path.join(outDir, `job${index}_w${k}.bin`))}));
    return {ok: true, backend, history: h.history, outputs};
  } finally {
    for (const t of xs) t.dispose();
    for (const t of ys) t.dispose();
    model.dispose();
  }
}

async function runJob(job, index, outDir) {
  if (job == null || typeof job !== 'object') throw new Error('job is not an object');
  if (job.kind === 'fit') return fitJob(job, index, outDir);
  if (job.kind !== 'layers' && job.kind !== 'graph') throw new Error(`job.kind must be 'layers' or 'graph', got '${job.kind}'`);
  if (typeof job.modelJson !== 'string') throw new Error('job.modelJson missing');
  const backend = await useBackend(job.backend);
  const handler = fileHandler(job.modelJson);
  const inputs = job.inputs || [];
  const isLayers = job.kind === 'layers';
  const model = isLayers ? await tf.loadLayersModel(handler) : await tf.loadGraphModel(handler);
  const tensors = [];
  let produced = [];
  try {
    const desc = isLayers ? describeLayers(model) : describeGraph(model);
    if (inputs.length === 0) {
      return {ok: true, loaded: true, backend, ...desc};
    }
    for (const spec of inputs) tensors.push(readInput(spec));
    let outNames;
    if (isLayers) {
      let xs = tensors;
      if (inputs.some((s) => s.name != null)) {
        // Order named inputs as the model declares them.
        const inNames = layerInputNames(model);
        xs = inNames.map((n) => {
          const i = inputs.findIndex((s) => s.name === n);
          if (i < 0) throw new Error(`no input given for model input '${n}' (model inputs: ${inNames})`);
          return tensors[i];
        });
      } else if (tensors.length !== model.inputs.length) {
        throw new Error(`model has ${model.inputs.length} inputs, job gives ${tensors.length}`);
      }
      const result = model.predict(xs.length === 1 ? xs[0] : xs);
      outNames = layerOutputNames(model);
      produced = namedOutputs(result, outNames);
      if (job.outputs && job.outputs.length > 0) {
        produced = job.outputs.map((n) => {
          const hit = produced.find(([name]) => name === n);
          if (!hit) throw new Error(`model has no output '${n}' (outputs: ${outNames})`);
          return hit;
        });
      }
    } else {
      const feeds = {};
      inputs.forEach((spec, i) => {
        const name = spec.name != null ? spec.name : (model.inputs[i] && model.inputs[i].name);
        if (name == null) throw new Error(`cannot name input ${i}: model has ${model.inputs.length} inputs`);
        feeds[name] = tensors[i];
      });
      outNames = job.outputs && job.outputs.length > 0 ? job.outputs : model.outputs.map((t) => t.name);
      const result = await model.executeAsync(feeds, job.outputs && job.outputs.length > 0 ? job.outputs : undefined);
      produced = namedOutputs(result, outNames);
    }
    const outputs = produced.map(([name, t], k) => ({name, ...writeOutput(t, path.join(outDir, `job${index}_out${k}.bin`))}));
    return {ok: true, backend, outputs, model: desc};
  } finally {
    for (const t of tensors) t.dispose();
    for (const [, t] of produced) if (t && !t.isDisposed) t.dispose();
    model.dispose();
  }
}

async function main() {
  const jobsPath = process.argv[2];
  if (!jobsPath) {
    console.error('usage: node tfjs_oracle.js <jobs.json> [results.json]');
    process.exit(2);
  }
  const resultsPath = path.resolve(process.argv[3] || jobsPath.replace(/\.json$/, '') + '.results.json');
  const outDir = path.dirname(resultsPath);
  const parsed = JSON.parse(fs.readFileSync(jobsPath, 'utf8'));
  const jobs = Array.isArray(parsed) ? parsed : parsed.jobs;
  if (!Array.isArray(jobs)) throw new Error('jobs file holds neither a list nor {jobs: [...]}');
  const results = [];
  for (let i = 0; i < jobs.length; i++) {
    let r;
    try {
      r = await runJob(jobs[i], i, outDir);
    } catch (e) {
      r = {ok: false, error: (e && e.message) ? e.message : String(e), stack: e && e.stack ? String(e.stack) : undefined};
    }
    results.push(r);
    process.stdout.write(`job ${i} ${r.ok ? 'ok' : 'error'}\n`);
  }
  fs.writeFileSync(resultsPath, JSON.stringify({tfjsVersion: tf.version.tfjs, results}));
}

process.on('unhandledRejection', (e) => {
  console.error('unhandled rejection:', e && e.stack ? e.stack : e);
});

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
