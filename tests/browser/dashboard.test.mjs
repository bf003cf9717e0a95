// The dashboard driven like an operator would, in Debian's headless Chromium through playwright-core:
// log in, import 300 machines from a CSV with 3 bad rows (shown, fixed in the page, validated again), see the
// 300 machines, bulk-assign a group, promote image v2 and roll it back through the confirmation dialogs, and
// watch a live event arrive on a machine's boot timeline, boot a machine into an image's draft ("Maintain
// image…"), see a machine's boots as a waterfall and the outcomes per image version on the overview,
// enroll a discovered machine with one click, and roll image v2 out (a canary that halts on a failed boot:
// the banner on every page, the halt on the rollout's page; pause, resume and abort).
// Screenshots of every step go to $ARTIFACTS.
//
// Environment: BASE_URL (the dashboard), PASSWORD (admin's), IMAGE (an image with sealed v1 promoted and v2 not),
// GROUP (an existing group; "lab" must exist too), ARTIFACTS (screenshot folder), NODE_DIR (where `npm ci`
// installed playwright-core), FETCH_BOOT_SCRIPT (a command run with a machine's name and MAC that fetches its
// boot script as the machine would: an event for an enrolled machine, a discovered entry for an unknown one),
// SEED_BOOTS (a command run with a machine's name that records three boots of it: ok, failed, running),
// FAIL_BOOT (a command run with a machine's name and a version number of IMAGE that records a failed boot of it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  BASE_URL, PASSWORD, TIMEOUT, WIDE, env, ok, runBrowser, shot, shots, waitForCount, waitForText,
} from './lib.mjs';

const IMAGE = env('IMAGE');
const GROUP = env('GROUP');
const FETCH_BOOT_SCRIPT = env('FETCH_BOOT_SCRIPT');
const SEED_BOOTS = env('SEED_BOOTS');
const FAIL_BOOT = env('FAIL_BOOT');

const MACHINES = 300;

const mac = (i) => `52:54:00:b0:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const name = (i) => `pc-${String(i).padStart(3, '0')}`;

// 300 rows; rows 40, 150 and 260 are wrong in three different fields. Line numbers count the header as line 1.
function machinesCsv() {
  const rows = ['name,mac,image,group,persistent'];
  for (let i = 1; i <= MACHINES; i += 1) rows.push(`${name(i)},${mac(i)},${IMAGE},,false`);
  const broken = [
    { line: 41, field: 'mac', text: `${name(40)},52:54:00:zz:00:28,${IMAGE},,false`, fix: mac(40) },
    { line: 151, field: 'persistent', text: `${name(150)},${mac(150)},${IMAGE},,perhaps`, fix: 'true' },
    { line: 261, field: 'image', text: `${name(260)},${mac(260)},no-such-image,,false`, fix: IMAGE },
  ];
  for (const b of broken) rows[b.line - 1] = b.text;
  return { text: `${rows.join('\n')}\n`, broken };
}

async function login(page) {
  await page.goto(BASE_URL);
  await page.getByTestId('login-form').waitFor({ timeout: TIMEOUT });
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByTestId('login-submit').click();
  await waitForText(page.getByTestId('login-error'), /wrong/i);
  await shot(page, 'login-refused');
  ok('a wrong password is refused with a message');

  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await waitForText(page.getByTestId('user-name'), /^admin$/);
  await waitForText(page.getByTestId('stat-total'), /^\d+$/);
  await page.getByTestId('throughput-chart').locator('svg').waitFor({ timeout: TIMEOUT });
  await shot(page, 'overview');
  ok('logged in; the overview shows machine counts and the throughput chart');
}

async function importMachines(page) {
  await page.getByTestId('nav-machines').click();
  await waitForText(page.getByTestId('machines-total'), /^0 machine/);
  await page.getByTestId('csv-open').click();
  const csv = machinesCsv();
  await page.getByTestId('csv-file').setInputFiles({
    name: 'machines.csv', mimeType: 'text/csv', buffer: Buffer.from(csv.text),
  });
  await waitForText(page.getByTestId('csv-summary'), /3 problem/);
  const errors = page.getByTestId('csv-error');
  await waitForCount(errors, 3);
  for (const [i, b] of csv.broken.entries()) {
    const cells = await errors.nth(i).locator('td').allInnerTexts();
    assert.equal(cells[0], String(b.line), `error ${i} line`);
    assert.equal(cells[1], b.field, `error ${i} field`);
    assert.ok(cells[2].length > 0, `error ${i} has a message`);
  }
  assert.ok(await page.getByTestId('csv-import').isDisabled(), 'import is possible with errors');
  await shot(page, 'csv-errors');
  ok(`the 3 bad rows are shown with line and field: ${csv.broken.map((b) => `${b.line}/${b.field}`).join(', ')}`);

  // Nothing was written by the validation.
  const before = await page.request.get(`${BASE_URL}/api/v1/nodes?limit=1`);
  assert.equal((await before.json()).total, 0, 'validation wrote machines');

  for (const b of csv.broken) await page.getByTestId(`csv-cell-${b.line}-${b.field}`).fill(b.fix);
  await shot(page, 'csv-fixed');
  await page.getByTestId('csv-validate').click();
  await waitForText(page.getByTestId('csv-summary'), new RegExp(`^${MACHINES} row\\(s\\) valid`));
  await waitForCount(errors, 0);
  await page.getByTestId('csv-import').click();
  // Each machine gets its own differencing disk: allow for a slow, busy machine.
  const importStart = Date.now();
  await waitForText(page.getByTestId('csv-summary'), new RegExp(`Imported ${MACHINES} machine`), 240000);
  ok(`import took ${((Date.now() - importStart) / 1000).toFixed(1)} s`);
  await waitForText(page.getByTestId('machines-total'), new RegExp(`^${MACHINES} machine`));
  await waitForText(page.getByTestId('machines-page'), new RegExp(`^1–50 of ${MACHINES}$`));
  await shot(page, 'machines-imported');
  ok(`fixed in the page, validated again, imported: ${MACHINES} machines listed`);

  const fixed = await (await page.request.get(`${BASE_URL}/api/v1/nodes/${name(150)}`)).json();
  assert.equal(fixed.persistent, true, 'the fixed persistent value was not imported');
  const last = page.getByTestId('page-next');
  for (let i = 0; i < 5; i += 1) await last.click();
  await waitForText(page.getByTestId('machines-page'), new RegExp(`^251–${MACHINES} of ${MACHINES}$`));
  await page.getByTestId(`machine-row-${name(MACHINES)}`).waitFor({ timeout: TIMEOUT });
  ok('paging reaches the last machine');
}

async function bulkAssign(page) {
  await page.getByTestId('machines-search').fill('pc-1');
  await waitForText(page.getByTestId('machines-total'), /^100 machine/);
  await page.getByTestId('select-matching').click();
  await waitForText(page.getByTestId('selected-count'), /^100 selected$/);
  await page.getByTestId('bulk-action').selectOption('assign-group');
  await page.getByTestId('bulk-parameter').selectOption(GROUP);
  await page.getByTestId('bulk-apply').click();
  await waitForText(page.getByTestId('bulk-result'), /: 100 done\.$/);
  await waitForText(page.getByTestId(`machine-row-${name(123)}`).getByTestId('cell-group'), new RegExp(`^${GROUP}$`));
  await shot(page, 'bulk-assigned');

  await page.getByTestId('machines-search').fill('');
  await page.getByTestId('filter-group').selectOption(GROUP);
  await waitForText(page.getByTestId('machines-total'), /^100 machine/);
  const outside = await (await page.request.get(`${BASE_URL}/api/v1/nodes/${name(99)}`)).json();
  assert.equal(outside.group, null, 'a machine outside the selection got the group');
  ok(`bulk-assigned group ${GROUP} to the 100 selected machines, and to no other`);
}

async function promoteAndRollBack(page) {
  await page.getByTestId('nav-images').click();
  const badge = page.getByTestId(`promoted-${IMAGE}`);
  await waitForText(badge, /promoted v1$/);
  const dialog = page.getByTestId('confirm-dialog');

  await page.getByTestId(`promote-${IMAGE}-2`).click();
  await dialog.waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.getByTestId('confirm-cancel').click();
  await dialog.waitFor({ state: 'hidden', timeout: TIMEOUT });
  await new Promise((resolve) => setTimeout(resolve, 500));
  await waitForText(badge, /promoted v1$/, 1000);
  ok('cancelling the confirmation promotes nothing');

  await page.getByTestId(`promote-${IMAGE}-2`).click();
  await dialog.waitFor({ state: 'visible', timeout: TIMEOUT });
  await shot(page, 'promote-confirm');
  await page.getByTestId('confirm-ok').click();
  await waitForText(badge, /promoted v2$/);
  await page.getByTestId(`version-${IMAGE}-2`).getByText('promoted').waitFor({ timeout: TIMEOUT });
  await shot(page, 'promoted-v2');
  ok(`${IMAGE} v2 promoted after confirmation`);

  await page.getByTestId(`rollback-${IMAGE}`).click();
  await dialog.waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.getByTestId('confirm-ok').click();
  await waitForText(badge, /promoted v1$/);
  await shot(page, 'rolled-back');
  const versions = await (await page.request.get(`${BASE_URL}/api/v1/images/${IMAGE}/versions`)).json();
  assert.deepEqual(versions.items.filter((v) => v.promoted).map((v) => v.number), [1]);
  ok(`${IMAGE} rolled back to v1 after confirmation`);
}

async function liveEvent(page) {
  const target = name(7);
  await page.goto(`${BASE_URL}/#/machine/${target}`);
  await waitForText(page.getByTestId('machine-name'), new RegExp(`^${target}$`));
  await waitForText(page.getByTestId('stream-state'), /^live$/);
  const events = page.getByTestId('timeline-event');
  const before = await events.count();
  const { stdout } = await promisify(execFile)(FETCH_BOOT_SCRIPT, [target, mac(7)], { timeout: TIMEOUT });
  ok(`triggered an event for ${target}: ${stdout.trim().split('\n')[0] || '(no output)'}`);
  await waitForCount(events, before + 1);
  const newest = events.first();
  const stepName = await newest.getAttribute('data-step');
  assert.ok(stepName, 'the new event has no step');
  await page.getByTestId('events-toggle').click();  // the raw event list is folded under the boots
  await newest.waitFor({ state: 'visible', timeout: TIMEOUT });
  await shot(page, 'live-event');
  ok(`a live "${stepName}" event appeared on ${target}'s timeline without reloading`);
}

// On a machine's page: "Maintain image…" boots it into the image's draft (made now), and a badge says so.
async function maintainFromMachine(page) {
  const target = name(7);
  await page.goto(`${BASE_URL}/#/machine/${target}`);
  await waitForText(page.getByTestId('machine-name'), new RegExp(`^${target}$`));
  assert.equal(await page.getByTestId('machine-maintenance').count(), 0, 'a badge before any maintenance');
  await page.getByTestId('maintain-image').selectOption(IMAGE);
  await page.getByTestId('machine-maintain').click();
  const dialog = page.getByTestId('confirm-dialog');
  await dialog.waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.getByTestId('confirm-ok').click();
  const badge = await waitForText(page.getByTestId('machine-maintenance'),
    new RegExp(`^maintenance: ${IMAGE} draft v\\d+$`));
  await shot(page, 'maintenance');
  const node = await (await page.request.get(`${BASE_URL}/api/v1/nodes/${target}`)).json();
  assert.equal(node.maintenance && node.maintenance.image, IMAGE);
  const versions = await (await page.request.get(`${BASE_URL}/api/v1/images/${IMAGE}/versions`)).json();
  assert.equal(versions.draft && versions.draft.maintenance_node, target);
  ok(`"Maintain image…" made ${target} the maintenance machine of ${IMAGE}'s draft (${badge})`);
}

async function bootWaterfall(page) {
  const target = name(3);
  await promisify(execFile)(SEED_BOOTS, [target], { timeout: TIMEOUT });
  await page.goto(`${BASE_URL}/#/machine/${target}`);
  await waitForText(page.getByTestId('machine-name'), new RegExp(`^${target}$`));
  const rows = page.getByTestId('boot-row');
  await waitForCount(rows, 3);
  const outcomes = [];
  for (let i = 0; i < 3; i += 1) outcomes.push(await rows.nth(i).getAttribute('data-outcome'));
  assert.deepEqual(outcomes, ['running', 'failed', 'ok'], 'boots newest first with their outcomes');
  const okSteps = await rows.nth(2).getByTestId('boot-step').evaluateAll((bars) => bars.map((b) => b.dataset.step));
  assert.deepEqual(okSteps, ['dhcp', 'tftp', 'script', 'firmware_login', 'first_read', 'os_login', 'health', 'end']);
  await waitForText(rows.nth(2), /health report ok/);
  await waitForText(rows.nth(1), /rebooted before ok/);
  // One time scale for all rows: the 38 s boot's bars reach further than the 15 s boot's.
  const reach = (row) => row.getByTestId('boot-step').evaluateAll((bars) => Math.max(...bars.map((b) =>
    parseFloat(b.style.left) + parseFloat(b.style.width))));
  assert.ok(await reach(rows.nth(2)) > await reach(rows.nth(1)) + 10, 'the bars share one time scale');
  await page.getByTestId('boot-waterfall').scrollIntoViewIfNeeded();
  await shot(page, 'boot-waterfall');
  ok(`${target}'s boots shown as a waterfall: running, failed (reboot loop), ok (health report)`);

  await page.goto(`${BASE_URL}/#/overview`);
  const summary = page.getByTestId(`boot-outcomes-${IMAGE}-1`);
  await waitForText(summary, /v1\s+1\s+1\s+1/);
  await shot(page, 'boot-outcomes');
  ok(`the overview shows boot outcomes per image version (${IMAGE} v1: 1 ok, 1 failed, 1 running)`);
}

async function enrollDiscovered(page) {
  const unknown = '52:54:00:c0:ff:ee';
  const { stdout } = await promisify(execFile)(FETCH_BOOT_SCRIPT, ['unknown', unknown], { timeout: TIMEOUT });
  ok(`an unknown machine asked for its boot script: ${stdout.trim().split('\n')[0] || '(no output)'}`);
  await page.getByTestId('nav-discovered').click();
  const row = page.getByTestId(`discovered-${unknown}`);
  await row.waitFor({ timeout: TIMEOUT });
  await page.getByTestId(`enroll-name-${unknown}`).fill('lab-new');
  await page.getByTestId(`enroll-${unknown}-hostname`).fill('Lab-New.example');
  await page.getByTestId(`enroll-${unknown}-ip`).fill('10.66.0.42');
  await row.getByLabel(`Group for ${unknown}`).selectOption('lab');
  await shot(page, 'discovered');
  await page.getByTestId(`enroll-${unknown}`).click();
  await waitForText(page.getByTestId('toast-success').last(), /Enrolled 1 machine/);
  await row.waitFor({ state: 'detached', timeout: TIMEOUT });
  const enrolled = await (await page.request.get(`${BASE_URL}/api/v1/nodes/lab-new`)).json();
  assert.equal(enrolled.mac, unknown);
  assert.equal(enrolled.group, 'lab');
  assert.equal(enrolled.hostname, 'lab-new.example');
  assert.equal(enrolled.fixed_ip, '10.66.0.42');
  ok('the discovered machine was enrolled with one click, in group lab, with its host name and fixed IP');

  // The machine page changes and drops them.
  await page.goto(`${BASE_URL}/#/machine/lab-new`);
  const hostname = page.getByTestId('identity-hostname');
  await hostname.waitFor({ timeout: TIMEOUT });
  assert.equal(await hostname.inputValue(), 'lab-new.example');
  await hostname.fill('desk-42');
  await page.getByTestId('identity-ip').fill('');
  await shot(page, 'machine-identity');
  await page.getByTestId('identity-save').click();
  await waitForText(page.getByTestId('toast-success').last(), /save identity done/);
  const changed = await (await page.request.get(`${BASE_URL}/api/v1/nodes/lab-new`)).json();
  assert.equal(changed.hostname, 'desk-42');
  assert.equal(changed.fixed_ip, null);
  ok('the machine page set its host name and dropped its fixed IP');
}

// The rollout buttons apply only in their states: [pause, resume, abort] enabled.
async function rolloutButtons(page) {
  return Promise.all(['pause', 'resume', 'abort'].map(async (a) => !(await page.getByTestId(`rollout-${a}`).isDisabled())));
}

async function rollOut(page, watch) {
  watch.on = true;
  await page.setViewportSize(WIDE);
  await page.getByTestId('nav-images').click();
  await page.getByTestId(`rollout-${IMAGE}-2`).click();
  const form = page.getByTestId(`rollout-form-${IMAGE}-2`);
  await form.waitFor({ timeout: TIMEOUT });
  assert.ok(await page.getByTestId(`rollout-${IMAGE}-1`).isDisabled(), 'the promoted v1 offers a rollout');
  await page.getByTestId('rollout-form-canary').fill('2');
  await page.getByTestId('rollout-form-waves').fill('50%,100%');
  await page.getByTestId('rollout-form-soak').fill('10m');
  await page.getByTestId('rollout-form-max-failures').fill('0');
  await shot(page, 'rollout-form');
  await page.getByTestId('rollout-form-start').click();
  await page.waitForURL(/#\/rollout\/\d+$/, { timeout: TIMEOUT });
  const id = Number(page.url().match(/#\/rollout\/(\d+)$/)[1]);
  await waitForText(page.getByTestId('rollout-state'), /^running$/);
  await waitForText(page.getByTestId('rollout-title'), new RegExp(`#${id}: ${IMAGE} v1 → v2$`));
  await waitForText(page.getByTestId('stage-0-status'), /^current$/);
  await waitForText(page.getByTestId('stage-1-status'), /^waiting$/);
  await waitForText(page.getByTestId('stage-0-ok'), /^0\/2 ok$/);
  await waitForText(page.getByTestId('stage-0-soak'), /soak 10 min 0 s once 2 ok/);
  assert.deepEqual(await rolloutButtons(page), [true, false, true], 'running: pause and abort only');
  await shots(page, 'rollout-running');
  ok(`rollout #${id} of ${IMAGE} v2 started from the image page: a canary of 2, then waves 50% and 100%`);

  const rollout = await (await page.request.get(`${BASE_URL}/api/v1/rollouts/${id}`)).json();
  assert.equal(rollout.stages.length, 3);
  const canary = rollout.stages[0].members.map((m) => m.node);
  assert.equal(canary.length, 2);

  await page.getByTestId('rollout-pause').click();
  await waitForText(page.getByTestId('rollout-state'), /^paused$/);
  assert.deepEqual(await rolloutButtons(page), [false, true, true], 'paused: resume and abort only');
  await page.getByTestId('rollout-resume').click();
  await waitForText(page.getByTestId('rollout-state'), /^running$/);
  await page.getByTestId('nav-images').click();
  await waitForText(page.getByTestId(`active-rollout-${IMAGE}`), new RegExp(`rollout #${id} to v2: running`));
  assert.ok(await page.getByTestId(`rollout-${IMAGE}-2`).isDisabled(), 'a second rollout is offered while one runs');
  ok('pause and resume from the rollout page; the image page links the running rollout and offers no second one');

  // A canary machine fails to boot v2: the director halts the rollout at its next tick.
  await promisify(execFile)(FAIL_BOOT, [canary[0], '2'], { timeout: TIMEOUT });
  const banner = page.getByTestId(`banner-rollout-${id}`);
  await waitForText(banner, new RegExp(`rolled back.*${canary[0]} \\(no OS login in time\\)`, 's'), 40000);
  await shot(page, 'rollout-banner-images');
  await page.getByTestId('nav-overview').click();
  await waitForText(banner, new RegExp(`Rollout #${id} of ${IMAGE} v1 → v2 was rolled back`));
  await shots(page, 'rollout-banner-overview');
  ok(`the canary's failed boot rolled the rollout back; the banner on every page names ${canary[0]} and why`);

  await page.getByTestId(`banner-link-${id}`).click();
  await waitForText(page.getByTestId('rollout-state'), /^rolled back$/);
  await waitForText(page.getByTestId('rollout-reason'), new RegExp(canary[0]));
  await waitForText(page.getByTestId('rollout-failure'), new RegExp(`^${canary[0]} \\(no OS login in time\\)$`));
  await waitForText(page.getByTestId('stage-0-status'), /^halted$/);
  await waitForText(page.getByTestId(`member-${canary[0]}`), /failed/);
  await waitForText(page.getByTestId('stage-0-failed'), /^1 failed \(budget 0\)$/);
  const kinds = await page.getByTestId('rollout-event').evaluateAll((items) => items.map((i) => i.dataset.kind));
  for (const kind of ['started', 'paused', 'resumed', 'halted']) assert.ok(kinds.includes(kind), `history lacks ${kind}: ${kinds}`);
  assert.deepEqual(await rolloutButtons(page), [false, true, true], 'rolled back: resume and abort only');
  await shots(page, 'rollout-halted');
  ok('the rollout page shows the halt: reason, failed machine, halted stage, history');

  await page.getByTestId('rollout-abort').click();
  await page.getByTestId('confirm-dialog').waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.getByTestId('confirm-ok').click();
  await waitForText(page.getByTestId('rollout-state'), /^aborted$/);
  assert.deepEqual(await rolloutButtons(page), [false, false, false], 'aborted: nothing applies');
  await banner.waitFor({ state: 'detached', timeout: TIMEOUT });
  await page.getByTestId('nav-rollouts').click();
  await waitForText(page.getByTestId(`rollout-row-${id}`), /aborted/);
  await shots(page, 'rollouts-list');
  ok('abort after confirmation ends the rollout; the banner is gone; the list shows it aborted');
  watch.on = false;
}

await runBrowser('', async (page, watch) => {
  // Console errors and refused requests fail only the steps that watch for them: the earlier steps provoke
  // refusals on purpose.
  watch.on = false;
  await login(page);
  await importMachines(page);
  await bulkAssign(page);
  await promoteAndRollBack(page);
  await liveEvent(page);
  await maintainFromMachine(page);
  await bootWaterfall(page);
  await enrollDiscovered(page);
  await rollOut(page, watch);
});
