// The tfport model store page: lists the models, takes new ones by drag-and-drop, draws them, and
// runs them with the real TF.js on an input the user can edit.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { models: [], selected: null, model: null, modelKey: null, image: null };
const READ_TOKEN = 'tfport-read-token';
const WRITE_TOKEN = 'tfport-token';

function fmtBytes(n) {
  if (n == null) return '?';
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  if (n < 1 << 30) return (n / (1 << 20)).toFixed(1) + ' MiB';
  return (n / (1 << 30)).toFixed(2) + ' GiB';
}

function fmtShape(shape) {
  if (shape == null) return '?';
  if (Array.isArray(shape[0])) return shape.map(fmtShape).join(', ');
  return '[' + shape.map((d) => (d == null || d < 0 ? '?' : d)).join(', ') + ']';
}

function fmtTensor(t) {
  return (t.name || '') + (t.dtype ? ' ' + t.dtype : '') + ' ' + fmtShape(t.shape);
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** What a model is made of: a graph model's ops, a .tflite file's operators, else layers. */
function partsLabel(s) {
  return s.format === 'graph-model' ? 'ops' : s.format === 'tflite' ? 'operators' : 'layers';
}

function kinds(s) {
  const layers = partsLabel(s) === 'layers';
  const k = layers ? s.layerClasses : s.ops;
  const count = layers ? s.layerCount : s.nodeCount;
  const top = Object.entries(k || {}).slice(0, 4).map(([n, c]) => `<span class="tag">${escapeHtml(n)} ×${c}</span>`).join('');
  return `${count} ${partsLabel(s)} ${top}`;
}

function log(msg) {
  const d = document.createElement('div');
  d.textContent = new Date().toLocaleTimeString() + ' ' + msg;
  $('#log').prepend(d);
}

function show(el, ok, text) {
  el.hidden = false;
  el.className = 'result ' + (ok ? 'ok' : 'bad');
  el.dataset.ok = ok ? '1' : '0';
  el.textContent = text;
}

// ------------------------------------------------------------------ tokens

/** Authorization for reads: the read token, else the upload token (the server takes it for reads too). */
function readHeaders() {
  const t = sessionStorage.getItem(READ_TOKEN) || $('#token').value;
  return t ? { Authorization: 'Bearer ' + t } : {};
}

function writeHeaders() {
  const t = $('#token').value;
  return t ? { Authorization: 'Bearer ' + t } : {};
}

let askingToken = null;

/** Shows the read-token form once and resolves when the user submits a token. */
function askReadToken(message) {
  if (!askingToken) {
    askingToken = new Promise((resolve) => {
      $('#auth').hidden = false;
      if (message) show($('#auth-result'), false, message);
      $('#read-token').focus();
      $('#auth-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        sessionStorage.setItem(READ_TOKEN, $('#read-token').value);
        $('#auth').hidden = true;
        askingToken = null;
        resolve();
      }, { once: true });
    });
  }
  return askingToken;
}

/** fetch with the read token; a 401 asks for the token (once) and tries again. */
async function getData(url, init = {}) {
  for (;;) {
    const r = await fetch(url, { ...init, headers: { ...(init.headers || {}), ...readHeaders() } });
    if (r.status !== 401) return r;
    let why = '';
    try { why = (await r.json()).error || ''; } catch (e) { /* not JSON */ }
    await askReadToken(sessionStorage.getItem(READ_TOKEN) ? 'that token was refused: ' + why : '');
  }
}

// ------------------------------------------------------------------ the list

async function refresh() {
  const r = await getData('/models', { cache: 'no-store' });
  const body = await r.json();
  state.models = body.models || [];
  const tbody = $('#models tbody');
  tbody.innerHTML = '';
  if (state.models.length === 0) {
    tbody.innerHTML = '<tr><td colspan="7" class="muted">No models yet: drop one above.</td></tr>';
  }
  for (const m of state.models) {
    const s = m.summary || {};
    const tr = document.createElement('tr');
    tr.dataset.model = m.name;
    tr.innerHTML = `<td><b>${escapeHtml(m.name)}</b><div class="small muted">${escapeHtml(m.source || '')}</div></td>
      <td>${escapeHtml(s.format || '?')}</td>
      <td class="wide">v${m.latest} <span class="small muted">(${m.versions})</span></td>
      <td>${fmtBytes((s.modelJsonBytes || 0) + (s.weightBytes || 0) || s.originalBytes || 0)}<div class="small muted">${s.parameters} params</div></td>
      <td class="small wide">${(s.inputs || []).map((t) => escapeHtml(fmtTensor(t))).join('<br>')}</td>
      <td class="small wide">${(s.outputs || []).map((t) => escapeHtml(fmtTensor(t))).join('<br>')}</td>
      <td class="small wide">${kinds(s)}</td>`;
    tr.addEventListener('click', () => select(m.name));
    if (state.selected === m.name) tr.classList.add('selected');
    tbody.appendChild(tr);
  }
  document.body.dataset.models = String(state.models.length);
}

function current() {
  return state.models.find((m) => m.name === state.selected);
}

function isGraph(m) {
  return (m.summary || {}).format === 'graph-model';
}

async function loadFrom(url, graph) {
  const options = url.startsWith('http') ? { requestInit: { headers: readHeaders() } } : undefined;
  return graph ? tf.loadGraphModel(url, options) : tf.loadLayersModel(url, options);
}

/** The selected model loaded in TF.js, kept while the same version stays selected. */
async function loadedModel(m) {
  const key = m.name + '@' + m.latest;
  if (state.modelKey !== key) {
    if (state.model && state.model.dispose) state.model.dispose();
    state.model = null;
    state.model = await loadFrom(location.origin + m.modelUrl, isGraph(m));
    state.modelKey = key;
  }
  return state.model;
}

async function showGraph(m) {
  const img = $('#graph');
  if (img.dataset.blob) URL.revokeObjectURL(img.dataset.blob);
  delete img.dataset.blob;
  if (!readHeaders().Authorization) {
    img.src = m.graphUrl;
    return;
  }
  // An <img> cannot send the token, so the picture is fetched and shown from a blob.
  const r = await getData(m.graphUrl);
  if (!r.ok) return;
  img.dataset.blob = URL.createObjectURL(await r.blob());
  img.src = img.dataset.blob;
}

async function select(name) {
  state.selected = name;
  document.querySelectorAll('#models tbody tr').forEach((tr) => tr.classList.toggle('selected', tr.dataset.model === name));
  const m = current();
  const s = m.summary || {};
  $('#details').hidden = false;
  $('#d-title').textContent = m.name;
  $('#d-sub').textContent = `version ${m.latest} of ${m.versions}, ${m.created}`;
  const rows = [
    ['format', s.format], ['model class', s.modelClass || (s.format === 'graph-model' ? 'GraphDef' : '')],
    ['generated by', s.generatedBy], ['converted by', s.convertedBy],
    // A version kept without a TF.js form has no model.json or weight files, only the file's weights.
    m.modelUrl ? ['model.json', fmtBytes(s.modelJsonBytes)] : ['', ''],
    m.modelUrl ? ['weights', `${fmtBytes(s.weightBytes)} in ${s.weightFiles} file(s), ${s.weights} tensors, ${s.parameters} values`]
      : ['weights', `${s.weights} tensors, ${s.parameters} values`],
    ['weight dtypes', Object.entries(s.weightDtypes || {}).map(([k, v]) => `${k} ×${v}`).join(', ')],
    ['inputs', (s.inputs || []).map(fmtTensor).join('; ')], ['outputs', (s.outputs || []).map(fmtTensor).join('; ')],
    [partsLabel(s), Object.entries((partsLabel(s) === 'layers' ? s.layerClasses : s.ops) || {}).map(([k, v]) => `${k} ×${v}`).join(', ')],
    ['file', s.originalBytes ? fmtBytes(s.originalBytes) : ''],
    m.modelUrl ? ['URL', location.origin + m.modelUrl] : ['TF.js', 'none: ' + (m.noTfjs || '')],
  ];
  $('#d-summary').innerHTML = rows.filter(([, v]) => v).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  $('#target').value = m.name + '-from-browser';
  for (const id of ['#run-result', '#store-result', '#upload-result']) $(id).hidden = true;
  $('#layers-box').hidden = true;
  $('#details').dataset.loaded = '0';
  document.querySelectorAll('#details .actions button').forEach((b) => { b.disabled = !m.modelUrl || typeof tf === 'undefined'; });
  $('#graph').closest('.picture').hidden = !m.modelUrl;
  if (!m.modelUrl) {
    // Kept as its original alone (a .tflite TF.js cannot compute): served at /v1, not to TF.js.
    $('#graph').removeAttribute('src');
    $('#input-json').value = '';
    $('#input-help').textContent = 'TF.js cannot run this version in the browser.';
    $('#image-mode-label').hidden = true;
    setMode('json');
    show($('#run-result'), false, `this version has no TF.js form: ${m.noTfjs || ''}; predict with POST /v1/models/${m.name}:predict`);
    return;
  }
  await showGraph(m);
  if (typeof tf === 'undefined') return;
  try {
    const model = await loadedModel(m);
    if (state.selected !== name) return;
    showLayers(model, m);
    prepareInput(model);
    $('#details').dataset.loaded = '1';
  } catch (e) {
    show($('#run-result'), false, 'loading the model in TF.js failed: ' + e.message);
  }
}

function showLayers(model, m) {
  const tbody = $('#layers tbody');
  tbody.innerHTML = '';
  if (isGraph(m) || !model.layers) return;
  for (const l of model.layers) {
    const tr = document.createElement('tr');
    tr.dataset.layer = l.name;
    tr.innerHTML = `<td>${escapeHtml(l.name)}</td><td>${escapeHtml(l.getClassName())}</td>
      <td class="shape">${escapeHtml(fmtShape(l.outputShape))}</td><td>${l.countParams()}</td>`;
    tbody.appendChild(tr);
  }
  $('#layers-box').hidden = false;
}

// ------------------------------------------------------------------ input

function concreteShape(info) {
  return (info.shape || [1]).map((d) => (d == null || d < 0 ? 1 : d));
}

/** An image model: one rank-4 input with 1 or 3 channels (NHWC). */
function imageInput(model) {
  if (model.inputs.length !== 1) return null;
  const s = model.inputs[0].shape || [];
  if (s.length !== 4 || !(s[3] === 1 || s[3] === 3)) return null;
  return { height: s[1] > 0 ? s[1] : 224, width: s[2] > 0 ? s[2] : 224, channels: s[3] };
}

/** A smooth ramp for floats and zeros for integers, as nested arrays. */
function sampleValue(info) {
  const shape = concreteShape(info);
  const n = shape.reduce((a, b) => a * b, 1);
  const ints = info.dtype === 'int32' || info.dtype === 'bool';
  const flat = Array.from({ length: n }, (_, i) => (ints ? 0 : +(0.5 + 0.5 * Math.sin(i * 0.7)).toFixed(4)));
  return tf.tensor(flat, shape).arraySync();
}

function prepareInput(model) {
  const named = model.inputs.length > 1;
  const value = named
    ? Object.fromEntries(model.inputs.map((i) => [i.name, sampleValue(i)]))
    : sampleValue(model.inputs[0]);
  const text = JSON.stringify(value);
  $('#input-json').value = text.length > 2000000 ? '' : text;
  $('#input-help').textContent = named
    ? 'One entry per input name: ' + model.inputs.map((i) => `${i.name} ${fmtShape(i.shape)}`).join(', ')
    : `Nested arrays of shape ${fmtShape(model.inputs[0].shape)} (a leading batch dimension of 1 may be left out).`;
  const img = imageInput(model);
  $('#image-mode-label').hidden = !img;
  state.image = null;
  setMode(img ? 'image' : 'json');
  if (img) drawImage(null, img);
}

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

function setMode(m) {
  document.querySelector(`input[name="mode"][value="${m}"]`).checked = true;
  $('#json-input').hidden = m !== 'json';
  $('#image-input').hidden = m !== 'image';
}

/** Draws the chosen picture (or a gradient until one is chosen) at the model's input size. */
function drawImage(bitmap, spec) {
  const c = $('#image-canvas');
  c.width = spec.width;
  c.height = spec.height;
  const g = c.getContext('2d');
  if (bitmap) {
    g.drawImage(bitmap, 0, 0, spec.width, spec.height);
  } else {
    const grad = g.createLinearGradient(0, 0, spec.width, spec.height);
    grad.addColorStop(0, '#1d4ed8');
    grad.addColorStop(1, '#f59e0b');
    g.fillStyle = grad;
    g.fillRect(0, 0, spec.width, spec.height);
  }
}

function tensorFromJson(info, value) {
  const dtype = info.dtype === 'int32' || info.dtype === 'bool' ? 'int32' : 'float32';
  let t = tf.tensor(value, undefined, dtype);
  const want = (info.shape || []).length;
  if (want > 0 && t.rank === want - 1) t = t.expandDims(0);
  if (want > 0 && t.rank !== want) {
    throw new Error(`input ${info.name} needs ${want} dimensions ${fmtShape(info.shape)}, the JSON has shape [${t.shape}]`);
  }
  return t;
}

function imageTensor(spec) {
  return tf.tidy(() => {
    const px = tf.browser.fromPixels($('#image-canvas'), spec.channels).toFloat();
    const scale = $('#pixel-scale').value;
    const v = scale === 'byte' ? px : scale === 'signed' ? px.div(127.5).sub(1) : px.div(255);
    return v.expandDims(0);
  });
}

function inputs(model) {
  if (mode() === 'image') return [imageTensor(imageInput(model))];
  let value;
  try {
    value = JSON.parse($('#input-json').value);
  } catch (e) {
    throw new Error('the input is not JSON: ' + e.message);
  }
  if (model.inputs.length === 1) return [tensorFromJson(model.inputs[0], value)];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('this model has ' + model.inputs.length + ' inputs: give an object keyed by input name');
  }
  return model.inputs.map((i) => {
    if (!(i.name in value)) throw new Error(`the input JSON has no entry '${i.name}'`);
    return tensorFromJson(i, value[i.name]);
  });
}

async function run() {
  const m = current();
  const el = $('#run-result');
  let ins = [];
  let out = [];
  try {
    const t0 = performance.now();
    const model = await loadedModel(m);
    ins = inputs(model);
    const arg = ins.length === 1 ? ins[0] : ins;
    out = isGraph(m) ? await model.executeAsync(arg) : model.predict(arg);
    out = Array.isArray(out) ? out : [out];
    const lines = [];
    const values = [];
    for (const t of out) {
      const v = Array.from(await t.data());
      values.push(v);
      lines.push(`[${t.shape}] ${t.dtype}: ${v.slice(0, 6).map((x) => +x.toFixed(5)).join(', ')}${v.length > 6 ? ', …' : ''}`);
    }
    const ms = (performance.now() - t0).toFixed(0);
    show(el, true, `ran on ${tf.getBackend()} in ${ms} ms, input ${ins.map((t) => '[' + t.shape + ']').join(', ')}\n` + lines.join('\n'));
    el.dataset.outputs = JSON.stringify(values);
    el.dataset.shapes = JSON.stringify(out.map((t) => t.shape));
    log(`ran ${m.name}`);
  } catch (e) {
    show(el, false, 'run failed: ' + e.message);
  } finally {
    tf.dispose(ins);
    tf.dispose(out);
  }
}

// ------------------------------------------------------------------ adding models

function modelName(file) {
  const typed = $('#upload-name').value.trim();
  if (typed) return typed;
  const base = file.name.replace(/\.(json|h5|hdf5|keras|zip|tflite)$/i, '');
  const stem = base === 'model' ? 'model-' + Date.now().toString(36) : base;
  return stem.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100) || 'model';
}

/** Uploads dropped or picked files: a model.json with its weight files, or one model file. */
async function addFiles(fileList) {
  const files = Array.from(fileList);
  const el = $('#add-result');
  if (files.length === 0) return;
  const json = files.find((f) => f.name.toLowerCase().endsWith('.json'));
  let body;
  let name;
  if (json) {
    body = new FormData();
    body.append('model.json', json, 'model.json');
    for (const f of files) if (f !== json) body.append(f.name, f, f.name);
    name = modelName(json);
  } else if (files.length === 1) {
    body = files[0];
    name = modelName(files[0]);
  } else {
    show(el, false, `${files.length} files but no model.json: drop one .h5, .keras, .zip or .tflite file, or a model.json with its weight files`);
    return;
  }
  show(el, true, `uploading ${files.map((f) => f.name).join(', ')} as ${name}…`);
  delete el.dataset.ok;
  try {
    const r = await fetch('/models/' + encodeURIComponent(name), { method: 'POST', body, headers: writeHeaders() });
    const res = await r.json().catch(() => ({}));
    if (!r.ok) {
      show(el, false, `upload of ${files.map((f) => f.name).join(', ')} failed (HTTP ${r.status}): ${res.error || r.statusText}`);
      return;
    }
    show(el, true, `added ${name} version ${res.version} (${res.source || 'tfjs'}, ${fmtBytes(res.uploadBytes)} uploaded)`);
    el.dataset.model = name;
    $('#upload-name').value = '';
    await refresh();
    await select(name);
  } catch (e) {
    show(el, false, 'upload failed: ' + e.message);
  }
}

function wireDrop() {
  const zone = $('#drop');
  for (const ev of ['dragenter', 'dragover']) {
    zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.add('over'); });
  }
  for (const ev of ['dragleave', 'drop']) {
    zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.remove('over'); });
  }
  zone.addEventListener('drop', (e) => addFiles(e.dataTransfer.files));
  $('#file-picker').addEventListener('change', (e) => { addFiles(e.target.files); e.target.value = ''; });
}

// ------------------------------------------------------------------ browser copies

async function copyTo(scheme) {
  const m = current();
  const el = $('#store-result');
  try {
    const model = await loadFrom(location.origin + m.modelUrl, isGraph(m));
    const res = await model.save(`${scheme}://${m.name}`);
    const i = res.modelArtifactsInfo;
    show(el, true, `saved to ${scheme}://${m.name}: topology ${i.modelTopologyBytes} B, specs ${i.weightSpecsBytes} B, weights ${i.weightDataBytes} B`);
    el.dataset.scheme = scheme;
    await listStores();
  } catch (e) {
    show(el, false, `copy to ${scheme} failed: ${e.message}`);
  }
}

async function uploadFrom(scheme) {
  const m = current();
  const el = $('#upload-result');
  const target = $('#target').value.trim();
  try {
    const model = await loadFrom(`${scheme}://${m.name}`, isGraph(m));
    const url = `${location.origin}/models/${encodeURIComponent(target)}`;
    const res = await model.save(tf.io.http(url, { requestInit: { method: 'POST', headers: writeHeaders() } }));
    const body = await res.responses[0].json();
    if (!res.responses[0].ok) throw new Error(body.error || 'HTTP ' + res.responses[0].status);
    show(el, true, `uploaded ${scheme}://${m.name} to ${url}: version ${body.version}, ${res.modelArtifactsInfo.weightDataBytes} weight bytes`);
    el.dataset.version = body.version;
    await refresh();
  } catch (e) {
    show(el, false, `upload from ${scheme} failed: ${e.message}`);
  }
}

async function listStores() {
  const models = await tf.io.listModels();
  const ul = $('#stores');
  const entries = Object.entries(models);
  ul.innerHTML = entries.length === 0 ? '<li class="muted">none</li>'
    : entries.map(([url, i]) => `<li><code>${escapeHtml(url)}</code> ${fmtBytes(i.weightDataBytes)} weights, saved ${new Date(i.dateSaved).toLocaleString()}</li>`).join('');
  ul.dataset.count = String(entries.length);
}

// ------------------------------------------------------------------ start

async function main() {
  document.querySelectorAll('.origin').forEach((e) => { e.textContent = location.origin; });
  const token = sessionStorage.getItem(WRITE_TOKEN);
  if (token) $('#token').value = token;
  $('#token').addEventListener('change', () => sessionStorage.setItem(WRITE_TOKEN, $('#token').value));
  $('#refresh').addEventListener('click', refresh);
  $('#run').addEventListener('click', run);
  $('#reset-input').addEventListener('click', () => { if (state.model) prepareInput(state.model); });
  document.querySelectorAll('input[name="mode"]').forEach((r) => r.addEventListener('change', () => setMode(mode())));
  $('#image-picker').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    if (!f || !state.model) return;
    drawImage(await createImageBitmap(f), imageInput(state.model));
    $('#image-canvas').dataset.image = f.name;
  });
  $('#to-idb').addEventListener('click', () => copyTo('indexeddb'));
  $('#to-ls').addEventListener('click', () => copyTo('localstorage'));
  $('#up-idb').addEventListener('click', () => uploadFrom('indexeddb'));
  $('#up-ls').addEventListener('click', () => uploadFrom('localstorage'));
  wireDrop();
  const pill = $('#tfjs-status');
  if (window.tfMissing || typeof tf === 'undefined') {
    pill.textContent = 'TF.js bundle missing: start tfport serve with --tfjs';
    pill.className = 'pill bad';
    document.querySelectorAll('#details .actions button').forEach((b) => { b.disabled = true; });
  } else {
    await tf.ready();
    pill.textContent = `TF.js ${tf.version.tfjs} (${tf.getBackend()})`;
    pill.className = 'pill ok';
    await listStores();
  }
  await refresh();
  document.body.dataset.ready = '1';
}

main().catch((e) => log('error: ' + e.message));
