// The existing dashboard pages made complete: tables sorted by a click on a header and filtered by a text box,
// an image uploaded from the browser with its progress (bytes, %, rate, ETA) and its import job in a jobs list
// that survives navigation and a reload, the draft and version views formatted for people, buttons disabled
// when their action cannot apply, the throughput chart's axes, and the navigation usable at 390 px.
// Screenshots of every step go to $ARTIFACTS (polish-*.png).
//
// Environment: as dashboard.test.mjs (BASE_URL, PASSWORD, IMAGE, ARTIFACTS, NODE_DIR, FETCH_BOOT_SCRIPT).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  BASE_URL, PHONE, TIMEOUT, WIDE, env, ok, runBrowser, shots, signIn, waitForCount, waitForText,
} from './lib.mjs';

const FETCH_BOOT_SCRIPT = env('FETCH_BOOT_SCRIPT');

// The API as the signed-in page: its cookie, and the session's CSRF token on changes.
async function apiCall(page, method, path, body) {
  const { csrf_token: csrf } = await (await page.request.get(`${BASE_URL}/api/v1/me`)).json();
  const response = await page.request.fetch(`${BASE_URL}${path}`, {
    method, headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok(), `${method} ${path} answered ${response.status()}: ${await response.text()}`);
  return response.status() === 204 ? null : response.json();
}

const columnTexts = (table, column) => table.locator('tbody tr:visible').evaluateAll(
  (rows, index) => rows.map((row) => row.cells[index]?.textContent.trim()), column);

async function sortAndFilter(page) {
  // Three unknown machines ask for their boot script: they are listed as discovered.
  const macs = ['52:54:00:d1:00:02', '52:54:00:d1:00:03', '52:54:00:d1:00:01'];
  for (const mac of macs) await promisify(execFile)(FETCH_BOOT_SCRIPT, ['unknown', mac], { timeout: TIMEOUT });
  await page.getByTestId('nav-discovered').click();
  const table = page.getByTestId('discovered-table');
  for (const mac of macs) await page.getByTestId(`discovered-${mac}`).waitFor({ timeout: TIMEOUT });
  const macHeader = table.getByRole('columnheader', { name: /MAC/ });
  await macHeader.getByRole('button').click();
  assert.equal(await macHeader.getAttribute('aria-sort'), 'ascending');
  const ascending = (await columnTexts(table, 1)).filter((m) => m.startsWith('52:54:00:d1'));
  assert.deepEqual(ascending, [...macs].sort(), 'MACs ascending after one click');
  await macHeader.getByRole('button').click();
  assert.equal(await macHeader.getAttribute('aria-sort'), 'descending');
  const descending = (await columnTexts(table, 1)).filter((m) => m.startsWith('52:54:00:d1'));
  assert.deepEqual(descending, [...macs].sort().reverse(), 'MACs descending after a second click');
  await page.getByTestId('discovered-filter').fill('d1:00:03');
  await waitForCount(table.locator('tbody tr:visible'), 1);
  await waitForText(table.locator('tbody tr:visible'), /52:54:00:d1:00:03/);
  await shots(page, 'discovered-sorted-filtered');
  await page.getByTestId('discovered-filter').fill('');
  ok('discovered machines sorted by MAC both ways (aria-sort) and filtered to one');

  // Machines: the host name column, and the page's rows sorted by a header.
  for (const [name, host] of [['polish-b', 'host-bravo'], ['polish-a', 'host-charlie'], ['polish-c', 'host-alpha']]) {
    await apiCall(page, 'POST', '/api/v1/nodes', { name, mac: `52:54:00:d2:00:0${name.at(-1).charCodeAt(0) - 96}`, hostname: host });
  }
  await page.getByTestId('nav-machines').click();
  await page.getByTestId('machines-search').fill('polish-');
  const machines = page.getByTestId('machines-table');
  await waitForCount(machines.locator('tbody tr'), 3);
  const hostHeader = machines.getByRole('columnheader', { name: /Host name/ });
  await hostHeader.getByRole('button').click();
  assert.deepEqual(await columnTexts(machines, 3), ['host-alpha', 'host-bravo', 'host-charlie']);
  assert.deepEqual(await columnTexts(machines, 1), ['polish-c', 'polish-b', 'polish-a'], 'rows follow the host name');
  await machines.getByRole('columnheader', { name: /Name/ }).first().getByRole('button').click();
  await machines.getByRole('columnheader', { name: /Name/ }).first().getByRole('button').click();
  assert.deepEqual(await columnTexts(machines, 1), ['polish-c', 'polish-b', 'polish-a'], 'names descending');
  await shots(page, 'machines-hostname-sorted');
  ok('machines show their host name and sort by host name and by name');
}

runBrowser('polish-', async (page, watch) => {
  watch.on = false;  // the first page load asks who is signed in and is told 401
  await signIn(page);
  watch.on = true;
  await sortAndFilter(page);
});
