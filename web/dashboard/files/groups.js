// Groups: the list with each group's defaults and member count, creating one, editing its defaults (image,
// persistence, address binding), deleting it after a confirmation, and one group's page with its members.
import { api, request } from './api.js';
import { h, clear, toast, confirmAction, field, formatTime, select, statusBadge } from './dom.js';
import { enhanceTable } from './table.js';

const MEMBERS_PAGE = 100;
const enc = encodeURIComponent;

const groupsApi = {
  group: (name) => request('GET', `/api/v1/groups/${enc(name)}`),
  create: (group) => request('POST', '/api/v1/groups', { body: group }),
  update: (name, changes) => request('PATCH', `/api/v1/groups/${enc(name)}`, { body: changes }),
  remove: (name) => request('DELETE', `/api/v1/groups/${enc(name)}`),
};

const persistenceText = (persistent) => (persistent ? 'persistent' : 'fresh at each boot');
const bindText = (bind) => (bind ? 'bound to its address' : 'any address');

// The form's fields for a group's settings; `group` null for a new one. values() gives the API's body: for a new
// group the fields set, for an existing one only what the operator changed.
function groupFields(group, images, slug) {
  const name = group ? null : h('input', { required: true, pattern: '[A-Za-z0-9._\\-]+', testid: `${slug}-name`,
    placeholder: 'lab-a' });
  const image = select(images, { emptyLabel: 'none', selected: group?.image || '', testid: `${slug}-image` });
  const persistent = h('input', { type: 'checkbox', checked: Boolean(group?.persistent), testid: `${slug}-persistent` });
  const bind = h('input', { type: 'checkbox', checked: group ? group.bind_address : true, testid: `${slug}-bind` });
  const description = h('input', { value: group?.description || '', testid: `${slug}-description`, size: 30 });
  return {
    elements: [name ? field('Name', name) : '', field('Default image', image),
      h('label', { class: 'check' }, persistent, ' Persistent disks'),
      h('label', { class: 'check' }, bind, ' Boot only from its address'),
      field('Description', description)],
    values: () => {
      if (!group) {
        const body = { name: name.value.trim(), persistent: persistent.checked, bind_address: bind.checked };
        if (image.value) body.image = image.value;
        if (description.value.trim()) body.description = description.value.trim();
        return body;
      }
      const changes = {};
      if (image.value !== (group.image || '')) changes.image = image.value || null;
      if (persistent.checked !== group.persistent) changes.persistent = persistent.checked;
      if (bind.checked !== group.bind_address) changes.bind_address = bind.checked;
      if (description.value.trim() !== group.description) changes.description = description.value.trim();
      return changes;
    },
  };
}

// Deletes `group` after the operator confirms, showing the API's refusal; resolves 'cancelled', 'deleted' or
// 'refused'.
async function deleteGroup(group) {
  const members = group.nodes === 1 ? '1 machine' : `${group.nodes} machines`;
  const consequence = group.nodes > 0
    ? `Its ${members} stay enrolled without a group and boot their own image, if they have one.`
    : 'It has no member.';
  if (!await confirmAction(`Delete group ${group.name}?`, consequence, 'Delete group')) return 'cancelled';
  try {
    await groupsApi.remove(group.name);
    toast(`Group ${group.name} deleted`, 'success');
    return 'deleted';
  } catch (error) {
    toast(`Could not delete ${group.name}: ${error.message}`, 'error');
    return 'refused';
  }
}

export function mountList(root) {
  const body = h('tbody', { testid: 'groups-body' });
  const createSlot = h('div');
  const status = h('p', { class: 'summary error', role: 'alert', testid: 'group-create-error' });
  let images = [];
  let disposed = false;

  function row(group) {
    return h('tr', { testid: `group-${group.name}` },
      h('td', {}, h('a', { href: `#/group/${enc(group.name)}` }, group.name),
        group.description ? h('div', { class: 'muted' }, group.description) : ''),
      h('td', {}, group.image ?? h('span', { class: 'muted' }, 'none')),
      h('td', {}, persistenceText(group.persistent)),
      h('td', {}, bindText(group.bind_address)),
      h('td', { class: 'num', testid: `group-members-${group.name}` }, String(group.nodes)),
      h('td', { class: 'row-actions' },
        h('a', { class: 'button', href: `#/group/${enc(group.name)}`, testid: `group-open-${group.name}` }, 'Open'),
        h('button', { type: 'button', class: 'danger', testid: `group-delete-${group.name}`,
          onclick: async () => { if (await deleteGroup(group) !== 'cancelled') load(); } }, 'Delete')));
  }

  async function load() {
    try {
      const [groups, imageList] = await Promise.all([api.groups(), api.images()]);
      if (disposed) return;
      images = imageList.items.map((i) => i.name);
      clear(body, groups.items.length === 0
        ? h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No group yet: create one below.'))
        : [...groups.items].sort((a, b) => a.name.localeCompare(b.name)).map(row));
      if (!createSlot.firstChild) renderCreate();
    } catch (error) {
      clear(body, h('tr', {}, h('td', { colspan: 6, class: 'empty error' }, `Could not load groups: ${error.message}`)));
    }
  }

  function renderCreate() {
    const fields = groupFields(null, images, 'group-new');
    const form = h('form', { class: 'toolbar', testid: 'group-create-form' }, fields.elements,
      h('button', { type: 'submit', class: 'primary', testid: 'group-create' }, 'Create group'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      status.textContent = '';
      const values = fields.values();
      try {
        await groupsApi.create(values);
        toast(`Group ${values.name} created`, 'success');
        renderCreate();
        load();
      } catch (error) {
        status.textContent = `Could not create ${values.name}: ${error.message}`;
      }
    });
    clear(createSlot, form);
  }

  const table = h('table', { class: 'table', testid: 'groups-table' },
    h('thead', {}, h('tr', {}, ['Name', 'Default image', 'Disks', 'Address', 'Members', '']
      .map((t) => h('th', { scope: 'col', class: t === 'Members' ? 'num' : undefined }, t)))),
    body);
  const { filter } = enhanceTable(table, { filter: 'Filter groups', testid: 'groups-filter' });
  clear(root,
    h('h1', {}, 'Groups'),
    h('p', { class: 'hint' }, 'A group gives its machines a default image, disk persistence and address binding.'),
    h('div', { class: 'toolbar' }, filter),
    h('div', { class: 'table-scroll spaced' }, table),
    h('section', { class: 'card' }, h('h2', {}, 'Create a group'), createSlot, status));
  load();
  return () => { disposed = true; };
}

export function mountGroup(root, name) {
  const info = h('div', { testid: 'group-info' }, 'Loading…');
  const editSlot = h('div');
  const members = h('tbody', { testid: 'group-members-body' });
  const membersTotal = h('span', { class: 'muted', testid: 'group-members-total' });
  const prev = h('button', { type: 'button', testid: 'members-prev' }, '‹ Previous');
  const next = h('button', { type: 'button', testid: 'members-next' }, 'Next ›');
  const error = h('p', { class: 'summary error', role: 'alert', testid: 'group-edit-error' });
  let offset = 0;
  let disposed = false;

  function renderEdit(group, images) {
    const fields = groupFields(group, images, 'group-edit');
    const save = h('button', { type: 'submit', class: 'primary', testid: 'group-save', disabled: true }, 'Save');
    const form = h('form', { class: 'toolbar', testid: 'group-edit-form' }, fields.elements, save);
    // Save applies only once something differs from what the server holds.
    const changed = () => { save.disabled = Object.keys(fields.values()).length === 0; };
    form.addEventListener('input', changed);
    form.addEventListener('change', changed);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const changes = fields.values();
      if (Object.keys(changes).length === 0) return;
      try {
        await groupsApi.update(name, changes);
        error.textContent = '';
        toast(`Group ${name} saved`, 'success');
        load();
      } catch (failure) {
        error.textContent = `Could not save ${name}: ${failure.message}`;
        load();  // the page shows what the server holds now
      }
    });
    clear(editSlot, form);
  }

  function renderInfo(group) {
    clear(info,
      h('dl', { class: 'details' },
        h('dt', {}, 'Default image'), h('dd', { testid: 'group-image' }, group.image ?? 'none'),
        h('dt', {}, 'Disks'), h('dd', { testid: 'group-persistent' }, persistenceText(group.persistent)),
        h('dt', {}, 'Address'), h('dd', { testid: 'group-bind' }, bindText(group.bind_address)),
        h('dt', {}, 'Description'), h('dd', {}, group.description || '—'),
        h('dt', {}, 'Members'), h('dd', { testid: 'group-member-count' }, String(group.nodes))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', testid: 'group-delete',
          onclick: async () => {
            const outcome = await deleteGroup(group);
            if (outcome === 'deleted') window.location.hash = '#/groups';
            else if (outcome === 'refused') load();
          } }, 'Delete group')));
  }

  async function loadMembers() {
    const page = await api.nodes({ group: name, limit: MEMBERS_PAGE, offset });
    if (disposed) return;
    membersTotal.textContent = page.total === 0 ? 'no machine'
      : `${offset + 1}–${offset + page.items.length} of ${page.total}`;
    prev.disabled = offset === 0;
    next.disabled = offset + page.items.length >= page.total;
    clear(members, page.items.length === 0
      ? h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No machine is in this group.'))
      : page.items.map((node) => h('tr', { testid: `member-${node.name}` },
        h('td', { class: 'nowrap' }, h('a', { href: `#/machine/${enc(node.name)}` }, node.name)),
        h('td', { class: 'mono' }, node.mac),
        h('td', {}, statusBadge(node.status)),
        h('td', {}, node.image ?? h('span', { class: 'muted' }, 'none')),
        h('td', {}, node.persistent ? 'persistent' : 'fresh'),
        h('td', { class: 'nowrap', dataset: { sort: node.last_seen ?? '' } }, formatTime(node.last_seen)))));
  }

  async function load() {
    try {
      const [group, images] = await Promise.all([groupsApi.group(name), api.images()]);
      if (disposed) return;
      renderInfo(group);
      renderEdit(group, images.items.map((i) => i.name));
      await loadMembers();
    } catch (failure) {
      clear(info, h('p', { class: 'error' }, `Could not load group ${name}: ${failure.message}`));
    }
  }

  const page = (delta) => () => {
    offset = Math.max(0, offset + delta);
    loadMembers().catch((failure) => toast(`Could not load members: ${failure.message}`, 'error'));
  };
  prev.addEventListener('click', page(-MEMBERS_PAGE));
  next.addEventListener('click', page(MEMBERS_PAGE));

  const table = h('table', { class: 'table', testid: 'group-members-table' },
    h('thead', {}, h('tr', {}, ['Machine', 'MAC', 'Status', 'Image', 'Disk', 'Last seen']
      .map((t) => h('th', { scope: 'col' }, t)))),
    members);
  const { filter } = enhanceTable(table, { filter: 'Filter this page', testid: 'members-filter' });
  clear(root,
    h('p', {}, h('a', { href: '#/groups' }, '‹ Groups')),
    h('h1', { testid: 'group-name' }, `Group ${name}`),
    h('section', { class: 'card' }, info),
    h('section', { class: 'card' }, h('h2', {}, 'Defaults'), editSlot, error),
    h('section', { class: 'card' },
      h('div', { class: 'title-row' }, h('h2', {}, 'Members'), membersTotal, h('span', { class: 'spacer' }), filter,
        prev, next),
      h('div', { class: 'table-scroll' }, table)));
  load();
  return () => { disposed = true; };
}
