// What every browser test file shares: its environment, screenshots at the desktop and a phone's width, waits
// that fail with what they last saw, and a Chromium session that fails the test on an uncaught page error, a
// failed request, a request to anywhere but the server, or (in steps that watch for them) a console error.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
};
export const BASE_URL = env('BASE_URL');
export const PASSWORD = env('PASSWORD');
export const ARTIFACTS = env('ARTIFACTS');
const { chromium } = createRequire(path.join(env('NODE_DIR'), 'package.json'))('playwright-core');

export const TIMEOUT = 15000;
export const WIDE = { width: 1400, height: 900 };
export const PHONE = { width: 390, height: 844 };

export const ok = (message) => console.log(`ok: ${message}`);

// Screenshot files are named <prefix><step>-<name>.png, numbered in the order taken.
let prefix = '';
let step = 0;

export async function shot(page, name) {
  step += 1;
  const file = path.join(ARTIFACTS, `${prefix}${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

// The same page at the desktop width and a phone's.
export async function shots(page, name) {
  await page.setViewportSize(WIDE);
  await shot(page, `${name}-1400`);
  await page.setViewportSize(PHONE);
  await shot(page, `${name}-390`);
  await page.setViewportSize(WIDE);
}

// Waits until the locator's text matches `pattern`; fails with the last text seen.
export async function waitForText(locator, pattern, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let text = '';
  while (Date.now() < deadline) {
    text = (await locator.count()) > 0 ? await locator.first().innerText() : '<absent>';
    if (pattern.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`waited ${timeout} ms for ${pattern} in ${locator}; last text: ${text}`);
}

export async function waitForCount(locator, count, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = await locator.count();
    if (seen === count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`waited ${timeout} ms for ${count} of ${locator}; saw ${seen}`);
}

// Logs in as admin and waits for the overview.
export async function signIn(page) {
  await page.goto(BASE_URL);
  await page.getByTestId('login-form').waitFor({ timeout: TIMEOUT });
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await waitForText(page.getByTestId('user-name'), /^admin$/);
}

// Runs `steps(page, watch)` in a fresh Chromium profile and exits 0 only if nothing failed. Console errors and
// failed responses (4xx/5xx) count while `watch.on` is true (set it false around steps that provoke refusals
// on purpose); uncaught page errors, aborted requests and requests to anywhere but the server always count.
export async function runBrowser(screenshotPrefix, steps) {
  prefix = screenshotPrefix;
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'bootherd-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: WIDE,
    timeout: 60000,
  });
  const failures = [];
  const watch = { on: true };
  let page;
  try {
    page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('pageerror', (error) => failures.push(`uncaught error in the page: ${error.message}`));
    page.on('console', (message) => {
      if (watch.on && message.type() === 'error') failures.push(`console error: ${message.text()}`);
    });
    page.on('requestfailed', (request) => {
      // Leaving a page cancels its event stream and pending polls: that is not a failure.
      const reason = request.failure()?.errorText ?? '';
      if (!reason.includes('ERR_ABORTED')) failures.push(`request failed: ${request.url()} (${reason})`);
    });
    page.on('response', (response) => {
      if (watch.on && response.status() >= 400) {
        failures.push(`${response.request().method()} ${response.url()} answered ${response.status()}`);
      }
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(BASE_URL) && !request.url().startsWith('data:')) {
        failures.push(`the page fetched ${request.url()} from outside the server`);
      }
    });
    await steps(page, watch);
  } catch (error) {
    failures.push(error.stack || String(error));
    if (page) await shot(page, 'failure').catch(() => {});
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  for (const failure of failures) console.log(`FAIL: ${failure}`);
  process.exit(failures.length === 0 ? 0 : 1);
}
