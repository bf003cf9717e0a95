// The admin pages driven like an operator would: a group created, edited, given members (seen on its page,
// each linking to its machine), refused a duplicate and deleted after a confirmation; a token created (its
// secret shown once, copied, working), listed and revoked (then refused); the audit log showing those actions
// and narrowed by its filters; the server page's version, listeners and disk figures checked against the
// project's version and the file system; the servers page empty, then with a live and a down server registered
// in the catalog (SERVERS add|remove). Screenshots at 1400 px and 390 px of every page and state.
//
// Environment: BASE_URL, PASSWORD, IMAGE (an existing image), SERVERS, ARTIFACTS, NODE_DIR (see lib.mjs).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  BASE_URL, TIMEOUT, env, ok, runBrowser, shots, signIn, waitForCount, waitForText,
} from './lib.mjs';

const IMAGE = env('IMAGE');
const SERVERS = env('SERVERS');
const GROUP = 'admin-lab';
const TOKEN = 'admin-read-token';
const MEMBERS = ['admin-pc-1', 'admin-pc-2', 'admin-pc-3'];
const memberMac = (i) => `52:54:00:ad:00:${String(i + 1).padStart(2, '0')}`;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const GIB = 1024 ** 3;

// A request through the dashboard's own API client in the page (the same module, so with the session's CSRF token).
const call = (page, method, url, body) => page.evaluate(async ([m, u, b]) => {
  const { request } = await import('/ui/api.js');
  return request(m, u, b === null ? {} : { body: b });
}, [method, url, body ?? null]);

async function confirm(page, pattern) {
  const dialog = page.getByTestId('confirm-dialog');
  await dialog.waitFor({ state: 'visible', timeout: TIMEOUT });
  await waitForText(dialog, pattern);
  return dialog;
}

async function groups(page, watch) {
  await page.getByTestId('nav-groups').click();
  await page.getByTestId('groups-table').waitFor({ timeout: TIMEOUT });
  await page.getByTestId('group-new-name').fill(GROUP);
  await page.getByTestId('group-new-image').selectOption(IMAGE);
  await page.getByTestId('group-new-description').fill('machines of the admin test');
  await page.getByTestId('group-create').click();
  const row = page.getByTestId(`group-${GROUP}`);
  await waitForText(row, new RegExp(`${GROUP}[\\s\\S]*${IMAGE}[\\s\\S]*fresh at each boot[\\s\\S]*bound to its address[\\s\\S]*\\b0\\b`));
  await page.getByTestId('groups-filter').fill(GROUP);
  await waitForCount(page.locator('[data-testid^="group-"]:is(tr):visible'), 1);
  await page.getByTestId('groups-filter').fill('');
  await shots(page, 'groups-created');
  ok('a group is created with a default image and shows in the list with 0 members');

  watch.on = false;
  await page.getByTestId('group-new-name').fill(GROUP);
  await page.getByTestId('group-create').click();
  await waitForText(page.getByTestId('group-create-error'), new RegExp(`Could not create ${GROUP}: .+`));
  await shots(page, 'groups-duplicate-refused');
  watch.on = true;
  ok(`a second group named ${GROUP} is refused with the API's message: ${await page.getByTestId('group-create-error').innerText()}`);

  for (const [i, name] of MEMBERS.entries()) {
    await call(page, 'POST', '/api/v1/nodes', { name, mac: memberMac(i), group: GROUP });
  }
  await page.reload();
  await waitForText(page.getByTestId(`group-members-${GROUP}`), /^3$/);
  await page.getByTestId(`group-open-${GROUP}`).click();
  await waitForText(page.getByTestId('group-name'), new RegExp(`^Group ${GROUP}$`));
  await waitForCount(page.locator('[data-testid^="member-admin-pc-"]'), MEMBERS.length);
  await waitForText(page.getByTestId('group-members-total'), /^1–3 of 3$/);
  await waitForText(page.getByTestId(`member-${MEMBERS[0]}`), new RegExp(`${memberMac(0)}[\\s\\S]*${IMAGE}`));
  await shots(page, 'group-members');
  ok('the group page lists its 3 members with the group\'s image');

  assert.equal(await page.getByTestId('group-save').isDisabled(), true, 'Save with nothing changed');
  await page.getByTestId('group-edit-persistent').check();
  await page.getByTestId('group-edit-bind').uncheck();
  await page.getByTestId('group-edit-description').fill('persistent lab machines');
  await page.getByTestId('group-save').click();
  await waitForText(page.getByTestId('group-persistent'), /^persistent$/);
  assert.equal(await page.getByTestId('group-save').isDisabled(), true, 'Save once saved');
  await waitForText(page.getByTestId('group-bind'), /^any address$/);
  await waitForText(page.getByTestId(`member-${MEMBERS[0]}`), /persistent/);
  await shots(page, 'group-edited');
  const saved = await call(page, 'GET', `/api/v1/groups/${GROUP}`);
  assert.deepEqual([saved.image, saved.persistent, saved.bind_address, saved.description],
    [IMAGE, true, false, 'persistent lab machines'], 'the group as saved');
  ok('editing the defaults saves them (persistent disks, any address, description) and the members follow');

  await page.getByTestId(`member-${MEMBERS[1]}`).getByRole('link').click();
  await waitForText(page.getByTestId('machine-name'), new RegExp(`^${MEMBERS[1]}$`));
  ok('a member links to its machine\'s page');

  // Delete: cancelled first, then confirmed (the dialog says what happens to the members).
  await page.getByTestId('nav-groups').click();
  await page.getByTestId(`group-delete-${GROUP}`).click();
  await confirm(page, /3 machines stay enrolled without a group/);
  await shots(page, 'group-delete-confirm');
  await page.getByTestId('confirm-cancel').click();
  await waitForText(page.getByTestId(`group-members-${GROUP}`), /^3$/);
  await page.getByTestId(`group-delete-${GROUP}`).click();
  await confirm(page, /stay enrolled/);
  await page.getByTestId('confirm-ok').click();
  await page.getByTestId(`group-${GROUP}`).waitFor({ state: 'detached', timeout: TIMEOUT });
  const member = await call(page, 'GET', `/api/v1/nodes/${MEMBERS[0]}`);
  assert.equal(member.group, null, 'a member of the deleted group');
  ok('delete is cancelled, then confirmed: the group is gone and its members have no group');

  // A group deleted elsewhere while the list shows it: the API's refusal is shown.
  await call(page, 'POST', '/api/v1/groups', { name: 'admin-gone' });
  await page.reload();
  await page.getByTestId('group-admin-gone').waitFor({ timeout: TIMEOUT });
  await call(page, 'DELETE', '/api/v1/groups/admin-gone');
  watch.on = false;
  await page.getByTestId('group-delete-admin-gone').click();
  await confirm(page, /no member/);
  await page.getByTestId('confirm-ok').click();
  await waitForText(page.getByTestId('toast-error'), /Could not delete admin-gone: .+/);
  await shots(page, 'group-delete-refused');
  watch.on = true;
  await page.getByTestId('group-admin-gone').waitFor({ state: 'detached', timeout: TIMEOUT });
  ok('a refused delete shows the API\'s message and the list reloads');
  for (const name of MEMBERS) await call(page, 'DELETE', `/api/v1/nodes/${name}`);
}

async function bearer(secret) {
  const response = await fetch(`${BASE_URL}/api/v1/groups`, { headers: { Authorization: `Bearer ${secret}` } });
  return response.status;
}

async function tokens(page, watch) {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
  await page.getByTestId('nav-access').click();
  // admin signed in at the start of this test: a last sign-in time, local, to the minute.
  await waitForText(page.getByTestId('user-admin'), /^admin\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await page.getByTestId('token-name').fill(TOKEN);
  await page.getByTestId('token-scope').selectOption('read');
  await page.getByTestId('token-expiry').selectOption({ label: '1 day' });
  await page.getByTestId('token-create').click();
  const secretField = page.getByTestId('token-secret');
  await secretField.waitFor({ timeout: TIMEOUT });
  const secret = await secretField.inputValue();
  assert.ok(secret.length >= 20, `a token secret: ${secret}`);
  await waitForText(page.getByTestId('token-secret-notice'), /will not be shown again/);
  await page.getByTestId('token-copy').click();
  await waitForText(page.getByTestId('toast-success'), /copied/);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret, 'the clipboard after Copy');
  const row = page.getByTestId(`token-${TOKEN}`);
  await waitForText(row, /admin[\s\S]*read[\s\S]*never/);
  const expires = await row.locator('td').nth(5).innerText();
  assert.ok(!/expired/.test(expires) && /\d/.test(expires), `expiry shown: ${expires}`);
  assert.ok(!(await page.getByTestId('tokens-body').innerText()).includes(secret), 'the list does not show the secret');
  await shots(page, 'token-created');
  assert.equal(await bearer(secret), 200, 'a request with the new token');
  ok('a read token is created: its secret shown once and copied, listed with owner, scope and expiry, and it works');

  await page.getByTestId('token-secret-done').click();
  await page.getByTestId('token-secret-notice').waitFor({ state: 'detached', timeout: TIMEOUT });
  await page.reload();
  await waitForText(row, new RegExp(TOKEN));
  assert.equal(await page.getByTestId('token-secret').count(), 0, 'the secret after reloading');
  ok('the secret is gone once dismissed and is not shown again after reloading');

  watch.on = false;
  await page.getByTestId('token-name').fill(' ');
  await page.getByTestId('token-create').click();
  await waitForText(page.getByTestId('token-create-error'), /Could not create the token: .+/);
  await shots(page, 'token-refused');
  watch.on = true;
  ok(`a token without a name is refused with the API's message: ${await page.getByTestId('token-create-error').innerText()}`);

  await page.getByTestId(`token-revoke-${TOKEN}`).click();
  await confirm(page, /refused from now on/);
  await shots(page, 'token-revoke-confirm');
  await page.getByTestId('confirm-ok').click();
  await row.waitFor({ state: 'detached', timeout: TIMEOUT });
  await shots(page, 'token-revoked');
  assert.equal(await bearer(secret), 401, 'a request with the revoked token');
  ok('revoking after the confirmation removes the token and the server refuses it from then on');
}

// Waits until the audit rows shown hold exactly the actions `expected` (each at least once); returns them all.
async function waitForActions(entries, expected) {
  const deadline = Date.now() + TIMEOUT;
  let actions = [];
  while (Date.now() < deadline) {
    actions = await entries.evaluateAll((rows) => rows.map((r) => r.dataset.action));
    if (JSON.stringify([...new Set(actions)].sort()) === JSON.stringify([...expected].sort())) return actions;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`waited ${TIMEOUT} ms for the audit actions ${expected}; last seen: ${actions}`);
}

async function audit(page) {
  await page.getByTestId('nav-audit').click();
  const entries = page.getByTestId('audit-entry');
  await waitForText(page.getByTestId('audit-body'), /token\.delete/);
  const actions = await entries.evaluateAll((rows) => rows.map((r) => r.dataset.action));
  for (const action of ['group.add', 'group.update', 'group.delete', 'token.create', 'token.delete']) {
    assert.ok(actions.includes(action), `the audit log lacks ${action}: ${actions}`);
  }
  const times = await entries.evaluateAll((rows) => rows.map((r) => Date.parse(r.querySelector('time').dateTime)));
  assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
  assert.ok(actions.indexOf('token.delete') < actions.indexOf('token.create'), 'the revoke above the creation');
  const created = entries.filter({ has: page.locator('td', { hasText: /^token\.create$/ }) }).first();
  await waitForText(created, new RegExp(`name\\s+${TOKEN}[\\s\\S]*scope\\s+read`));
  await shots(page, 'audit');
  ok(`the audit log shows the group and token actions newest first (${actions.length} entries), details as fields`);

  await page.getByTestId('audit-action').fill('token.create');
  const filtered = await waitForActions(entries, ['token.create']);
  await waitForText(page.getByTestId('audit-total'), new RegExp(`^1–${filtered.length} of ${filtered.length}$`));
  await shots(page, 'audit-filtered');
  ok(`the action filter narrows the log to token.create (${filtered.length} of ${actions.length} entries)`);

  await page.getByTestId('audit-action').fill('token');
  await waitForActions(entries, ['token.create', 'token.delete']);

  await page.getByTestId('audit-clear').click();
  await page.getByTestId('audit-target').fill(`group:${GROUP}`);
  const byTarget = await waitForActions(entries, ['group.add', 'group.delete', 'group.update']);
  assert.equal(byTarget.length, 3, `target ${GROUP}: ${byTarget}`);
  await page.getByTestId('audit-actor').fill('nobody-at-all');
  await waitForText(page.getByTestId('audit-body'), /No entry matches/);
  await page.getByTestId('audit-actor').fill('admin');
  await waitForText(page.getByTestId('audit-body'), /group\.delete/);
  await page.getByTestId('audit-since').fill('2099-01-01T00:00');
  await waitForText(page.getByTestId('audit-body'), /No entry matches/);
  await page.getByTestId('audit-since').fill('2000-01-01T00:00');
  await waitForText(page.getByTestId('audit-body'), /group\.delete/);
  await page.getByTestId('audit-until').fill('2000-01-02T00:00');
  await waitForText(page.getByTestId('audit-body'), /No entry matches/);
  await shots(page, 'audit-empty');
  ok('the target, actor and time range filters narrow the log');
}

async function server(page) {
  const version = readFileSync(path.join(HERE, '../../CMakeLists.txt'), 'utf8').match(/project\(bootherd VERSION ([\d.]+)/)[1];
  await page.getByTestId('nav-server').click();
  await waitForText(page.getByTestId('server-version'), new RegExp(`^${version.replace(/\./g, '\\.')}$`));
  await waitForText(page.getByTestId('server-uptime'), /^\d+ (s|min|h|d)/);
  await waitForText(page.getByTestId('server-http'), new RegExp(new URL(BASE_URL).host.replace(/\./g, '\\.')));
  await waitForText(page.getByTestId('server-dhcp-mode'), /^(off|proxy|full): /);
  const status = await call(page, 'GET', '/api/v1/server');
  const fs = statfsSync(status.data_dir);
  const total = ((fs.blocks * fs.bsize) / GIB).toFixed(2);
  await waitForText(page.getByTestId('server-disk-total'), new RegExp(`used of ${total.replace('.', '\\.')} GiB; [\\d.]+ GiB free`));
  await waitForText(page.getByTestId('server-disk-free'), /Free: [\d.]+ GiB \([\d.]+ %\)/);
  await waitForText(page.getByTestId('server-disk-images'), /Images: [\d.]+ GiB/);
  assert.ok(status.store.bytes_used_images > 0, 'the store holds the test image');
  const widths = await page.getByTestId('server-disk-bar').locator('span')
    .evaluateAll((spans) => spans.map((s) => parseFloat(s.style.width)));
  const sum = widths.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 100) < 0.5, `the disk bar's parts add up to ${sum} %`);
  await shots(page, 'server');
  ok(`the server page shows version ${version}, uptime, listeners, DHCP and the store's ${total} GiB disk`);
}

async function servers(page) {
  await page.getByTestId('nav-servers').click();
  await waitForText(page.getByTestId('servers-body'), /No server is registered/);
  assert.equal(await page.getByTestId('nav-servers').getAttribute('aria-current'), 'page');
  assert.equal(await page.getByTestId('nav-server').getAttribute('aria-current'), null, 'Server is not current on Servers');
  await promisify(execFile)(SERVERS, ['add'], { timeout: TIMEOUT });
  try {
    const live = page.getByTestId('server-rack-a');
    await live.waitFor({ timeout: TIMEOUT });  // the page refreshes every 5 s
    const cells = (row) => row.locator('td').allInnerTexts();
    const [name, state, portal, homed, booting, sessions, capacity, heartbeat, versions] = await cells(live);
    assert.deepEqual([name, state, portal, homed, booting, sessions, capacity, versions],
      ['rack-a', 'live', '10.9.0.1:3260', '2', '1', '2', '100', `${IMAGE} v1`]);
    assert.match(heartbeat, /^\d+ s ago$/);
    const down = page.getByTestId('server-rack-b');
    assert.deepEqual(await cells(down), ['rack-b', 'down', '10.9.0.2:3260', '0', '0', '0', '50', '10 min ago', '—']);
    assert.equal(await down.getAttribute('class'), 'bad', 'a down server is marked');
    await waitForText(page.getByTestId('servers-summary'), /^2 server\(s\), 1 down$/);
    await page.getByTestId('servers-filter').fill('down');
    await waitForCount(page.locator('[data-testid^="server-rack-"]:visible'), 1);
    await page.getByTestId('servers-filter').fill('');
    await shots(page, 'servers');
  } finally {
    await promisify(execFile)(SERVERS, ['remove'], { timeout: TIMEOUT });
  }
  ok('the servers page: none, then rack-a live with its load, homes and version, rack-b down and marked');
}

await runBrowser('admin-', async (page, watch) => {
  watch.on = false;  // the first page load asks for a session that does not exist yet
  await signIn(page);
  watch.on = true;
  await groups(page, watch);
  await tokens(page, watch);
  await audit(page);
  await server(page);
  await servers(page);
});
