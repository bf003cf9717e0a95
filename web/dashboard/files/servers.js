// The servers sharing the catalog (serve --server-name, docs/SCALE-OUT.md): live or down, where machines are
// sent, the machines each homes and boots, its capacity, how old its heartbeat is, and the versions it holds.
import { request } from './api.js';
import { h, clear, formatTime } from './dom.js';
import { enhanceTable } from './table.js';

const REFRESH_MS = 5000;
const COLUMNS = ['Name', 'State', 'Portal', 'Homed', 'Booting', 'Sessions', 'Capacity', 'Heartbeat', 'Versions'];

const serversApi = { list: () => request('GET', '/api/v1/servers') };

// "4 s ago", "3 min ago", "2 h ago", "5 d ago".
function ago(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

function row(server, now) {
  const versions = server.versions.map((v) => `${v.image} v${v.version}`).join(', ');
  const cap = server.max_booting > 0 ? ` (at most ${server.max_booting} booting)` : '';
  return h('tr', { class: server.live ? '' : 'bad', testid: `server-${server.name}`,
    dataset: { state: server.live ? 'live' : 'down' } },
  h('td', { class: 'mono', dataset: { label: 'Name' } }, server.name),
  h('td', { dataset: { label: 'State', sort: server.live ? 'live' : 'down' } },
    h('span', { class: `badge ${server.live ? 'good' : 'bad'}`, testid: 'server-state' }, server.live ? 'live' : 'down')),
  h('td', { class: 'mono', dataset: { label: 'Portal' } }, server.iscsi_portal),
  h('td', { dataset: { label: 'Homed' } }, String(server.homed)),
  h('td', { dataset: { label: 'Booting' } }, String(server.booting)),
  h('td', { dataset: { label: 'Sessions' } }, String(server.sessions)),
  h('td', { dataset: { label: 'Capacity' }, title: `placement weight${cap}` }, String(server.capacity)),
  h('td', { class: 'nowrap', dataset: { label: 'Heartbeat', sort: server.heartbeat_at },
    title: formatTime(server.heartbeat_at, { seconds: true }) }, ago(now - server.heartbeat_at)),
  h('td', { dataset: { label: 'Versions' } }, versions || '—'));
}

export function mount(root) {
  const body = h('tbody', { testid: 'servers-body' });
  const summary = h('span', { class: 'muted', testid: 'servers-summary' });
  const hint = h('p', { class: 'hint' });
  let disposed = false;

  async function load() {
    try {
      const list = await serversApi.list();
      if (disposed) return;
      const down = list.items.filter((s) => !s.live).length;
      summary.textContent = list.items.length === 0 ? '' : `${list.items.length} server(s), ${down} down`;
      hint.textContent = `A server whose last heartbeat is older than ${list.heartbeat_timeout_s} s is down: `
        + 'it takes no machines, and the machines it homed boot elsewhere.';
      clear(body, list.items.length === 0
        ? h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'empty' },
          'No server is registered: this one runs alone (serve --server-name registers it in a shared catalog).'))
        : list.items.map((server) => row(server, list.now)));
    } catch (error) {
      if (disposed) return;
      clear(body, h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'empty error' },
        `Could not load the servers: ${error.message}`)));
    }
  }

  const table = h('table', { class: 'table stacked', testid: 'servers-table' },
    h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', { scope: 'col' }, t)))), body);
  const { filter } = enhanceTable(table, { filter: 'Filter servers', testid: 'servers-filter' });
  clear(root,
    h('div', { class: 'title-row' }, h('h1', {}, 'Servers'), summary, h('span', { class: 'spacer' }), filter),
    hint,
    h('div', { class: 'table-scroll' }, table));
  load();
  const timer = setInterval(load, REFRESH_MS);
  return () => { disposed = true; clearInterval(timer); };
}
