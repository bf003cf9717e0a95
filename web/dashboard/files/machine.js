// One machine: its settings, disk, actions, its boots as a waterfall (boots.js) and, folded, its raw event
// timeline, both live from the event stream.
import { api, followEvents } from './api.js';
import { mountBoots } from './boots.js';
import { h, clear, toast, confirmAction, formatBytes, formatTime, statusBadge, select, field } from './dom.js';
import { identityEditor } from './identity.js';
import { maintenanceBadge, maintenanceControls } from './maintenance.js';

const TIMELINE_LIMIT = 200;

function describe(detail) {
  if (!detail) return '';
  if (typeof detail === 'string') {
    try {
      return describe(JSON.parse(detail));
    } catch {
      return detail;
    }
  }
  return Object.entries(detail).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
}

export function mount(root, name) {
  const info = h('div', { testid: 'machine-info' }, 'Loading…');
  const timeline = h('ol', { class: 'timeline', testid: 'timeline', 'aria-label': 'Boot timeline' });
  const live = h('span', { class: 'badge', testid: 'stream-state' }, 'connecting');
  const seen = new Set();
  const boots = mountBoots(name);
  let node = null;
  let stop = () => {};
  let disposed = false;

  function addEvent(event, atTop) {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    const item = h('li', { testid: 'timeline-event', dataset: { id: event.id, step: event.step } },
      h('time', { datetime: new Date(event.time).toISOString() }, formatTime(event.time, { seconds: true })),
      h('span', { class: 'step' }, event.step),
      h('span', { class: 'detail' }, describe(event.detail)));
    if (timeline.querySelector('.empty')) timeline.replaceChildren();
    if (atTop) timeline.prepend(item);
    else timeline.append(item);
    while (timeline.children.length > TIMELINE_LIMIT) timeline.lastChild.remove();
  }

  async function change(description, call, dangerous = false) {
    if (dangerous && !await confirmAction(`${description}?`, `${description} for ${name}. This cannot be undone.`, description)) {
      return;
    }
    try {
      await call();
      toast(`${name}: ${description.toLowerCase()} done`, 'success');
      if (description === 'Delete') {
        window.location.hash = '#/machines';
        return;
      }
    } catch (error) {
      toast(`${name}: ${error.message}`, 'error');
    }
    refresh();
  }

  function renderInfo(choices) {
    const image = select(choices.images, { emptyLabel: 'group default', selected: node.image || '',
      testid: 'machine-image' });
    const group = select(choices.groups, { emptyLabel: 'no group', selected: node.group || '', testid: 'machine-group' });
    const save = h('button', { type: 'button', class: 'primary', testid: 'machine-save' }, 'Save');
    // Only what the operator changed is sent: an image shown as the group's default stays a default.
    save.addEventListener('click', () => {
      const changes = {};
      if (image.value !== (node.image || '')) changes.image = image.value || null;
      if (group.value !== (node.group || '')) changes.group = group.value || null;
      if (Object.keys(changes).length === 0) return;
      change('Save', () => api.updateNode(name, changes));
    });
    // Wake-on-LAN and a disk reset apply only while they can change something.
    const wakeWhy = node.status === 'booted' || node.status === 'booting' ? `${node.name} is ${node.status} already` : '';
    const resetWhy = !node.disk_bytes && !node.outdated ? `${node.name}'s disk is empty and on the current version` : '';
    const unless = (why) => (why ? { disabled: true, title: why } : {});
    clear(info,
      h('dl', { class: 'details' },
        h('dt', {}, 'MAC'), h('dd', { class: 'mono' }, node.mac),
        h('dt', {}, 'Status'), h('dd', { testid: 'machine-status' }, statusBadge(node.status), ' ', maintenanceBadge(node)),
        h('dt', {}, 'Disk'), h('dd', { testid: 'machine-disk' },
          `${formatBytes(node.disk_bytes)} written`,
          node.disk_version !== null && node.disk_version !== undefined ? ` on v${node.disk_version}` : '',
          node.outdated ? h('span', { class: 'badge warn' }, 'outdated') : ''),
        h('dt', {}, 'Persistent'), h('dd', {}, node.persistent ? 'yes: the disk survives reboots' : 'no: fresh disk at each boot'),
        h('dt', {}, 'Enabled'), h('dd', {}, node.enabled ? 'yes' : 'no'),
        h('dt', {}, 'Last seen'), h('dd', {}, formatTime(node.last_seen))),
      h('div', { class: 'toolbar' }, field('Image', image), field('Group', group), save),
      identityEditor(node, (changes) => change('Save identity', () => api.updateNode(name, changes))),
      maintenanceControls(node, choices.images, change),
      h('div', { class: 'actions' },
        h('button', { type: 'button', testid: 'machine-wake', ...unless(wakeWhy),
          onclick: () => change('Wake', () => api.bulk([name], 'wake')) }, 'Wake'),
        h('button', { type: 'button', testid: 'machine-persistence',
          onclick: () => change(node.persistent ? 'Make non-persistent' : 'Make persistent',
            () => api.updateNode(name, { persistent: !node.persistent })) },
        node.persistent ? 'Make non-persistent' : 'Make persistent'),
        h('button', { type: 'button', testid: 'machine-enable',
          onclick: () => change(node.enabled ? 'Disable' : 'Enable', () => api.updateNode(name, { enabled: !node.enabled })) },
        node.enabled ? 'Disable' : 'Enable'),
        h('button', { type: 'button', testid: 'machine-reset', ...unless(resetWhy),
          onclick: () => change('Reset disk', () => api.bulk([name], 'reset'), true) }, 'Reset disk'),
        h('button', { type: 'button', class: 'danger', testid: 'machine-delete',
          onclick: () => change('Delete', () => api.deleteNode(name), true) }, 'Delete')));
  }

  async function refresh() {
    try {
      const [details, images, groups] = await Promise.all([api.node(name), api.images(), api.groups()]);
      if (disposed) return null;
      node = details;
      renderInfo({ images: images.items.map((i) => i.name), groups: groups.items.map((g) => g.name) });
      return details;
    } catch (error) {
      clear(info, h('p', { class: 'error' }, `Could not load ${name}: ${error.message}`));
      return null;
    }
  }

  const belongs = (event) => event.node === name || (node && event.mac && event.mac === node.mac);

  (async () => {
    const details = await refresh();
    if (!details) return;
    const events = [...(details.events || [])].sort((a, b) => b.id - a.id);
    if (events.length === 0) timeline.append(h('li', { class: 'empty' }, 'No event yet.'));
    for (const event of events) addEvent(event, false);
    const after = events.length ? events[0].id : 0;
    // Ask from the newest event we know; with none, from now (the stream starts at the newest event).
    stop = followEvents(after, (event) => {
      if (!belongs(event)) return;
      addEvent(event, true);
      boots.refresh();
      if (event.step) refresh();
    }, (state) => { live.textContent = state; live.className = `badge ${state === 'live' ? 'good' : 'warn'}`; });
  })();

  clear(root,
    h('p', {}, h('a', { href: '#/machines' }, '‹ Machines')),
    h('h1', { testid: 'machine-name' }, name),
    h('section', { class: 'card' }, info),
    boots.element,
    h('section', { class: 'card' }, h('details', {},
      h('summary', { class: 'title-row', testid: 'events-toggle' }, h('h2', {}, 'All events'), live), timeline)));

  return () => { disposed = true; stop(); };
}
