// The server itself: version and uptime, where it listens, its DHCP mode and range, the host's interfaces, and
// the image store's disk: used by images and by machines' disks, and free, as a bar with the figures in GiB.
import { request } from './api.js';
import { h, clear, formatTime } from './dom.js';
import { enhanceTable } from './table.js';

const REFRESH_MS = 10000;
const GIB = 1024 ** 3;

const serverApi = { status: () => request('GET', '/api/v1/server') };

function formatUptime(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${days} d ${hours} h ${minutes} min`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${s % 60} s`;
  return `${s} s`;
}

const gib = (bytes) => `${(bytes / GIB).toFixed(2)} GiB`;
const percent = (part, whole) => (whole > 0 ? (100 * part) / whole : 0);

const DHCP_MODES = {
  off: 'off: no DHCP service here; the network\'s DHCP server must point machines at this server',
  proxy: 'proxy: boot information only, beside the network\'s DHCP server',
  full: 'full: hands out addresses and boot information',
};

function list(values, testid) {
  if (!values || values.length === 0) return h('span', { class: 'muted', testid }, 'none');
  return h('ul', { class: 'plain mono', testid }, values.map((v) => h('li', {}, v)));
}

function overview(server) {
  const started = server.started_at ? ` (since ${formatTime(server.started_at)})` : '';
  return h('section', { class: 'card' }, h('h2', {}, 'Service'),
    h('dl', { class: 'details' },
      h('dt', {}, 'Version'), h('dd', { class: 'mono', testid: 'server-version' }, server.version),
      h('dt', {}, 'Uptime'), h('dd', { testid: 'server-uptime' }, formatUptime(server.uptime_s), started),
      h('dt', {}, 'Data directory'), h('dd', { class: 'mono' }, server.data_dir),
      h('dt', {}, 'iSCSI'), h('dd', {}, list(server.listeners?.iscsi, 'server-iscsi')),
      h('dt', {}, 'HTTP'), h('dd', {}, list(server.listeners?.http, 'server-http'))));
}

function dhcp(server) {
  const mode = server.dhcp?.mode ?? 'off';
  const range = server.dhcp?.range;
  return h('section', { class: 'card' }, h('h2', {}, 'DHCP'),
    h('dl', { class: 'details' },
      h('dt', {}, 'Mode'), h('dd', { testid: 'server-dhcp-mode' }, DHCP_MODES[mode] ?? mode),
      h('dt', {}, 'Interface'), h('dd', { class: 'mono' }, server.dhcp?.interface ?? '—'),
      h('dt', {}, 'Address range'), h('dd', { class: 'mono', testid: 'server-dhcp-range' },
        range ? `${range.first} – ${range.last}` : 'none (not handing out addresses)')));
}

function interfaces(server) {
  const items = server.interfaces ?? [];
  const table = h('table', { class: 'table compact', testid: 'server-interfaces' },
    h('thead', {}, h('tr', {}, ['Name', 'State', 'MAC', 'Addresses'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, items.length === 0
      ? h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No interface reported.'))
      : items.map((i) => h('tr', { testid: `interface-${i.name}` },
        h('td', { class: 'mono' }, i.name),
        h('td', {}, h('span', { class: `badge ${i.up ? 'good' : ''}` }, i.up ? 'up' : 'down')),
        h('td', { class: 'mono' }, i.mac || '—'),
        h('td', {}, list(i.addresses))))));
  enhanceTable(table);
  return h('section', { class: 'card' }, h('h2', {}, 'Network interfaces'), h('div', { class: 'table-scroll' }, table));
}

// The filesystem holding the store: images, machines' disks, everything else on it, and free space.
function store(server) {
  const s = server.store ?? {};
  const total = s.bytes_total ?? 0;
  const free = s.bytes_free ?? 0;
  const images = s.bytes_used_images ?? 0;
  const disks = s.bytes_used_disks ?? 0;
  const other = Math.max(0, total - free - images - disks);
  const parts = [['images', 'Images', images], ['disks', 'Machines\' disks', disks], ['other', 'Other files', other],
    ['free', 'Free', free]];
  return h('section', { class: 'card' }, h('h2', {}, 'Image store disk'),
    h('div', { class: 'disk-bar', role: 'img', testid: 'server-disk-bar',
      'aria-label': `${gib(total - free)} used of ${gib(total)}, ${gib(free)} free` },
    parts.map(([key, label, bytes]) => h('span', { class: `disk-${key}`, title: `${label}: ${gib(bytes)}`,
      style: `width: ${percent(bytes, total).toFixed(2)}%` }))),
    h('ul', { class: 'disk-legend' }, parts.map(([key, label, bytes]) => h('li', { testid: `server-disk-${key}` },
      h('span', { class: `key disk-${key}` }), `${label}: `, h('strong', {}, gib(bytes)),
      ` (${percent(bytes, total).toFixed(1)} %)`))),
    h('p', { testid: 'server-disk-total' }, `${gib(total - free)} used of ${gib(total)}; ${gib(free)} free.`),
    h('p', { class: 'muted', testid: 'server-store-counts' },
      `${s.images ?? 0} image(s), ${s.versions ?? 0} version(s), ${s.nodes ?? 0} machine disk(s).`));
}

export function mount(root) {
  const content = h('div', { testid: 'server-content' }, 'Loading…');
  let disposed = false;

  async function load() {
    try {
      const server = await serverApi.status();
      if (disposed) return;
      clear(content, h('div', { class: 'server-grid' }, overview(server), dhcp(server)), store(server),
        interfaces(server));
    } catch (error) {
      clear(content, h('p', { class: 'error' }, `Could not load the server's status: ${error.message}`));
    }
  }

  clear(root, h('h1', {}, 'Server'), content);
  load();
  const timer = setInterval(load, REFRESH_MS);
  return () => { disposed = true; clearInterval(timer); };
}
