// Rollouts: the list, one rollout's page (stages with progress, per-machine outcomes, soak countdown, the reason
// of a halt, history; pause, resume and abort where they apply), the "Roll out" form the images page opens for a
// sealed version, and the banner every page shows while an image's newest rollout is rolled back.
import { api } from './api.js';
import { formatDuration, outcomeBadge } from './boots.js';
import { h, clear, toast, confirmAction, formatTime, labelled } from './dom.js';
import { enhanceTable } from './table.js';

const POLL_MS = 3000;
const OPEN_MEMBERS = 12;  // a stage's machine list starts folded beyond this many
const STATE_KIND = { running: 'warn', paused: '', succeeded: 'good', rolled_back: 'bad', aborted: '' };
export const REASONS = {
  no_os_login: 'no OS login in time', reboot_loop: 'reboot loop', health_failed: 'health report failed',
  health_ok: 'health report ok', stayed_up: 'stayed up',
};

const link = (id) => `#/rollout/${id}`;
const versions = (r) => `${r.image} v${r.from_version} → v${r.to_version}`;
const stateBadge = (state) => h('span', { class: `badge ${STATE_KIND[state] ?? ''}`, testid: 'rollout-state' },
  state.replace('_', ' '));
const failureText = (f) => `${f.node} (${REASONS[f.reason] || f.reason || 'failed'}${f.message ? `: “${f.message}”` : ''})`;

// What an admin may do in each state.
const ACTIONS = {
  pause: (state) => state === 'running',
  resume: (state) => state === 'paused' || state === 'rolled_back',
  abort: (state) => ['running', 'paused', 'rolled_back'].includes(state),
};

export function mountList(root) {
  const rows = h('tbody');
  const table = h('table', { class: 'table', testid: 'rollouts-table' },
    h('thead', {}, h('tr', {}, ['#', 'Image', 'Versions', 'State', 'Stage', 'Started', 'By', 'Reason']
      .map((t) => h('th', { scope: 'col' }, t)))),
    rows);
  const { filter } = enhanceTable(table, { filter: 'Filter rollouts', testid: 'rollouts-filter' });
  clear(root, h('h1', {}, 'Rollouts'),
    h('div', { class: 'toolbar' },
      h('p', { class: 'hint' }, 'Start one from an image\'s sealed version on the Images page ("Roll out").'),
      h('span', { class: 'spacer' }), filter),
    h('div', { class: 'table-scroll' }, table));
  async function load() {
    try {
      const { items } = await api.rollouts();
      clear(rows, items.length === 0
        ? h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No rollout yet.'))
        : items.map((r) => h('tr', { testid: `rollout-row-${r.id}` },
          h('td', {}, h('a', { href: link(r.id) }, `#${r.id}`)), h('td', {}, r.image),
          h('td', {}, `v${r.from_version} → v${r.to_version}`), h('td', {}, stateBadge(r.state)),
          h('td', {}, `${r.stage_name ?? '—'} (${r.current_stage + 1}/${r.stages})`),
          h('td', { class: 'when', dataset: { sort: r.created_at } }, formatTime(r.created_at)), h('td', {}, r.created_by), h('td', {}, r.reason))));
    } catch (error) {
      clear(rows, h('tr', {}, h('td', { colspan: 8, class: 'empty' }, `Could not load: ${error.message}`)));
    }
  }
  load();
  const timer = setInterval(load, POLL_MS);
  return () => clearInterval(timer);
}

function bar(value, total, kind, testid) {
  const share = total > 0 ? Math.min(1, value / total) : 0;
  return h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': total,
    'aria-valuenow': value, testid },
  h('div', { class: `progress-fill ${kind}`, style: `width: ${share * 100}%` }));
}

function stageStatus(rollout, stage) {
  if (stage.passed_at !== null) return 'passed';
  if (stage.index !== rollout.current_stage) return stage.index < rollout.current_stage ? 'passed' : 'waiting';
  if (rollout.state === 'rolled_back') return 'halted';
  if (rollout.state === 'running' || rollout.state === 'paused') return stage.soaking_since !== null ? 'soaking' : 'current';
  return rollout.state;
}

// The soak's time left, counted down on the page (the server's clock, by the offset measured at load).
function soakText(stage, serverNow) {
  if (stage.soaking_since === null) return `soak ${formatDuration(stage.soak_ms)} once ${stage.min_ok} ok`;
  if (stage.passed_at !== null) return 'soaked';
  const left = stage.soaking_since + stage.soak_ms - serverNow;
  return left > 0 ? `soaking: ${formatDuration(left)} left` : 'soaked: passing at the next check';
}

function stageCard(rollout, stage, serverNow) {
  const status = stageStatus(rollout, stage);
  const t = stage.tally;
  const slug = `stage-${stage.index}`;
  const hours = stage.hours_from !== null ? `, new boots ${stage.hours_from}:00–${stage.hours_to}:00` : '';
  return h('section', { class: `card stage stage-${status}`, testid: slug, dataset: { status } },
    h('div', { class: 'title-row' },
      h('h3', {}, stage.name),
      h('span', { class: `badge ${{ passed: 'good', halted: 'bad', soaking: 'warn', current: 'warn' }[status] ?? ''}`,
        testid: `${slug}-status` }, status),
      h('span', { class: 'muted' }, `${t.members} machine(s)`),
      h('span', { class: 'spacer' }),
      h('span', { class: 'soak mono', testid: `${slug}-soak`, dataset: { soakingSince: stage.soaking_since ?? '',
        soakMs: stage.soak_ms, passed: stage.passed_at !== null } }, soakText(stage, serverNow))),
    h('div', { class: 'meters' },
      h('div', {}, h('span', { testid: `${slug}-ok` }, `${t.ok}/${stage.min_ok} ok`),
        bar(t.ok, stage.min_ok, 'good', `${slug}-ok-bar`)),
      h('div', {}, h('span', { testid: `${slug}-failed` }, `${t.failed} failed (budget ${stage.max_failures})`),
        bar(t.failed, stage.max_failures + 1, 'bad', `${slug}-failed-bar`)),
      h('div', {}, h('span', {}, `${t.booting} booting${stage.max_parallel ? ` (at most ${stage.max_parallel})` : ''}${hours}`),
        bar(t.booting, stage.max_parallel || t.members, 'warn', `${slug}-booting-bar`))),
    h('details', { open: stage.members.length <= OPEN_MEMBERS, testid: `${slug}-machines` },
      h('summary', {}, `Machines (${stage.members.length})`),
      h('div', { class: 'table-scroll' }, h('table', { class: 'table compact', testid: `${slug}-members` },
      h('thead', {}, h('tr', {}, ['Machine', 'Outcome', 'Why', 'New version given', 'Boot started']
        .map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, stage.members.map((m) => h('tr', { testid: `member-${m.node}`, class: m.boot?.outcome === 'failed' ? 'bad' : '' },
        h('td', {}, h('a', { href: `#/machine/${encodeURIComponent(m.node)}` }, m.node)),
        h('td', {}, m.boot ? outcomeBadge(m.boot.outcome) : h('span', { class: 'muted' }, m.booting ? 'booting' : 'not yet')),
        h('td', {}, m.boot ? [REASONS[m.boot.reason] || m.boot.reason,
          m.boot.message ? h('span', { class: 'mono muted' }, ` “${m.boot.message}”`) : ''] : ''),
        h('td', { dataset: { sort: m.granted_at ?? '' } }, formatTime(m.granted_at)),
        h('td', { dataset: { sort: m.boot?.started_at ?? '' } }, m.boot ? formatTime(m.boot.started_at) : '—'))))))));
}

function history(events) {
  return h('ol', { class: 'timeline', testid: 'rollout-history' }, events.length === 0
    ? h('li', { class: 'empty' }, 'Nothing yet.')
    : [...events].reverse().map((e) => h('li', { testid: 'rollout-event', dataset: { kind: e.kind } },
      h('time', { datetime: new Date(e.at).toISOString() }, formatTime(e.at, { seconds: true })),
      h('span', { class: 'step' }, e.kind),
      h('span', { class: 'detail' }, detailText(e.detail)))));
}

// An event's detail for people: what the page's title says already (rollout, image, versions) left out.
function detailText(detail) {
  return Object.entries(detail).filter(([key]) => !['rollout', 'image', 'from', 'to'].includes(key))
    .map(([key, value]) => {
      if (key === 'failures' && Array.isArray(value)) return `failed: ${value.map(failureText).join(', ')}`;
      return `${key.replace(/_/g, ' ')}: ${typeof value === 'object' ? JSON.stringify(value) : value}`;
    }).join(' · ');
}

export function mountRollout(root, id) {
  let disposed = false;
  let offset = 0;  // server clock - this clock
  let shown = null;
  const body = h('div', { testid: 'rollout' }, 'Loading…');
  clear(root, h('p', {}, h('a', { href: '#/rollouts' }, '← All rollouts')), body);

  async function act(action) {
    if (action === 'abort' && !await confirmAction(`Abort rollout #${id}?`,
      `Every machine of ${shown.image} boots v${shown.from_version} again at its next boot. An aborted rollout cannot be resumed.`,
      'Abort rollout')) return;
    try {
      render(await api.rolloutAction(id, action));
      toast(`Rollout #${id}: ${action} done`, 'success');
    } catch (error) {
      toast(`Rollout #${id}: ${error.message}`, 'error');
    }
    refreshBanner();
  }

  function render(rollout) {
    if (disposed) return;
    shown = rollout;
    offset = rollout.now - Date.now();
    const halted = rollout.state === 'rolled_back';
    clear(body,
      h('div', { class: 'title-row' },
        h('h1', { testid: 'rollout-title' }, `Rollout #${rollout.id}: ${versions(rollout)}`),
        stateBadge(rollout.state),
        h('span', { class: 'spacer' }),
        Object.keys(ACTIONS).map((action) => h('button', {
          type: 'button', testid: `rollout-${action}`, class: action === 'abort' ? 'danger' : '',
          disabled: !ACTIONS[action](rollout.state), onclick: () => act(action),
        }, action[0].toUpperCase() + action.slice(1)))),
      rollout.reason ? h('div', { class: halted ? 'halt' : 'note', role: halted ? 'alert' : null, testid: 'rollout-reason' },
        h('strong', {}, halted ? 'Halted and rolled back: ' : 'Reason: '), rollout.reason,
        halted && rollout.failures?.length ? h('ul', {}, rollout.failures.map((f) => h('li', { testid: 'rollout-failure' }, failureText(f)))) : '',
        halted ? h('p', { class: 'hint' }, `Every machine boots v${rollout.from_version} again. Resume starts the failed stage over; abort ends the rollout.`) : '') : '',
      h('p', { class: 'muted' }, `Started ${formatTime(rollout.created_at)} by ${rollout.created_by}`,
        rollout.ended_at ? `, ended ${formatTime(rollout.ended_at)}` : '',
        rollout.webhook ? `; webhook ${rollout.webhook}` : ''),
      rollout.stages.map((stage) => stageCard(rollout, stage, rollout.now)),
      h('section', { class: 'card' }, h('h2', {}, 'History'), history(rollout.events)));
  }

  async function load() {
    try {
      render(await api.rollout(id));
    } catch (error) {
      if (!disposed) clear(body, h('p', { class: 'error', testid: 'rollout-error' }, `Could not load rollout #${id}: ${error.message}`));
    }
  }

  // The soak countdown, every second between loads.
  function tick() {
    if (!shown) return;
    for (const stage of shown.stages) {
      const element = body.querySelector(`[data-testid="stage-${stage.index}-soak"]`);
      if (element) element.textContent = soakText(stage, Date.now() + offset);
    }
  }

  load();
  const timers = [setInterval(load, POLL_MS), setInterval(tick, 1000)];
  return () => { disposed = true; timers.forEach(clearInterval); };
}

// "Roll out vN": the canary, the waves and the criteria; on success the rollout's page opens.
export function rolloutForm(image, number) {
  const field = (testid, attrs = {}) => h('input', { testid: `rollout-form-${testid}`, ...attrs });
  const canary = field('canary', { value: '1', required: true, size: 12, title: 'N machines, a group, or NODE,NODE' });
  const waves = field('waves', { value: '100%', required: true, size: 14, title: 'percentages or groups, e.g. 25%,100%' });
  const maxFailures = field('max-failures', { type: 'number', min: 0, value: '0', size: 4 });
  const minOk = field('min-ok', { type: 'number', min: 1, placeholder: 'default', size: 6 });
  const soak = field('soak', { value: '10m', size: 6, title: 'seconds, or 30s, 10m, 1h' });
  const parallel = field('max-parallel', { type: 'number', min: 0, value: '0', size: 4, title: '0: no limit' });
  const hours = field('hours', { placeholder: 'any time', size: 7, title: 'local hours new boots may start, e.g. 8-18' });
  const webhook = field('webhook', { type: 'url', placeholder: 'optional http URL', size: 24 });
  const status = h('span', { class: 'error', role: 'alert', testid: 'rollout-form-error' });
  const form = h('form', { class: 'toolbar rollout-form', testid: `rollout-form-${image}-${number}` },
    h('strong', {}, `Roll out ${image} v${number}:`),
    labelled('Canary', canary), labelled('Waves', waves), labelled('Max failures', maxFailures),
    labelled('Min ok', minOk), labelled('Soak', soak), labelled('Max parallel', parallel), labelled('Hours', hours),
    labelled('Webhook', webhook),
    h('button', { type: 'submit', class: 'primary', testid: 'rollout-form-start' }, 'Start rollout'), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    const body = { version: number, canary: canary.value.trim(), waves: waves.value.trim(),
      max_failures: Number(maxFailures.value || 0), max_parallel: Number(parallel.value || 0) };
    if (minOk.value) body.min_ok = Number(minOk.value);
    if (soak.value.trim()) body.soak = /^\d+$/.test(soak.value.trim()) ? Number(soak.value.trim()) : soak.value.trim();
    if (hours.value.trim()) body.hours = hours.value.trim();
    if (webhook.value.trim()) body.webhook = webhook.value.trim();
    try {
      const rollout = await api.startRollout(image, body);
      toast(`Rollout #${rollout.id} of ${image} v${number} started`, 'success');
      window.location.hash = link(rollout.id);
    } catch (error) {
      status.textContent = error.field ? `${error.field}: ${error.message}` : error.message;
    }
  });
  return form;
}

// The banner: each image whose newest rollout is rolled back, with its failed machines and a link to it.
let bannerElement = null;
export async function refreshBanner() {
  if (!bannerElement) bannerElement = document.getElementById('banner');
  try {
    const { items } = await api.rollouts();
    const newest = new Map();
    for (const r of items) if (!newest.has(r.image)) newest.set(r.image, r);  // the list is newest first
    const halted = [...newest.values()].filter((r) => r.state === 'rolled_back');
    clear(bannerElement, halted.map((r) => h('div', { class: 'halt banner', role: 'alert', testid: `banner-rollout-${r.id}` },
      h('strong', {}, `Rollout #${r.id} of ${versions(r)} was rolled back. `),
      r.failures?.length ? `Failed: ${r.failures.map(failureText).join(', ')}. `
        : h('span', { class: 'muted' }, `${r.reason} `),
      h('a', { href: link(r.id), testid: `banner-link-${r.id}` }, 'View the rollout'))));
    bannerElement.hidden = halted.length === 0;
  } catch {
    // the banner stays as it was; the page itself shows the error
  }
}
