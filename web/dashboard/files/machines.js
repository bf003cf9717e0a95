// Machines: search, filters, paging, a selection that spans pages, bulk actions on it, and the CSV import.
import { api } from './api.js';
import { createImportPanel } from './csv_import.js';
import { h, clear, toast, confirmAction, formatBytes, select, field, statusBadge } from './dom.js';
import { enhanceTable } from './table.js';

const PAGE_SIZE = 50;

// value -> [label, parameter kind or null, needs confirmation]
const BULK_ACTIONS = {
  'assign-image': ['Assign image', 'image', false],
  'assign-group': ['Assign group', 'group', false],
  'persistence-on': ['Make persistent', null, false],
  'persistence-off': ['Make non-persistent', null, false],
  reset: ['Reset disk', null, true],
  wake: ['Wake (Wake-on-LAN)', null, false],
  enable: ['Enable', null, false],
  disable: ['Disable', null, false],
  delete: ['Delete', null, true],
};

function bulkRequest(choice, parameter) {
  switch (choice) {
    case 'assign-image': return ['assign', { image: parameter }];
    case 'assign-group': return ['assign', { group: parameter }];
    case 'persistence-on': return ['persistence', { persistent: true }];
    case 'persistence-off': return ['persistence', { persistent: false }];
    default: return [choice, {}];
  }
}

export function mount(root) {
  const state = { offset: 0, total: 0, items: [], selected: new Set(), groups: [], images: [] };
  const search = h('input', { type: 'search', placeholder: 'name or MAC', testid: 'machines-search' });
  const groupFilter = h('select', { testid: 'filter-group' });
  const imageFilter = h('select', { testid: 'filter-image' });
  const statusFilter = select(['off', 'booting', 'booted', 'failed'], { emptyLabel: 'any', testid: 'filter-status' });
  const body = h('tbody', { testid: 'machines-body' });
  const totalLabel = h('span', { testid: 'machines-total' });
  const pageLabel = h('span', { testid: 'machines-page' });
  const prev = h('button', { type: 'button', testid: 'page-prev' }, '‹ Previous');
  const next = h('button', { type: 'button', testid: 'page-next' }, 'Next ›');
  const selectPage = h('input', { type: 'checkbox', 'aria-label': 'Select every machine on this page',
    testid: 'select-page' });
  const selectedLabel = h('span', { testid: 'selected-count' }, '0 selected');
  const selectMatching = h('button', { type: 'button', class: 'link', testid: 'select-matching' }, 'Select all matching');
  const clearSelection = h('button', { type: 'button', class: 'link', testid: 'select-none' }, 'Clear selection');
  const bulkAction = h('select', { testid: 'bulk-action' },
    h('option', { value: '' }, 'Choose an action…'),
    Object.entries(BULK_ACTIONS).map(([value, [label]]) => h('option', { value }, label)));
  const bulkParameter = h('select', { testid: 'bulk-parameter', hidden: true, 'aria-label': 'Value' });
  const bulkApply = h('button', { type: 'button', class: 'primary', testid: 'bulk-apply', disabled: true }, 'Apply');
  const bulkResult = h('p', { class: 'summary', role: 'status', testid: 'bulk-result' });
  const importHolder = h('div');
  const table = h('table', { class: 'table', testid: 'machines-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, selectPage),
      ['Name', 'MAC', 'Host name', 'Image', 'Group', 'Persistent', 'Enabled', 'Status', 'Disk', 'Last event']
        .map((t) => h('th', { scope: 'col' }, t)))),
    body);
  enhanceTable(table);
  const importToggle = h('button', { type: 'button', testid: 'csv-open' }, 'Import CSV…');

  const filters = () => ({
    q: search.value.trim(), group: groupFilter.value, image: imageFilter.value, status: statusFilter.value,
  });
  const query = (offset, limit) => {
    const q = { offset, limit };
    for (const [key, value] of Object.entries(filters())) if (value) q[key] = value;
    return q;
  };

  async function loadChoices() {
    try {
      const [groups, images] = await Promise.all([api.groups(), api.images()]);
      state.groups = groups.items.map((g) => g.name);
      state.images = images.items.map((i) => i.name);
    } catch (error) {
      toast(`Could not load groups and images: ${error.message}`, 'error');
    }
    clear(groupFilter, h('option', { value: '' }, 'any group'), state.groups.map((g) => h('option', { value: g }, g)));
    clear(imageFilter, h('option', { value: '' }, 'any image'), state.images.map((i) => h('option', { value: i }, i)));
    updateBulkParameter();
  }

  async function load() {
    try {
      const page = await api.nodes(query(state.offset, PAGE_SIZE));
      state.total = page.total;
      state.items = page.items;
      if (state.offset > 0 && state.offset >= state.total) {
        state.offset = Math.max(0, Math.floor((state.total - 1) / PAGE_SIZE) * PAGE_SIZE);
        return load();
      }
      render();
    } catch (error) {
      clear(body, h('tr', {}, h('td', { colspan: 11, class: 'empty error' }, `Could not load machines: ${error.message}`)));
    }
    return undefined;
  }

  function render() {
    totalLabel.textContent = `${state.total} machine(s)`;
    const first = state.total === 0 ? 0 : state.offset + 1;
    pageLabel.textContent = `${first}–${state.offset + state.items.length} of ${state.total}`;
    prev.disabled = state.offset === 0;
    next.disabled = state.offset + PAGE_SIZE >= state.total;
    clear(body, state.items.length === 0
      ? h('tr', {}, h('td', { colspan: 11, class: 'empty' }, 'No machine matches.'))
      : state.items.map(row));
    renderSelection();
  }

  function row(node) {
    const box = h('input', {
      type: 'checkbox', checked: state.selected.has(node.name), 'aria-label': `Select ${node.name}`,
      testid: `select-${node.name}`,
      onchange: () => {
        if (box.checked) state.selected.add(node.name);
        else state.selected.delete(node.name);
        renderSelection();
      },
    });
    return h('tr', { testid: `machine-row-${node.name}`, class: node.enabled ? '' : 'disabled' },
      h('td', {}, box),
      h('td', {}, h('a', { href: `#/machine/${encodeURIComponent(node.name)}` }, node.name)),
      h('td', { class: 'mono' }, node.mac),
      h('td', { testid: 'cell-hostname' }, node.effective_hostname || node.hostname || '—'),
      h('td', { testid: 'cell-image' }, node.image || '—', node.outdated ? h('span', { class: 'badge warn', title: 'boots an older version' }, 'outdated') : ''),
      h('td', { testid: 'cell-group' }, node.group || '—'),
      h('td', { testid: 'cell-persistent' }, node.persistent ? 'yes' : 'no'),
      h('td', { testid: 'cell-enabled' }, node.enabled ? 'yes' : 'no'),
      h('td', {}, statusBadge(node.status)),
      h('td', { class: 'num', dataset: { sort: node.disk_bytes ?? '' } }, formatBytes(node.disk_bytes)),
      h('td', { class: 'muted' }, node.last_event || ''));
  }

  function renderSelection() {
    const count = state.selected.size;
    selectedLabel.textContent = `${count} selected`;
    selectPage.checked = state.items.length > 0 && state.items.every((n) => state.selected.has(n.name));
    selectPage.indeterminate = !selectPage.checked && state.items.some((n) => state.selected.has(n.name));
    bulkApply.disabled = count === 0 || !bulkAction.value ||
      (!bulkParameter.hidden && !bulkParameter.value);
  }

  function updateBulkParameter() {
    const kind = (BULK_ACTIONS[bulkAction.value] || [])[1];
    bulkParameter.hidden = !kind;
    if (kind) {
      const values = kind === 'image' ? state.images : state.groups;
      clear(bulkParameter, h('option', { value: '' }, `Choose ${kind === 'image' ? 'an image' : 'a group'}…`),
        values.map((v) => h('option', { value: v }, v)));
      bulkParameter.setAttribute('aria-label', kind === 'image' ? 'Image' : 'Group');
    }
    renderSelection();
  }

  async function selectAllMatching() {
    const names = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await api.nodes(query(offset, 1000));
      names.push(...page.items.map((n) => n.name));
      if (page.items.length === 0 || names.length >= page.total) break;
    }
    for (const name of names) state.selected.add(name);
    render();
  }

  async function applyBulk() {
    const choice = bulkAction.value;
    const [label, , dangerous] = BULK_ACTIONS[choice];
    const names = [...state.selected];
    const what = bulkParameter.hidden ? label : `${label} “${bulkParameter.value}”`;
    if (dangerous && !await confirmAction(`${label}?`,
      `${what} on ${names.length} machine(s). This cannot be undone.`, label)) return;
    const [action, params] = bulkRequest(choice, bulkParameter.value);
    bulkApply.disabled = true;
    try {
      const { results } = await api.bulk(names, action, params);
      const failed = results.filter((r) => !r.ok);
      bulkResult.className = failed.length ? 'summary error' : 'summary ok';
      bulkResult.textContent = `${what}: ${results.length - failed.length} done` +
        (failed.length ? `, ${failed.length} failed (${failed.slice(0, 5).map((r) => `${r.name}: ${r.error}`).join('; ')})` : '.');
      if (action === 'delete') for (const r of results) if (r.ok) state.selected.delete(r.name);
    } catch (error) {
      bulkResult.className = 'summary error';
      bulkResult.textContent = `${what} failed: ${error.message}`;
    }
    await load();
  }

  let searchTimer;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.offset = 0; load(); }, 250);
  });
  for (const f of [groupFilter, imageFilter, statusFilter]) f.addEventListener('change', () => { state.offset = 0; load(); });
  prev.addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); load(); });
  next.addEventListener('click', () => { state.offset += PAGE_SIZE; load(); });
  selectPage.addEventListener('change', () => {
    for (const n of state.items) {
      if (selectPage.checked) state.selected.add(n.name);
      else state.selected.delete(n.name);
    }
    render();
  });
  selectMatching.addEventListener('click', () => selectAllMatching().catch((e) => toast(e.message, 'error')));
  clearSelection.addEventListener('click', () => { state.selected.clear(); render(); });
  bulkAction.addEventListener('change', updateBulkParameter);
  bulkParameter.addEventListener('change', renderSelection);
  bulkApply.addEventListener('click', applyBulk);
  importToggle.addEventListener('click', () => {
    if (importHolder.firstChild) {
      importHolder.replaceChildren();
      return;
    }
    importHolder.replaceChildren(createImportPanel(() => {
      state.offset = 0;
      load();
      loadChoices();
    }));
    importHolder.querySelector('textarea').focus();
  });

  clear(root,
    h('div', { class: 'title-row' }, h('h1', {}, 'Machines'), totalLabel, h('span', { class: 'spacer' }), importToggle),
    importHolder,
    h('section', { class: 'toolbar', 'aria-label': 'Filters' },
      field('Search', search), field('Group', groupFilter), field('Image', imageFilter),
      field('Status', statusFilter)),
    h('section', { class: 'toolbar bulk', 'aria-label': 'Bulk actions' },
      selectedLabel, selectMatching, clearSelection, h('span', { class: 'spacer' }),
      field('Action', bulkAction), bulkParameter, bulkApply),
    bulkResult,
    h('p', { class: 'hint' }, 'Column headers sort the machines on this page.'),
    h('div', { class: 'table-scroll' }, table),
    h('div', { class: 'pager' }, prev, pageLabel, next));

  loadChoices();
  load();
  return () => clearTimeout(searchTimer);
}
