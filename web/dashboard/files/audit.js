// The audit log: who changed what and when, newest first, narrowed by actor, action, target and a time range,
// a page at a time; each entry's detail laid out as fields rather than raw JSON.
import { request } from './api.js';
import { h, clear, field, formatTime } from './dom.js';
import { enhanceTable } from './table.js';

const PAGE_SIZE = 50;
// An action filter matches that action and the ones under it: "group" matches group.add, group.delete, ...
const KNOWN_ACTIONS = ['group', 'node', 'image', 'token', 'auth.login_failed', 'user.login', 'group.add', 'group.update', 'group.delete', 'node.add',
  'node.update', 'node.delete', 'node.import', 'node.enroll', 'image.import', 'image.upload', 'image.edit',
  'image.commit', 'image.discard', 'image.promote', 'image.rollback', 'image.flatten', 'token.create',
  'token.delete'];

const auditApi = {
  list: (query) => request('GET', `/api/v1/audit?${new URLSearchParams(query)}`),
};

// Detail fields holding a moment (epoch milliseconds): shown as local times.
const TIME_KEY = /(^|_)(at|expires|created|last_used|since|until|started|finished)$/;
const EPOCH_2001_MS = 978307200000;

const scalar = (key, value) => {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number' && TIME_KEY.test(key) && value > EPOCH_2001_MS) return formatTime(value, { seconds: true });
  return String(value);
};

// An entry's detail: one "key: value" line per field, nested objects and lists indented below their key.
function detailView(detail) {
  if (detail === null || detail === undefined || (typeof detail === 'object' && Object.keys(detail).length === 0)) {
    return h('span', { class: 'muted' }, '—');
  }
  if (typeof detail !== 'object') return h('span', {}, scalar('', detail));
  const entries = Array.isArray(detail) ? detail.map((value, i) => [String(i + 1), value]) : Object.entries(detail);
  return h('dl', { class: 'audit-detail' }, entries.map(([key, value]) => [
    h('dt', {}, key.replace(/_/g, ' ')),
    h('dd', {}, value !== null && typeof value === 'object' ? detailView(value) : scalar(key, value))]));
}

// A datetime-local input's value as epoch milliseconds in the browser's time zone, or '' when empty.
const toMs = (input) => (input.value ? String(new Date(input.value).getTime()) : '');

export function mount(root) {
  const actor = h('input', { type: 'search', testid: 'audit-actor', placeholder: 'exactly: admin', size: 12 });
  const action = h('input', { type: 'search', testid: 'audit-action', placeholder: 'group or group.add', size: 16,
    list: 'audit-actions' });
  const target = h('input', { type: 'search', testid: 'audit-target', placeholder: 'part of it: lab', size: 16 });
  const since = h('input', { type: 'datetime-local', testid: 'audit-since' });
  const until = h('input', { type: 'datetime-local', testid: 'audit-until' });
  const body = h('tbody', { testid: 'audit-body' });
  const total = h('span', { class: 'muted', testid: 'audit-total' });
  const prev = h('button', { type: 'button', testid: 'audit-prev' }, '‹ Newer');
  const next = h('button', { type: 'button', testid: 'audit-next' }, 'Older ›');
  let offset = 0;
  let disposed = false;
  let loading = 0;

  const query = () => {
    const q = { limit: PAGE_SIZE, offset };
    const values = { actor: actor.value.trim(), action: action.value.trim(), target: target.value.trim(),
      since: toMs(since), until: toMs(until) };
    for (const [key, value] of Object.entries(values)) if (value) q[key] = value;
    return q;
  };

  async function load() {
    loading += 1;
    const mine = loading;
    try {
      const page = await auditApi.list(query());
      if (disposed || mine !== loading) return;
      total.textContent = page.total === 0 ? 'no entry'
        : `${offset + 1}–${offset + page.items.length} of ${page.total}`;
      prev.disabled = offset === 0;
      next.disabled = offset + page.items.length >= page.total;
      clear(body, page.items.length === 0
        ? h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No entry matches.'))
        : page.items.map((entry) => h('tr', { testid: 'audit-entry', dataset: { action: entry.action } },
          h('td', { class: 'nowrap', dataset: { sort: entry.at, label: 'Time' } },
            h('time', { datetime: new Date(entry.at).toISOString() }, formatTime(entry.at, { seconds: true }))),
          h('td', { dataset: { label: 'Actor' } }, entry.actor),
          h('td', { class: 'mono', dataset: { label: 'Action' } }, entry.action),
          h('td', { class: 'mono', dataset: { label: 'Target' } }, entry.target),
          h('td', { dataset: { label: 'Detail' } }, detailView(entry.detail)))));
    } catch (error) {
      if (mine !== loading) return;
      total.textContent = '';
      clear(body, h('tr', {}, h('td', { colspan: 5, class: 'empty error' }, `Could not load the audit log: ${error.message}`)));
    }
  }

  const filters = h('form', { class: 'toolbar', testid: 'audit-filters' },
    field('Actor', actor), field('Action', action), field('Target', target), field('From', since), field('To', until),
    h('button', { type: 'reset', testid: 'audit-clear' }, 'Clear'),
    h('datalist', { id: 'audit-actions' }, KNOWN_ACTIONS.map((a) => h('option', { value: a }))));
  let typing;
  const refilter = () => {
    clearTimeout(typing);
    typing = setTimeout(() => { offset = 0; load(); }, 250);
  };
  filters.addEventListener('input', refilter);
  filters.addEventListener('reset', () => setTimeout(refilter));
  filters.addEventListener('submit', (event) => { event.preventDefault(); refilter(); });
  prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE_SIZE); load(); });
  next.addEventListener('click', () => { offset += PAGE_SIZE; load(); });

  const table = h('table', { class: 'table stacked', testid: 'audit-table' },
    h('thead', {}, h('tr', {}, ['Time', 'Actor', 'Action', 'Target', 'Detail']
      .map((t) => h('th', { scope: 'col', dataset: t === 'Detail' ? { nosort: '' } : undefined }, t)))),
    body);
  enhanceTable(table);  // sorts the page shown; the filters above ask the server
  clear(root,
    h('div', { class: 'title-row' }, h('h1', {}, 'Audit log'), total, h('span', { class: 'spacer' }), prev, next),
    h('p', { class: 'hint' }, 'Every change made through the API or the dashboard, newest first, in your local time.'),
    filters,
    h('div', { class: 'table-scroll' }, table));
  load();
  return () => { disposed = true; clearTimeout(typing); };
}
