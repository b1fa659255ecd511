#!/usr/bin/env node
/*
 * Drives tfport serve's web page in Debian's chromium (never a downloaded browser) with playwright-core:
 * sees the model, runs it with the real TF.js, copies it to IndexedDB and localStorage, uploads the
 * IndexedDB copy back with model.save('http://...') and takes a screenshot.
 *
 * Usage: node browser_test.js BASE_URL MODEL TOKEN SCREENSHOT.png PROFILE_DIR
 * Prints one JSON object on the last line of stdout.
 */
'use strict';

const { chromium } = require('playwright-core');

const [base, model, token, screenshot, profile] = process.argv.slice(2);

async function waitResult(page, sel) {
  await page.waitForSelector(`${sel}[data-ok]`, { timeout: 60000 });
  return page.$eval(sel, (e) => ({ ok: e.dataset.ok === '1', text: e.textContent, data: { ...e.dataset } }));
}

(async () => {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run'],
  });
  const out = { consoleErrors: [] };
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => { if (m.type() === 'error') out.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => out.consoleErrors.push(String(e)));
    await page.goto(base + '/', { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
    out.tfjs = await page.$eval('#tfjs-status', (e) => e.textContent);
    out.models = await page.$$eval('#models tbody tr[data-model]', (rows) => rows.map((r) => r.dataset.model));
    await page.click(`#models tbody tr[data-model="${model}"]`);
    await page.waitForSelector('#details:not([hidden])');
    await page.waitForFunction(() => { const i = document.querySelector('#graph'); return i.complete && i.naturalWidth > 0; });
    out.graphWidth = await page.$eval('#graph', (i) => i.naturalWidth);
    await page.fill('#token', token);
    await page.click('#run');
    out.run = await waitResult(page, '#run-result');
    await page.click('#to-idb');
    out.indexeddb = await waitResult(page, '#store-result');
    await page.$eval('#store-result', (e) => { delete e.dataset.ok; });
    await page.click('#to-ls');
    out.localstorage = await waitResult(page, '#store-result');
    out.stores = await page.$$eval('#stores li code', (l) => l.map((e) => e.textContent));
    await page.fill('#target', model + '-from-browser');
    await page.click('#up-idb');
    out.upload = await waitResult(page, '#upload-result');
    await page.$eval('#upload-result', (e) => { delete e.dataset.ok; });
    await page.fill('#target', model + '-from-localstorage');
    await page.click('#up-ls');
    out.uploadLs = await waitResult(page, '#upload-result');
    await page.waitForSelector(`#models tbody tr[data-model="${model}-from-browser"]`);
    await page.click(`#models tbody tr[data-model="${model}"]`);
    await page.click('#run');
    await waitResult(page, '#run-result');
    await page.screenshot({ path: screenshot, fullPage: true });
    out.screenshot = screenshot;
  } finally {
    await context.close();
  }
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.log(JSON.stringify({ error: e.stack || String(e) }));
  process.exit(1);
});
