// The existing dashboard pages made complete: tables sorted by a click on a header and filtered by a text box,
// an image uploaded from the browser with its progress (bytes, %, rate, ETA) and its import job in a jobs list
// that survives navigation and a reload, the draft and version views formatted for people, buttons disabled
// when their action cannot apply, the throughput chart's axes, and the navigation usable at 390 px.
// Screenshots of every step go to $ARTIFACTS (polish-*.png).
//
// Environment: as dashboard.test.mjs (BASE_URL, PASSWORD, IMAGE, ARTIFACTS, NODE_DIR, FETCH_BOOT_SCRIPT).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  BASE_URL, PHONE, TIMEOUT, WIDE, env, ok, runBrowser, shots, signIn, waitForCount, waitForText,
} from './lib.mjs';

const FETCH_BOOT_SCRIPT = env('FETCH_BOOT_SCRIPT');
const IMAGE = env('IMAGE');

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

const MiB = 1024 * 1024;

// A raw disk image of `size` bytes: random data in its first 256 KiB, zeros after.
function rawImage(size) {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < 256 * 1024; i += 1) buffer[i] = Math.floor(Math.random() * 256);
  return buffer;
}

async function uploadImages(page, watch) {
  await page.getByTestId('nav-images').click();
  await page.getByTestId('jobs-panel').waitFor({ timeout: TIMEOUT });
  // Uploads throttled to 1 MiB/s so that their progress is seen (loopback is faster than the page's updates).
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions',
    { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: MiB });
  const jobsList = page.getByTestId('jobs-list');
  const before = await jobsList.getByTestId('job').count();

  await page.getByTestId('image-upload-file').setInputFiles(
    { name: 'polish-up.raw', mimeType: 'application/octet-stream', buffer: rawImage(4 * MiB) });
  assert.equal(await page.getByTestId('image-upload-name').inputValue(), 'polish-up', 'the name comes from the file');
  await page.getByTestId('image-upload-start').click();
  const first = jobsList.locator('[data-testid="job"][data-name="polish-up"]');
  const progress = await waitForText(first.getByTestId('job-text'),
    /^\d+(\.\d)? (B|KiB|MiB) of 4\.0 MiB sent \(\d+%\) · \d+(\.\d)? (B|KiB|MiB)\/s · ETA \d/);
  await shots(page, 'upload-progress');
  ok(`the upload shows bytes, %, rate and ETA: "${progress}"`);

  // A second upload while the first runs gets its own row.
  await page.getByTestId('image-upload-file').setInputFiles(
    { name: 'polish-second.raw', mimeType: 'application/octet-stream', buffer: rawImage(2 * MiB) });
  await page.getByTestId('image-upload-start').click();
  const second = jobsList.locator('[data-testid="job"][data-name="polish-second"]');
  await second.waitFor({ timeout: TIMEOUT });
  await waitForCount(jobsList.getByTestId('job'), before + 2);
  await cdp.send('Network.emulateNetworkConditions',
    { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  for (const job of [first, second]) await waitForText(job.getByTestId('job-phase'), /^done$/, 60000);
  await waitForText(first.getByTestId('job-text'), /^imported \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  await page.getByTestId('image-polish-up').waitFor({ timeout: TIMEOUT });
  await page.getByTestId('image-polish-second').waitFor({ timeout: TIMEOUT });
  await shots(page, 'upload-done');
  ok('both uploads were imported, each in its own row, and their images are listed');

  // The jobs outlive hash navigation, and a reload re-reads them from the server.
  await page.getByTestId('nav-machines').click();
  await page.getByTestId('machines-table').waitFor({ timeout: TIMEOUT });
  await page.getByTestId('nav-images').click();
  await waitForCount(jobsList.getByTestId('job'), before + 2);
  await waitForText(first.getByTestId('job-phase'), /^done$/);
  ok('the jobs are still listed after leaving the images page and coming back');

  // An import of a file on the server (in its import directory, by default <data>/import) is shown the same way,
  // in a row of its own; so is a refused one. The data directory comes from GET /api/v1/server.
  const server = await page.request.get(`${BASE_URL}/api/v1/server`);
  let expected = before + 3;
  if (server.ok()) {
    const folder = path.join((await server.json()).data_dir, 'import');
    const file = path.join(folder, 'polish-from-path.raw');
    mkdirSync(folder, { recursive: true });
    writeFileSync(file, rawImage(2 * MiB));
    try {
      await page.getByTestId('image-import-name').fill('polish-path');
      await page.getByTestId('image-import-path').fill(file);
      await page.getByTestId('image-import-start').click();
      const fromPath = jobsList.locator('[data-testid="job"][data-name="polish-path"]');
      await waitForText(fromPath.getByTestId('job-phase'), /^done$/, 60000);
      await page.getByTestId('image-polish-path').waitFor({ timeout: TIMEOUT });
    } finally {
      rmSync(file, { force: true });
    }
    expected += 1;
    ok('an import from a file in the server\'s import directory was followed to the end in its own row');
  } else {
    ok('SKIPPED: no GET /api/v1/server to find the import directory: only a refused server import is tried');
  }
  watch.on = false;  // the server refuses the missing file with 400 on purpose
  await page.getByTestId('image-import-name').fill('polish-missing');
  await page.getByTestId('image-import-path').fill('/nonexistent/polish-missing.raw');
  await page.getByTestId('image-import-start').click();
  const missing = jobsList.locator('[data-testid="job"][data-name="polish-missing"]');
  await waitForText(missing.getByTestId('job-phase'), /^failed$/);
  await waitForText(missing.getByTestId('job-text'), /import directory/);
  watch.on = true;
  await waitForCount(jobsList.getByTestId('job'), expected);
  await waitForText(first.getByTestId('job-phase'), /^done$/);
  await shots(page, 'jobs-server-path');
  ok('a refused server import got its own row with the reason; the earlier rows are unchanged');
  const listed = await page.request.get(`${BASE_URL}/api/v1/jobs`);
  if (listed.status() === 404) {
    ok('SKIPPED: the server has no GET /api/v1/jobs yet: the jobs list lasts until a reload only');
    return;
  }
  await page.reload();
  await waitForText(page.getByTestId('user-name'), /^admin$/);
  await page.getByTestId('nav-images').click();
  await waitForText(jobsList.locator('[data-testid="job"][data-name="polish-up"]').getByTestId('job-phase'), /^done$/);
  await waitForText(jobsList.locator('[data-testid="job"][data-name="polish-second"]').getByTestId('job-phase'), /^done$/);
  await shots(page, 'jobs-after-reload');
  ok('after a reload the jobs are read again from the server');
}

// Raw fields (a ms timestamp, a null) must not reach the page.
function assertFormatted(text, where) {
  assert.doesNotMatch(text, /\b\d{12,}\b/, `${where} shows a raw millisecond timestamp: ${text}`);
  assert.doesNotMatch(text, /\bnull\b|\bundefined\b|\[object/, `${where} shows a raw value: ${text}`);
}

async function draftAndVersions(page) {
  await page.getByTestId('nav-images').click();
  const image = 'polish-second';  // one version, promoted
  const card = page.getByTestId(`image-${image}`);
  await card.waitFor({ timeout: TIMEOUT });
  const rollback = page.getByTestId(`rollback-${image}`);
  assert.ok(await rollback.isDisabled(), 'Roll back is enabled on an image with one version');
  assert.match(await rollback.getAttribute('title'), /no version older than v1/);
  assert.ok(await page.getByTestId(`promote-${image}-1`).isDisabled(), 'Promote is enabled on the promoted version');
  assert.match(await page.getByTestId(`promote-${image}-1`).getAttribute('title'), /promoted/);
  for (const button of ['commit', 'discard']) {
    assert.ok(await page.getByTestId(`${button}-${image}`).isDisabled(), `${button} is enabled with no draft`);
    assert.match(await page.getByTestId(`${button}-${image}`).getAttribute('title'), /no draft/);
  }
  await waitForText(card.getByTestId('version-created'), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await waitForText(card.getByTestId('version-sealed'), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  assertFormatted(await card.innerText(), 'the version table');
  ok('one-version image: Roll back, Promote, Commit and Discard disabled with a reason; times as local dates');

  // Versions sort by number (v10 after v9), both ways.
  const versions = page.getByTestId(`versions-${IMAGE}`);
  const numbers = async () => (await columnTexts(versions, 0)).map((text) => Number(text.match(/^v(\d+)/)[1]));
  const shown = await numbers();
  assert.ok(shown.length >= 2, `${IMAGE} has ${shown.length} version(s)`);
  const sortVersions = versions.getByRole('columnheader', { name: /Version/ }).getByRole('button');
  await sortVersions.click();
  assert.deepEqual(await numbers(), [...shown].sort((a, b) => a - b));
  await sortVersions.click();
  assert.deepEqual(await numbers(), [...shown].sort((a, b) => b - a));
  ok(`${IMAGE}'s versions sorted by number both ways`);

  await page.getByTestId(`edit-${image}`).click();
  const draft = page.getByTestId(`draft-${image}`);
  await draft.waitFor({ timeout: TIMEOUT });
  await waitForText(draft.getByTestId('draft-sealed'), /^not yet$/);
  await waitForText(draft.getByTestId('draft-created'), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  assertFormatted(await draft.innerText(), 'the draft view');
  assert.match(await draft.innerText(), /\d+\.\d (MiB|GiB)/, 'the draft shows its size in MiB or GiB');
  assert.ok(await page.getByTestId(`edit-${image}`).isDisabled(), 'Start maintenance is enabled with a draft open');
  assert.ok(!(await page.getByTestId(`commit-${image}`).isDisabled()), 'Commit is disabled with a draft open');
  await card.scrollIntoViewIfNeeded();
  await shots(page, 'draft-view');
  await page.getByTestId(`discard-${image}`).click();
  await page.getByTestId('confirm-ok').click();
  await draft.waitFor({ state: 'detached', timeout: TIMEOUT });
  ok('the draft view shows dates, sizes and "not yet", no raw field; discarded through the dialog');
}

async function chartAxes(page) {
  await page.getByTestId('nav-overview').click();
  const chart = page.getByTestId('throughput-chart');
  const times = chart.getByTestId('chart-time-axis').locator('text');
  await times.first().waitFor({ timeout: TIMEOUT });
  const labels = await times.allTextContents();
  assert.ok(labels.length >= 2, `time axis labels: ${labels}`);
  for (const label of labels) assert.match(label, /^\d\d:\d\d:\d\d$/);
  const values = await chart.getByTestId('chart-value-axis').locator('text').allTextContents();
  assert.ok(values.length >= 3, `value axis labels: ${values}`);
  for (const value of values) assert.match(value, /^\d+(\.\d)? (B|KiB|MiB|GiB)\/s$/);
  assert.equal(new Set(values).size, values.length, `value axis labels repeat: ${values}`);
  await shots(page, 'overview-chart');
  ok(`the throughput chart has a time axis (${labels.join(', ')}) and a value axis (${values.join(', ')})`);
}

// At a phone's width every page keeps its navigation whole (every link inside the viewport) and no page scrolls
// sideways as a whole.
async function phoneWidth(page) {
  await page.setViewportSize(PHONE);
  const links = await page.locator('#nav a').evaluateAll((all) => all.map((a) => a.dataset.testid));
  for (const link of links) {
    await page.getByTestId(link).click();
    await page.waitForTimeout(600);
    for (const other of links) {
      const box = await page.getByTestId(other).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width && box.y >= 0,
        `${other} is cut off at 390 px on ${link}: ${JSON.stringify(box)}`);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= PHONE.width, `${link}: the page is ${overflow} px wide at 390 px`);
    await shots(page, `phone-${link.replace('nav-', '')}`);
    await page.setViewportSize(PHONE);
  }
  await page.setViewportSize(WIDE);
  ok(`at 390 px all ${links.length} navigation links are visible on every page, and no page scrolls sideways`);
}

runBrowser('polish-', async (page, watch) => {
  watch.on = false;  // the first page load asks who is signed in and is told 401
  await signIn(page);
  watch.on = true;
  await sortAndFilter(page);
  await uploadImages(page, watch);
  await draftAndVersions(page);
  await chartAxes(page);
  await phoneWidth(page);
});
