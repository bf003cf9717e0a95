// Discovered machines: MACs the DHCP service saw but no machine owns; enroll one with a click, or many at once.
import { api } from './api.js';
import { h, clear, toast, formatTime, select } from './dom.js';
import { identityInputs } from './identity.js';
import { enhanceTable } from './table.js';

const suggestedName = (mac) => `pc-${mac.replace(/[^0-9a-f]/gi, '').slice(-6).toLowerCase()}`;

export function mount(root) {
  const body = h('tbody', { testid: 'discovered-body' });
  const enrollSelected = h('button', { type: 'button', class: 'primary', testid: 'enroll-selected' }, 'Enroll selected');
  const rows = [];
  let choices = { images: [], groups: [] };

  function row(item) {
    const name = h('input', { value: suggestedName(item.mac), 'aria-label': `Name for ${item.mac}`,
      testid: `enroll-name-${item.mac}` });
    const image = select(choices.images, { emptyLabel: 'group default', 'aria-label': `Image for ${item.mac}` });
    const group = select(choices.groups, { emptyLabel: 'no group', 'aria-label': `Group for ${item.mac}` });
    const box = h('input', { type: 'checkbox', 'aria-label': `Select ${item.mac}` });
    const identity = identityInputs(null, `enroll-${item.mac}`);
    const entry = {
      box,
      request: () => {
        const r = { mac: item.mac, name: name.value.trim() };
        for (const [key, value] of Object.entries(identity.values())) if (value) r[key] = value;
        if (image.value) r.image = image.value;
        if (group.value) r.group = group.value;
        return r;
      },
    };
    rows.push(entry);
    return h('tr', { testid: `discovered-${item.mac}` },
      h('td', {}, box), h('td', { class: 'mono' }, item.mac),
      h('td', { class: 'when', dataset: { sort: item.first_seen } }, formatTime(item.first_seen)),
      h('td', { class: 'when', dataset: { sort: item.last_seen } }, formatTime(item.last_seen)),
      h('td', {}, item.client_arch ?? '—'), h('td', {}, item.vendor_class || '—'),
      h('td', {}, name), h('td', { class: 'identity' }, ...identity.elements), h('td', {}, image), h('td', {}, group),
      h('td', {}, h('button', { type: 'button', testid: `enroll-${item.mac}`, onclick: () => enroll([entry]) }, 'Enroll')));
  }

  async function enroll(entries) {
    if (entries.length === 0) {
      toast('Select the machines to enroll first', 'error');
      return;
    }
    try {
      const result = await api.enroll(entries.map((e) => e.request()));
      toast(`Enrolled ${result.enrolled} machine(s)`, 'success');
      load();
    } catch (error) {
      toast(`Enroll failed: ${error.message}${error.field ? ` (${error.field})` : ''}`, 'error');
    }
  }

  async function load() {
    try {
      const [discovered, images, groups] = await Promise.all([api.discovered(), api.images(), api.groups()]);
      choices = { images: images.items.map((i) => i.name), groups: groups.items.map((g) => g.name) };
      rows.length = 0;
      clear(body, discovered.items.length === 0
        ? h('tr', {}, h('td', { colspan: 11, class: 'empty' }, 'No unknown machine has asked for an address.'))
        : discovered.items.map(row));
    } catch (error) {
      clear(body, h('tr', {}, h('td', { colspan: 11, class: 'empty error' }, `Could not load: ${error.message}`)));
    }
  }

  enrollSelected.addEventListener('click', () => enroll(rows.filter((r) => r.box.checked)));
  const sortable = ['MAC', 'First seen', 'Last seen', 'Arch', 'Vendor class'];
  const table = h('table', { class: 'table', testid: 'discovered-table' },
    h('thead', {}, h('tr', {}, ['', 'MAC', 'First seen', 'Last seen', 'Arch', 'Vendor class', 'Name', 'Host name, fixed IP', 'Image', 'Group', '']
      .map((t) => h('th', { scope: 'col', dataset: sortable.includes(t) ? {} : { nosort: '' } }, t)))),
    body);
  const { filter } = enhanceTable(table, { filter: 'Filter machines', testid: 'discovered-filter' });
  clear(root,
    h('div', { class: 'title-row' }, h('h1', {}, 'Discovered machines'), h('span', { class: 'spacer' }), filter, enrollSelected),
    h('p', { class: 'hint' }, 'Machines that PXE-booted on the network but are not enrolled yet.'),
    h('div', { class: 'table-scroll' }, table));
  load();
  const timer = setInterval(() => {
    // Refresh only while nothing is being edited or selected, so typed names and ticks are not lost.
    if (!root.contains(document.activeElement) && rows.every((r) => !r.box.checked)) load();
  }, 10000);
  return () => clearInterval(timer);
}
