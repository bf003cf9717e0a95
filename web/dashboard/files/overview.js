// Overview: machines booted / booting / off, storage saved by differencing, throughput over time, live sessions.
import { api } from './api.js';
import { mountOutcomes } from './boots.js';
import { renderThroughputChart } from './chart.js';
import { h, clear, formatBytes, formatRate } from './dom.js';
import { enhanceTable } from './table.js';

const POLL_MS = 2000;
const SAMPLES = 60;

function stat(label, testid, className = '') {
  const value = h('span', { class: 'value', testid }, '…');
  return { element: h('div', { class: `stat ${className}` }, h('span', { class: 'label' }, label), value), value };
}

export function mount(root) {
  const total = stat('Machines', 'stat-total');
  const booted = stat('Booted', 'stat-booted', 'good');
  const booting = stat('Booting', 'stat-booting', 'warn');
  const off = stat('Off', 'stat-off', 'muted');
  const saved = stat('Saved by differencing', 'stat-saved');
  const savedDetail = h('p', { class: 'hint', testid: 'storage-detail' });
  const rates = h('p', { class: 'hint', testid: 'throughput-now' });
  const chart = h('div', { class: 'chart-box', testid: 'throughput-chart' });
  const sessions = h('tbody');
  const sessionCount = h('span', { testid: 'session-count' }, '0');
  const sessionsTable = h('table', { class: 'table', testid: 'sessions-table' },
    h('thead', {}, h('tr', {}, ['Machine', 'Initiator', 'Address', 'Read', 'Written', 'IOPS']
      .map((title) => h('th', { scope: 'col' }, title)))),
    sessions);
  enhanceTable(sessionsTable);
  const outcomes = mountOutcomes();
  const read = [];
  const write = [];
  const times = [];

  clear(root,
    h('h1', {}, 'Overview'),
    h('section', { class: 'stats', 'aria-label': 'Machines' },
      total.element, booted.element, booting.element, off.element, saved.element),
    outcomes.element,
    h('section', { class: 'card' },
      h('h2', {}, 'Storage'), savedDetail),
    h('section', { class: 'card' },
      h('h2', {}, 'Throughput'), rates, chart,
      h('p', { class: 'legend' }, h('span', { class: 'key read' }), 'read ', h('span', { class: 'key write' }), 'write')),
    h('section', { class: 'card' },
      h('h2', {}, 'iSCSI sessions (', sessionCount, ')'),
      h('div', { class: 'table-scroll' }, sessionsTable)));

  const draw = () => renderThroughputChart(chart, [
    { label: 'read', className: 'read', values: read },
    { label: 'write', className: 'write', values: write },
  ], times, SAMPLES * POLL_MS);
  // Drawn at the box's width: again when the width changes (a phone turned, a window resized).
  let drawnWidth = 0;
  const resized = new ResizeObserver(() => {
    if (times.length > 0 && chart.clientWidth !== drawnWidth) draw();
    drawnWidth = chart.clientWidth;
  });
  resized.observe(chart);

  async function poll() {
    try {
      const [o, s] = await Promise.all([api.overview(), api.sessions(), outcomes.refresh()]);
      total.value.textContent = o.nodes.total;
      booted.value.textContent = o.nodes.booted;
      booting.value.textContent = o.nodes.booting;
      off.value.textContent = o.nodes.off;
      saved.value.textContent = `${Math.round(o.storage.saved_percent)}%`;
      savedDetail.textContent = `Images ${formatBytes(o.storage.images_bytes)} + machine disks ` +
        `${formatBytes(o.storage.nodes_bytes)} instead of ${formatBytes(o.storage.full_copies_bytes)} ` +
        'as full copies.';
      read.push(o.throughput.read_bps);
      write.push(o.throughput.write_bps);
      times.push(Date.now());
      if (read.length > SAMPLES) { read.shift(); write.shift(); times.shift(); }
      rates.textContent = `Now: read ${formatRate(o.throughput.read_bps)}, write ${formatRate(o.throughput.write_bps)}`;
      draw();
      sessionCount.textContent = s.items.length;
      clear(sessions, s.items.length === 0
        ? h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No machine is connected.'))
        : s.items.map((x) => h('tr', {},
          h('td', {}, x.node ? h('a', { href: `#/machine/${encodeURIComponent(x.node)}` }, x.node) : '—'),
          h('td', {}, x.initiator), h('td', {}, x.address),
          h('td', {}, formatBytes(x.bytes_read)), h('td', {}, formatBytes(x.bytes_written)),
          h('td', {}, Math.round(x.iops)))));
    } catch (error) {
      rates.textContent = `Could not refresh: ${error.message}`;
    }
  }

  poll();
  const timer = setInterval(poll, POLL_MS);
  return () => { clearInterval(timer); resized.disconnect(); };
}
