// The dashboard's entry point: the session (login form, CSRF token), and a hash router mounting one view at a time.
import { api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import * as jobs from './jobs.js';
import * as overview from './overview.js';
import * as machines from './machines.js';
import * as discovered from './discovered.js';
import * as images from './images.js';
import * as machine from './machine.js';
import * as rollouts from './rollouts.js';
import * as groups from './groups.js';
import * as access from './access.js';
import * as audit from './audit.js';
import * as server from './server.js';
import * as servers from './servers.js';

const view = document.getElementById('view');
const loginSection = document.getElementById('login');
const loginForm = document.getElementById('login-form');
const loginError = document.getElementById('login-error');
let unmount = () => {};

const routes = [
  [/^#\/overview$/, () => overview.mount(view)],
  [/^#\/machines$/, () => machines.mount(view)],
  [/^#\/discovered$/, () => discovered.mount(view)],
  [/^#\/images$/, () => images.mount(view)],
  [/^#\/machine\/(.+)$/, (m) => machine.mount(view, decodeURIComponent(m[1]))],
  [/^#\/rollouts$/, () => rollouts.mountList(view)],
  [/^#\/rollout\/(\d+)$/, (m) => rollouts.mountRollout(view, m[1])],
  [/^#\/groups$/, () => groups.mountList(view)],
  [/^#\/group\/(.+)$/, (m) => groups.mountGroup(view, decodeURIComponent(m[1]))],
  [/^#\/access$/, () => access.mount(view)],
  [/^#\/audit$/, () => audit.mount(view)],
  [/^#\/server$/, () => server.mount(view)],
  [/^#\/servers$/, () => servers.mount(view)],
];
const BANNER_MS = 10000;
let bannerTimer;

function route() {
  unmount();
  unmount = () => {};
  const hash = window.location.hash || '#/overview';
  for (const [pattern, mountView] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const link of document.querySelectorAll('#nav a')) {
      // #/server is not current on #/servers: a link matches its hash and what lies under it (?..., /...).
      const href = link.getAttribute('href');
      if (hash.startsWith(href) && !/^\w/.test(hash.slice(href.length))) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    unmount = mountView(match) || unmount;
    rollouts.refreshBanner();
    view.focus({ preventScroll: true });
    return;
  }
  window.location.hash = '#/overview';
}

function signedIn(session) {
  setCsrfToken(session.csrf_token);
  jobs.restore();
  document.getElementById('user-name').textContent = session.username;
  loginSection.hidden = true;
  view.hidden = false;
  document.getElementById('nav').hidden = false;
  document.getElementById('user').hidden = false;
  clearInterval(bannerTimer);
  bannerTimer = setInterval(rollouts.refreshBanner, BANNER_MS);
  route();
}

function signedOut(message = '') {
  unmount();
  unmount = () => {};
  setCsrfToken('');
  jobs.forget();
  clearInterval(bannerTimer);
  document.getElementById('banner').hidden = true;
  view.hidden = true;
  view.replaceChildren();
  document.getElementById('nav').hidden = true;
  document.getElementById('user').hidden = true;
  loginSection.hidden = false;
  loginError.textContent = message;
  document.getElementById('login-password').focus();
}

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  loginError.textContent = '';
  const data = new FormData(loginForm);
  try {
    signedIn(await api.login(data.get('username'), data.get('password')));
    loginForm.reset();
  } catch (error) {
    loginError.textContent = error.status === 401 ? 'Wrong user name or password.' : error.message;
  }
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await api.logout();
  } finally {
    signedOut();
  }
});

setUnauthorizedHandler(() => signedOut('Your session has ended: sign in again.'));
window.addEventListener('hashchange', () => {
  if (loginSection.hidden) route();
});

jobs.mountIndicator(document.getElementById('jobs-indicator'));
api.me().then(signedIn, () => signedOut());
