// Boot records: a machine's boots as a waterfall (one row per boot, a bar per step on a time scale shared by
// the rows, the outcome as a badge) and the outcomes per image version for the overview.
import { request } from './api.js';
import { h, clear, formatTime } from './dom.js';
import { enhanceTable } from './table.js';

const BOOT_LIMIT = 20;
const STEP_LABELS = {
  dhcp: 'DHCP', tftp: 'TFTP', script: 'Script', firmware_login: 'Firmware login', first_read: 'First read',
  os_login: 'OS login', health: 'Health', end: 'End',
};
const REASONS = {
  health_ok: 'health report ok', stayed_up: 'stayed up', no_os_login: 'no OS login in time',
  reboot_loop: 'rebooted before ok', health_failed: 'health report failed',
};

export function formatDuration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function outcomeBadge(outcome) {
  const kind = { ok: 'good', failed: 'bad', running: 'warn' }[outcome] || '';
  return h('span', { class: `badge ${kind}`, testid: 'boot-outcome' }, outcome);
}

// Each step as a segment from the step before it (or the boot's start) to the step itself.
function segments(boot, now) {
  const result = [];
  let from = boot.started_at;
  for (const { step, at } of boot.steps) {
    result.push({ step, from, to: Math.max(at, from) });
    from = Math.max(at, from);
  }
  if (boot.outcome === 'running') result.push({ step: 'running', from, to: Math.max(now, from) });
  return result;
}

function bootRow(boot, scale, now) {
  const parts = segments(boot, now);
  const track = h('div', { class: 'waterfall-track' });
  const chips = h('div', { class: 'waterfall-steps' });
  for (const part of parts) {
    const duration = part.to - part.from;
    const label = part.step === 'running' ? 'running' : STEP_LABELS[part.step] || part.step;
    const text = `${label}: ${formatDuration(duration)}${part.step === 'running' ? ' so far' : ''}`;
    track.append(h('div', {
      class: `waterfall-bar step-${part.step}`,
      title: text,
      testid: 'boot-step',
      dataset: { step: part.step },
      style: `left: ${((part.from - boot.started_at) / scale) * 100}%; width: ${(duration / scale) * 100}%;`,
    }));
    if (part.step !== 'end') chips.append(h('span', { class: `chip step-${part.step}` }, text));
  }
  const ended = boot.ended_at !== null ? ` in ${formatDuration(boot.ended_at - boot.started_at)}` : '';
  const why = boot.reason ? ` — ${REASONS[boot.reason] || boot.reason}` : '';
  return h('li', { class: 'waterfall-row', testid: 'boot-row', dataset: { id: boot.id, outcome: boot.outcome } },
    h('div', { class: 'waterfall-head' },
      outcomeBadge(boot.outcome),
      h('time', { datetime: new Date(boot.started_at).toISOString() }, formatTime(boot.started_at)),
      h('span', { class: 'muted' }, boot.image ? ` ${boot.image} v${boot.version}${boot.draft ? ' (draft)' : ''}` : ''),
      h('span', {}, `${ended}${why}`),
      boot.message ? h('span', { class: 'mono muted' }, ` “${boot.message}”`) : ''),
    track, chips);
}

// A list of boots, newest first, drawn on one time scale (the longest boot fills the width).
export function bootWaterfall(boots, now = Date.now()) {
  if (boots.length === 0) return h('p', { class: 'hint', testid: 'boots-empty' }, 'No boot recorded yet.');
  const length = (boot) => (boot.ended_at ?? Math.max(now, ...boot.steps.map((s) => s.at))) - boot.started_at;
  const scale = Math.max(1000, ...boots.map(length));
  return h('ol', { class: 'waterfall', testid: 'boot-waterfall', 'aria-label': 'Boots' },
    boots.map((boot) => bootRow(boot, scale, now)));
}

// The machine page's card: its boots, reloaded by refresh() (the page calls it when the machine's events arrive).
export function mountBoots(name) {
  const body = h('div', { testid: 'boots' }, 'Loading…');
  const element = h('section', { class: 'card' }, h('h2', {}, 'Boots'),
    h('p', { class: 'legend' }, Object.entries(STEP_LABELS).filter(([step]) => step !== 'end')
      .map(([step, label]) => [h('span', { class: `key step-${step}` }), `${label} `])),
    body);
  let pending = null;
  async function refresh() {
    if (pending) return pending;
    pending = (async () => {
      try {
        const page = await request('GET', `/api/v1/nodes/${encodeURIComponent(name)}/boots?limit=${BOOT_LIMIT}`);
        clear(body, bootWaterfall(page.items));
      } catch (error) {
        clear(body, h('p', { class: 'error' }, `Could not load the boots: ${error.message}`));
      } finally {
        pending = null;
      }
    })();
    return pending;
  }
  refresh();
  return { element, refresh };
}

// The overview's card: stored boots by outcome per image version, as counts and a stacked bar.
export function mountOutcomes() {
  const rows = h('tbody');
  const table = h('table', { class: 'table compact', testid: 'boot-outcomes' },
    h('thead', {}, h('tr', {}, ['Image', 'Version', 'OK', 'Failed', 'Running', '']
      .map((title) => h('th', { scope: 'col' }, title)))),
    rows);
  enhanceTable(table);
  const element = h('section', { class: 'card' }, h('h2', {}, 'Boot outcomes per image version'),
    h('div', { class: 'table-scroll' }, table));
  async function refresh() {
    try {
      const summary = await request('GET', '/api/v1/boots/summary');
      clear(rows, summary.items.length === 0
        ? h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No boot recorded yet.'))
        : summary.items.map((v) => {
          const total = Math.max(1, v.ok + v.failed + v.running);
          const bar = (count, kind) => h('span', { class: `outcome-bar ${kind}`, style: `width: ${(count / total) * 100}%` });
          return h('tr', { testid: `boot-outcomes-${v.image ?? 'deleted'}-${v.version ?? 0}` },
            h('td', {}, v.image ?? '(deleted)'), h('td', {}, v.version !== null ? `v${v.version}` : '—'),
            h('td', {}, v.ok), h('td', {}, v.failed), h('td', {}, v.running),
            h('td', { class: 'outcome-cell' }, bar(v.ok, 'good'), bar(v.failed, 'bad'), bar(v.running, 'warn')));
        }));
    } catch (error) {
      clear(rows, h('tr', {}, h('td', { colspan: 6, class: 'empty' }, `Could not load: ${error.message}`)));
    }
  }
  return { element, refresh };
}
