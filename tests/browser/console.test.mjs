// The web console in a real browser: Debian's headless Chromium driven by
// puppeteer-core against a real Argus (auth required, SQLite) that this
// test starts. One browser, one server, the tests in order: sign in, see a
// group appear, acknowledge it, silence it, retry a failed notification,
// resolve the children and watch the parent resolve, edit a rule with a
// validation error, a manager with a bad receiver, a reader key made in the
// console that sees no buttons. Screenshots of the main pages go to
// $ARGUS_SCREENSHOTS.
//
// ARGUS_BINARY (required): the argus executable; CHROMIUM: the browser
// (default /usr/bin/chromium).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const adminKey = 'argus_bootstrap_' + 'K'.repeat(48);
const shots = process.env.ARGUS_SCREENSHOTS || path.join(os.tmpdir(), 'argus-screenshots');
const timeout = 15000;
let dir, server, base, browser, page, readerKey, hook;
// The manager's receiver: refuses (400, a permanent failure) until a test
// lets it accept.
let hookStatus = 400;
let serverLog = '';

async function freePort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const {port} = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function call(method, url, body, key = adminKey) {
  const res = await fetch(base + url, {
    method,
    headers: {Authorization: 'Bearer ' + key, 'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {status: res.status, body: text ? JSON.parse(text) : null};
}

async function event(dedupKey, extra) {
  const r = await call('POST', '/v1/events', {event_manager_id: 'payments', dedupKey, ...extra});
  assert.equal(r.status, 202, JSON.stringify(r.body));
}

const trigger = (dedupKey, summary, cls, severity = 'high') =>
  event(dedupKey, {action: 'trigger', summary, severity, class: cls, host: cls + '-a', region: 'eu-1'});

async function shot(name) {
  await page.screenshot({path: path.join(shots, name + '.png'), fullPage: true});
}

const text = (selector) => page.$eval(selector, (el) => el.textContent);

async function signIn(key) {
  await page.waitForSelector('#signin #key', {timeout});
  await page.$eval('#key', (el) => { el.value = ''; });
  await page.type('#key', key);
  await page.click('#signin button[type=submit]');
}

before(async () => {
  assert.ok(process.env.ARGUS_BINARY, 'set ARGUS_BINARY to the argus executable');
  fs.mkdirSync(shots, {recursive: true});
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'argus-console-'));
  fs.writeFileSync(path.join(dir, 'bootstrap.key'), adminKey + '\n');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  fs.writeFileSync(path.join(dir, 'config.yaml'), [
    'server:', '  host: 127.0.0.1', `  port: ${port}`,
    'storage:', '  backend: sqlite', `  path: ${dir}/argus.db`,
    'ingest:', `  journal_path: ${dir}/journal`,
    'node:', '  port: 0',
    'log:', '  level: warning',
    'auth:', '  mode: required', `  bootstrap_key_file: ${dir}/bootstrap.key`, ''].join('\n'));
  server = spawn(process.env.ARGUS_BINARY, ['--config', path.join(dir, 'config.yaml')],
                 {stdio: ['ignore', 'pipe', 'pipe']});
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      if ((await fetch(base + '/healthz')).ok) break;
    } catch { /* not up yet */ }
    assert.ok(Date.now() < deadline, 'argus did not start: ' + serverLog);
    await new Promise((r) => setTimeout(r, 50));
  }
  hook = http.createServer((req, res) => { req.resume(); res.writeHead(hookStatus).end(); });
  await new Promise((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const receivers = [{name: 'ops', url: `http://127.0.0.1:${hook.address().port}/hook`}];
  const rule = await call('POST', '/v1/grouping-rules', {name: 'by class', grouping_key: 'class', time_window_minutes: 10});
  assert.equal(rule.status, 201);
  assert.equal((await call('POST', '/v1/event-managers', {id: 'payments', name: 'Payments', grouping_rule_id: rule.body.data.id,
                                                       notification_config: {receivers}})).status, 201);

  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true, // Chromium's new headless mode
    // A container's root has no user namespaces for Chromium's sandbox.
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({width: 1280, height: 800});
  page.on('dialog', (d) => d.accept()); // confirm() before deletes
  page.on('pageerror', (e) => { serverLog += '\npage error: ' + e.message; });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (hook) hook.close();
  if (dir) fs.rmSync(dir, {recursive: true, force: true});
});

test('the console is served without a key and asks for one', async () => {
  const res = await fetch(base + '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/html/);
  assert.equal((await fetch(base + '/v1/groups')).status, 401);
  await page.goto(base + '/', {waitUntil: 'load'});
  await page.waitForSelector('#signin', {timeout});
  await shot('signin');
  await signIn('argus_nope_' + 'x'.repeat(40));
  await page.waitForFunction(() => document.querySelector('#key-err').textContent.includes('refused'), {timeout});
  assert.equal(await page.evaluate(() => sessionStorage.getItem('argus.key')), null);
  await signIn(adminKey);
  await page.waitForSelector('table#groups', {timeout});
  assert.match(await text('#role'), /admin/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('argus.key')), adminKey);
  assert.ok(!page.url().includes(adminKey), 'the key is never in the URL');
});

test('a group appears when events are posted', async () => {
  await trigger('db-1', 'DB primary down', 'database');
  await trigger('db-2', 'DB replica lag', 'database', 'medium');
  await trigger('web-1', 'Checkout 5xx above 2%', 'web', 'medium');
  await trigger('q-1', 'Queue backlog growing', 'queue', 'low');
  await page.waitForSelector('tr[data-key="db-1"]', {timeout});
  await page.waitForFunction(() => {
    const row = document.querySelector('tr[data-key="db-1"] .children');
    return row && row.textContent === '1/1';
  }, {timeout});
  await page.waitForSelector('tr[data-key="q-1"]', {timeout});
  assert.match(await text('#page-info'), /of 3/);
  // The filters go to the server: severity and text.
  await page.select('#severity', 'low');
  await page.waitForFunction(() => !document.querySelector('tr[data-key="db-1"]') &&
                             document.querySelector('tr[data-key="q-1"]'), {timeout});
  await page.select('#severity', '');
  await page.type('#q', 'checkout');
  await page.waitForFunction(() => !document.querySelector('tr[data-key="db-1"]') &&
                             document.querySelector('tr[data-key="web-1"]'), {timeout});
  await page.$eval('#q', (el) => { el.value = ''; el.dispatchEvent(new Event('input')); });
  await page.waitForSelector('tr[data-key="db-1"]', {timeout});
  await page.click('button[aria-label="children of db-1"]');
  await page.waitForSelector('tr.kids a[href*="db-2"]', {timeout});
  await shot('groups');
  // On a phone the table becomes cards (a new viewport reloads the page).
  await page.setViewport({width: 390, height: 844, isMobile: true});
  await page.waitForSelector('tr[data-key="db-1"]', {timeout});
  await shot('groups-phone');
  await page.setViewport({width: 1280, height: 800});
  await page.waitForSelector('tr[data-key="db-1"]', {timeout});
});

test('acknowledge a group', async () => {
  await page.click('button[aria-label="Acknowledge db-1"]');
  await page.waitForSelector('tr[data-key="db-1"][data-state="acknowledged"]', {timeout});
  const a = await call('GET', '/v1/alerts/db-1');
  assert.equal(a.body.data.acknowledged, true);
  assert.equal(a.body.data.acknowledged_by, 'bootstrap');
});

test('silence a group from its alert, matchers filled in', async () => {
  await page.click('button[aria-label="Silence db-1"]');
  await page.waitForSelector('form#edit textarea[name=matchers]', {timeout});
  assert.equal(await page.$eval('[name=matchers]', (el) => el.value), 'grouping_value=database');
  assert.equal(await page.$eval('[name=event_manager_id]', (el) => el.value), 'payments');
  await page.click('form#edit button[type=submit]');
  await page.waitForFunction(() => location.hash === '#/config/silences' &&
                             document.querySelector('#items .st-silenced'), {timeout});
  const silences = (await call('GET', '/v1/silences')).body.data;
  assert.equal(silences.length, 1);
  assert.deepEqual(silences[0].matchers, [{name: 'grouping_value', value: 'database', isRegex: false, isEqual: true}]);
  await page.goto(base + '/#/groups');
  await page.waitForFunction(() => {
    const row = document.querySelector('tr[data-key="db-1"] .state');
    return row && row.textContent.includes('silenced');
  }, {timeout});
});

test('resolve the children and watch the parent resolve', async () => {
  await page.click('tr[data-key="db-1"] a[href^="#/alert/"]');
  await page.waitForSelector('#alert-title', {timeout});
  assert.equal(await text('#alert-title'), 'DB primary down');
  await page.click('#alert-actions button[aria-label="Resolve db-1"]');
  await page.waitForFunction(() => document.querySelector('#alert-state') &&
                             document.querySelector('#alert-state').textContent.includes('resolve requested'), {timeout});
  // parent_opened was refused by the receiver: retry it once it accepts.
  await page.waitForSelector('#notifications button.retry', {timeout});
  assert.match(await text('#notifications'), /ops: failed/);
  await shot('alert');
  hookStatus = 200;
  await page.click('#notifications button.retry');
  await page.waitForFunction(() => /ops: delivered/.test(document.querySelector('#notifications').textContent), {timeout});
  await page.click('#children button[aria-label="Resolve db-2"]');
  await page.waitForSelector('#alert-state .st-resolved', {timeout});
  assert.equal((await call('GET', '/v1/alerts/db-1')).body.data.status, 'resolved');
  await page.goto(base + '/#/groups');
  await page.waitForSelector('tr[data-key="web-1"]', {timeout});
  assert.equal(await page.$('tr[data-key="db-1"]'), null);
});

test('edit a rule: the API\'s validation message is shown at the field', async () => {
  await page.goto(base + '/#/config/rules');
  await page.waitForSelector('#items a[aria-label^="Edit rule"]', {timeout});
  await page.click('#items a[aria-label^="Edit rule"]');
  await page.waitForSelector('form#edit [name=time_window_minutes]', {timeout});
  await page.$eval('[name=time_window_minutes]', (el) => { el.value = '0'; });
  await page.click('form#edit button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#f-time_window_minutes-err').textContent !== '', {timeout});
  const message = await text('#f-time_window_minutes-err');
  assert.match(message, /field 'time_window_minutes'/);
  assert.equal(await page.$eval('[name=time_window_minutes]', (el) => el.getAttribute('aria-invalid')), 'true');
  await shot('config');
  await page.$eval('[name=time_window_minutes]', (el) => { el.value = '15'; });
  await page.click('form#edit button[type=submit]');
  await page.waitForFunction(() => location.hash === '#/config/rules' && !document.querySelector('form#edit'), {timeout});
  const rules = (await call('GET', '/v1/grouping-rules')).body.data;
  assert.equal(rules[0].time_window_minutes, 15);
});

test('a manager with a bad receiver, and a reader key made in the console', async () => {
  await page.goto(base + '/#/config/managers/new');
  await page.waitForSelector('form#edit [name=receivers]', {timeout});
  await page.type('[name=name]', 'Shop');
  await page.select('[name=grouping_rule_id]', (await call('GET', '/v1/grouping-rules')).body.data[0].id);
  await page.$eval('[name=receivers]', (el) => { el.value = '[{"name": "ops", "url": "ftp://example"}]'; });
  await page.click('form#edit button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#f-receivers-err').textContent !== '', {timeout});
  assert.match(await text('#f-receivers-err'), /url/);
  await page.goto(base + '/#/config/keys/new');
  await page.waitForSelector('form#edit [name=role]', {timeout});
  await page.select('[name=role]', 'reader');
  await page.click('form#edit button[type=submit]');
  await page.waitForSelector('#new-key', {timeout});
  readerKey = (await text('#new-key')).trim();
  assert.match(readerKey, /^argus_[0-9a-f]+_[0-9a-f]+$/);
});

test('a reader key sees no buttons', async () => {
  await page.click('#signout');
  await signIn(readerKey);
  await page.waitForSelector('table#groups tr[data-key="web-1"]', {timeout});
  assert.match(await text('#role'), /reader/);
  assert.equal(await page.$('td.actions'), null);
  assert.equal(await page.$('button[aria-label^="Acknowledge"]'), null);
  await page.click('tr[data-key="web-1"] a[href^="#/alert/"]');
  await page.waitForSelector('#alert-title', {timeout});
  assert.equal(await page.$eval('#alert-actions', (el) => el.children.length), 0);
  await page.goto(base + '/#/config/rules');
  await page.waitForSelector('#items', {timeout});
  assert.equal(await page.$('#new'), null);
  assert.equal(await page.$('#items .actions'), null);
  assert.equal(await page.$('a[href="#/config/keys"]'), null); // keys: admin only
});
