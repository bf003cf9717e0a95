// Users and API tokens: who can sign in, the tokens scripts use (name, scope, expiry, last use), creating a token
// (its secret is shown once, with a copy button) and revoking one after a confirmation.
import { request } from './api.js';
import { h, clear, toast, confirmAction, field, formatTime } from './dom.js';
import { enhanceTable } from './table.js';

const DAY_S = 24 * 3600;
// label -> lifetime in seconds (null: never expires)
const EXPIRIES = [['30 days', 30 * DAY_S], ['1 day', DAY_S], ['90 days', 90 * DAY_S], ['1 year', 366 * DAY_S],
  ['never', null]];

const accessApi = {
  users: () => request('GET', '/api/v1/users'),
  tokens: () => request('GET', '/api/v1/tokens'),
  createToken: (body) => request('POST', '/api/v1/tokens', { body }),
  revokeToken: (id) => request('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`),
};

const head = (titles) => h('thead', {}, h('tr', {}, titles.map((t) => h('th', { scope: 'col' }, t))));

// A time cell that sorts by the time itself; `never` when there is none.
function timeCell(ms) {
  if (ms === null || ms === undefined) return h('td', {}, 'never');
  return h('td', { class: 'nowrap', dataset: { sort: ms } }, formatTime(ms));
}

function expiryCell(expires) {
  const cell = timeCell(expires);
  if (expires && expires <= Date.now()) cell.append(h('span', { class: 'badge bad' }, 'expired'));
  return cell;
}

// Copies `text`; where the Clipboard API is refused, selects it in `field` for the operator to copy.
async function copy(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Token copied to the clipboard', 'success');
  } catch {
    field.select();
    toast('Copying was refused by the browser: the token is selected, copy it with Ctrl+C', 'info');
  }
}

// The new token's secret, once, with a warning; "Done" removes it from the page.
function secretNotice(created, onDone) {
  const field = h('input', { class: 'mono secret', readonly: true, value: created.token, testid: 'token-secret',
    'aria-label': `Secret of token ${created.name}`, size: 50 });
  return h('div', { class: 'secret-notice', role: 'alert', testid: 'token-secret-notice' },
    h('p', {}, h('strong', {}, `Token ${created.name} created. `),
      'Copy its secret now: it is not stored in readable form and will not be shown again.'),
    h('div', { class: 'toolbar' }, field,
      h('button', { type: 'button', class: 'primary', testid: 'token-copy', onclick: () => copy(created.token, field) },
        'Copy'),
      h('button', { type: 'button', testid: 'token-secret-done', onclick: onDone }, 'Done')));
}

export function mount(root) {
  const users = h('tbody', { testid: 'users-body' });
  const tokens = h('tbody', { testid: 'tokens-body' });
  const secretSlot = h('div', { testid: 'token-secret-slot' });
  const error = h('p', { class: 'summary error', role: 'alert', testid: 'token-create-error' });
  let disposed = false;

  async function loadUsers() {
    try {
      const list = await accessApi.users();
      if (disposed) return;
      clear(users, list.items.map((user) => h('tr', { testid: `user-${user.username}` },
        h('td', {}, user.username), timeCell(user.created_at), timeCell(user.last_login_at))));
    } catch (failure) {
      clear(users, h('tr', {}, h('td', { colspan: 3, class: 'empty error' }, `Could not load users: ${failure.message}`)));
    }
  }

  async function revoke(token) {
    if (!await confirmAction(`Revoke token ${token.name}?`,
      'Scripts using it are refused from now on. This cannot be undone.', 'Revoke')) return;
    try {
      await accessApi.revokeToken(token.id);
      toast(`Token ${token.name} revoked`, 'success');
    } catch (failure) {
      toast(`Could not revoke ${token.name}: ${failure.message}`, 'error');
    }
    loadTokens();
  }

  async function loadTokens() {
    try {
      const list = await accessApi.tokens();
      if (disposed) return;
      clear(tokens, list.items.length === 0
        ? h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No API token.'))
        : [...list.items].sort((a, b) => b.created - a.created).map((token) => h('tr', { testid: `token-${token.name}` },
          h('td', {}, token.name), h('td', {}, token.user),
          h('td', {}, h('span', { class: `badge ${token.scope === 'admin' ? 'warn' : ''}` }, token.scope)),
          timeCell(token.created),
          timeCell(token.last_used),
          expiryCell(token.expires),
          h('td', { class: 'row-actions' }, h('button', { type: 'button', class: 'danger',
            testid: `token-revoke-${token.name}`, onclick: () => revoke(token) }, 'Revoke')))));
    } catch (failure) {
      clear(tokens, h('tr', {}, h('td', { colspan: 7, class: 'empty error' }, `Could not load tokens: ${failure.message}`)));
    }
  }

  const name = h('input', { required: true, maxlength: 100, testid: 'token-name', placeholder: 'backup-script' });
  const scope = h('select', { testid: 'token-scope' },
    h('option', { value: 'admin' }, 'admin: may change anything'), h('option', { value: 'read' }, 'read: may only look'));
  const expiry = h('select', { testid: 'token-expiry' },
    EXPIRIES.map(([label, seconds], i) => h('option', { value: String(i), selected: seconds === 30 * DAY_S }, label)));
  const form = h('form', { class: 'toolbar', testid: 'token-create-form' },
    field('Name', name), field('Scope', scope), field('Expires in', expiry),
    h('button', { type: 'submit', class: 'primary', testid: 'token-create' }, 'Create token'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const body = { name: name.value.trim(), scope: scope.value, expires_in: EXPIRIES[Number(expiry.value)][1] };
    try {
      const created = await accessApi.createToken(body);
      form.reset();
      clear(secretSlot, secretNotice(created, () => clear(secretSlot)));
      loadTokens();
    } catch (failure) {
      error.textContent = `Could not create the token: ${failure.message}`;
    }
  });

  const usersTable = h('table', { class: 'table', testid: 'users-table' },
    head(['User name', 'Created', 'Last sign-in']), users);
  const tokensTable = h('table', { class: 'table', testid: 'tokens-table' },
    head(['Name', 'Owner', 'Scope', 'Created', 'Last used', 'Expires', '']), tokens);
  enhanceTable(usersTable);
  const { filter } = enhanceTable(tokensTable, { filter: 'Filter tokens', testid: 'tokens-filter' });
  clear(root,
    h('h1', {}, 'Users and tokens'),
    h('section', { class: 'card' }, h('h2', {}, 'Users'),
      h('p', { class: 'hint' }, 'Accounts that sign in to the dashboard; ', h('code', {}, 'bootherd admin'), ' manages them.'),
      h('div', { class: 'table-scroll' }, usersTable)),
    h('section', { class: 'card' }, h('h2', {}, 'API tokens'),
      h('p', { class: 'hint' }, 'Scripts send a token as "Authorization: Bearer …". A read token can only look.'),
      secretSlot,
      h('div', { class: 'toolbar' }, filter),
      h('div', { class: 'table-scroll' }, tokensTable),
      h('h3', {}, 'Create a token'), form, error));
  loadUsers();
  loadTokens();
  return () => { disposed = true; };
}
