#!/usr/bin/env node
/*
 * Drives the page of a tfport server that has a read token and no --tfjs flag, in Debian's chromium:
 * answers the read-token prompt, adds models by drag-and-drop and with the file picker, reads the
 * layers table, edits the input, runs, feeds an image to an image model, looks at a fully integer
 * .tflite kept without a TF.js form, and takes screenshots at desktop and phone width.
 *
 * Usage: node page_test.js BASE_URL WRITE_TOKEN READ_TOKEN OUT_DIR PROFILE_DIR FILES.json
 * FILES.json names the files to add. Prints one JSON object on the last line of stdout.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [base, writeToken, readToken, outDir, profile, filesJson] = process.argv.slice(2);
const files = JSON.parse(fs.readFileSync(filesJson, 'utf8'));

async function result(page, sel) {
  await page.waitForSelector(`${sel}[data-ok]`, { timeout: 120000 });
  return page.$eval(sel, (e) => ({ ok: e.dataset.ok === '1', text: e.textContent, data: { ...e.dataset } }));
}

async function clear(page, sel) {
  await page.$eval(sel, (e) => { delete e.dataset.ok; });
}

/** Adds files through the hidden file input, as the "choose files" link does. */
async function pick(page, name, paths) {
  await page.fill('#upload-name', name);
  await clear(page, '#add-result');
  await page.setInputFiles('#file-picker', paths);
  return result(page, '#add-result');
}

/** Drops files on the drop zone with a DataTransfer made in the page, as a drag from the desktop does. */
async function drop(page, name, paths) {
  await page.fill('#upload-name', name);
  await clear(page, '#add-result');
  const payload = paths.map((p) => ({ name: path.basename(p), b64: fs.readFileSync(p).toString('base64') }));
  await page.evaluate((items) => {
    const dt = new DataTransfer();
    for (const it of items) {
      const bytes = Uint8Array.from(atob(it.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], it.name));
    }
    const zone = document.querySelector('#drop');
    zone.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
  return result(page, '#add-result');
}

async function loaded(page, name) {
  await page.waitForFunction((n) => document.querySelector('#d-title').textContent === n
    && document.querySelector('#details').dataset.loaded === '1', name, { timeout: 120000 });
}

async function selectModel(page, name) {
  await page.click(`#models tbody tr[data-model="${name}"]`);
  await loaded(page, name);
}

async function layers(page) {
  return page.$$eval('#layers tbody tr', (rows) => rows.map((r) => Array.from(r.cells).map((c) => c.textContent)));
}

async function run(page, json) {
  if (json != null) await page.fill('#input-json', json);
  await clear(page, '#run-result').catch(() => {});
  await page.click('#run');
  const r = await result(page, '#run-result');
  r.input = await page.$eval('#input-json', (e) => e.value);
  return r;
}

(async () => {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  const out = { consoleErrors: [] };
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => { if (m.type() === 'error') out.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => out.consoleErrors.push(String(e)));
    await page.goto(base + '/', { waitUntil: 'load' });
    await page.waitForSelector('#auth:not([hidden])', { timeout: 60000 });
    out.askedForToken = true;
    await page.fill('#read-token', readToken);
    await page.click('#auth-ok');
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
    out.tokenKept = await page.evaluate(() => sessionStorage.getItem('tfport-read-token'));
    out.tfjs = await page.$eval('#tfjs-status', (e) => e.textContent);
    // The 401s the page met before it had the token are the browser's console errors, not the page's.
    out.consoleErrors = out.consoleErrors.filter((e) => !e.includes('401'));
    await page.fill('#token', writeToken);

    out.dense = await drop(page, 'dense', files.dense);
    await loaded(page, 'dense');
    out.denseLayers = await layers(page);
    out.denseRun = await run(page, '[[1, 2, 3]]');

    out.abalone = await pick(page, 'abalone', files.abalone);
    await loaded(page, 'abalone');
    out.abaloneLayers = await layers(page);

    out.h5 = await pick(page, 'relu', [files.h5]);
    await loaded(page, 'relu');
    out.h5Layers = await layers(page);
    const before = out.consoleErrors.length;
    out.weightsOnly = await pick(page, 'weights-only', [files.weightsOnly]);
    // The refused upload's 422 is logged by the browser itself; the page shows it in #add-result.
    out.consoleErrors = out.consoleErrors.filter((e, i) => i < before || !e.includes('status of 422'));

    out.tflite = await pick(page, 'half-plus-two-tflite', [files.tflite]);
    await loaded(page, 'half-plus-two-tflite');
    out.tfliteRun = await run(page, null);

    if (files.integerTflite) {
      // A fully integer .tflite is kept without a TF.js form: the page shows it and why, and
      // leaves TF.js alone (no graph, no layers, every TF.js button disabled).
      await clear(page, '#run-result').catch(() => {});
      out.integerTflite = await pick(page, 'hello-int8', [files.integerTflite]);
      await page.waitForFunction(() => document.querySelector('#d-title').textContent === 'hello-int8'
        && document.querySelector('#run-result').dataset.ok !== undefined, null, { timeout: 120000 });
      out.noTfjs = await page.evaluate(() => ({
        buttons: Array.from(document.querySelectorAll('#details .actions button'))
          .map((b) => ({ id: b.id, disabled: b.disabled })),
        result: document.querySelector('#run-result').textContent,
        resultOk: document.querySelector('#run-result').dataset.ok,
        resultHidden: document.querySelector('#run-result').hidden,
        summary: Array.from(document.querySelectorAll('#d-summary dt'))
          .map((dt) => [dt.textContent, dt.nextElementSibling.textContent]),
        graphSrc: document.querySelector('#graph').getAttribute('src'),
        pictureHidden: document.querySelector('#graph').closest('.picture').hidden,
        input: document.querySelector('#input-json').value,
        inputHelp: document.querySelector('#input-help').textContent,
        loaded: document.querySelector('#details').dataset.loaded,
        layersHidden: document.querySelector('#layers-box').hidden,
        listed: (document.querySelector('#models tbody tr[data-model="hello-int8"]') || {}).textContent || null,
      }));
      out.noTfjsShot = path.join(outDir, 'page-no-tfjs.png');
      await page.screenshot({ path: out.noTfjsShot, fullPage: true });
    }

    out.savedModel = await drop(page, 'half-plus-two-savedmodel', [files.savedModelZip]);
    await loaded(page, 'half-plus-two-savedmodel');
    out.savedModelRun = await run(page, null);

    out.image = await pick(page, 'nsfw', files.image);
    await loaded(page, 'nsfw');
    out.imageMode = await page.$eval('input[name="mode"][value="image"]', (e) => e.checked);
    await page.setInputFiles('#image-picker', files.png);
    await page.waitForSelector('#image-canvas[data-image]');
    await clear(page, '#run-result').catch(() => {});
    await page.click('#run');
    out.imageRun = await result(page, '#run-result');
    out.desktopShot = path.join(outDir, 'page-desktop.png');
    await page.screenshot({ path: out.desktopShot, fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await selectModel(page, 'abalone');
    out.phoneRun = await run(page, null);
    out.phoneWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    out.phoneShot = path.join(outDir, 'page-phone.png');
    await page.screenshot({ path: out.phoneShot, fullPage: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    out.phoneTopShot = path.join(outDir, 'page-phone-top.png');
    await page.screenshot({ path: out.phoneTopShot });
  } finally {
    await context.close();
  }
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.log(JSON.stringify({ error: e.stack || String(e) }));
  process.exit(1);
});
