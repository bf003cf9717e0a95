// Sortable and filterable tables over the rows a view has rendered: a click on a column header sorts by that
// column (again to reverse; aria-sort says which), a filter box hides the rows not containing its text. Both
// work on the DOM and follow the <tbody>: when a view re-renders its rows, the chosen order and filter apply
// again. Sorting is stable, numbers, sizes (8.0 MiB) and versions (v10 after v9) compare by value, and a cell's
// data-sort attribute (a time in ms, a byte count) overrides its text; empty cells ('', '—') sort last.
//
//   const table = h('table', {}, h('thead', ...), body);
//   const { filter } = enhanceTable(table, { filter: 'Filter images', testid: 'images-filter' });
//   toolbar.append(filter);  // filter is null without the `filter` option
//
// Headers with no text (a checkbox, an actions column) or with data-nosort are not sortable. Rows whose first
// cell spans several columns ("No machine matches.") stay as they are.
import { h } from './dom.js';

const UNITS = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
const NUMBER = /^[-+]?\d+(\.\d+)?$/;
const SIZE = /^(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)(\/s)?$/;
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function sortValue(cell) {
  if (!cell) return '';
  if (cell.dataset.sort !== undefined) return cell.dataset.sort;
  return cell.textContent.trim();
}

// A number when the text is one (or a size), otherwise the text; null for an empty cell.
function comparable(text) {
  if (text === '' || text === '—') return null;
  if (NUMBER.test(text)) return Number(text);
  const size = text.match(SIZE);
  if (size) return Number(size[1]) * UNITS[size[2]];
  return text;
}

export function compareCells(a, b) {
  const x = comparable(a);
  const y = comparable(b);
  if (x === null || y === null) return (x === null) - (y === null);
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'number') return -1;
  if (typeof y === 'number') return 1;
  return collator.compare(x, y);
}

const isDataRow = (row) => row.cells.length > 0 && row.cells[0].colSpan <= 1;

export function enhanceTable(table, { filter = '', testid = '' } = {}) {
  const body = table.tBodies[0];
  const headers = [...table.tHead.rows[0].cells];
  const state = { column: -1, direction: 'ascending' };
  const arrival = new WeakMap();  // row -> the order it was rendered in, for a stable sort
  let counter = 0;
  const filterInput = filter
    ? h('input', { type: 'search', class: 'table-filter', placeholder: filter, 'aria-label': filter, testid })
    : null;

  function apply() {
    const rows = [...body.rows];
    for (const row of rows) if (!arrival.has(row)) arrival.set(row, counter++);
    const data = rows.filter(isDataRow);
    if (state.column >= 0 && data.length > 1) {
      const sign = state.direction === 'ascending' ? 1 : -1;
      const keyed = data.map((row) => ({ row, key: sortValue(row.cells[state.column]) }));
      keyed.sort((a, b) => {
        const order = compareCells(a.key, b.key);
        if (order !== 0) return (comparable(a.key) === null || comparable(b.key) === null) ? order : sign * order;
        return arrival.get(a.row) - arrival.get(b.row);
      });
      const sorted = keyed.map((k) => k.row);
      // Moving rows blurs an input inside them: move only when the order changes.
      if (sorted.some((row, i) => data[i] !== row)) body.append(...sorted);
    }
    if (filterInput) {
      const words = filterInput.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      for (const row of data) {
        const text = row.textContent.toLowerCase();
        row.hidden = !words.every((word) => text.includes(word));
      }
    }
    observer.takeRecords();  // our own moves are not a re-render
  }

  const observer = new MutationObserver(apply);
  observer.observe(body, { childList: true });

  headers.forEach((header, column) => {
    const label = header.textContent.trim();
    if (!label || header.children.length > 0 || header.dataset.nosort !== undefined) return;
    const button = h('button', { type: 'button', class: 'sort', title: `Sort by ${label}` }, label);
    header.replaceChildren(button);
    header.setAttribute('aria-sort', 'none');
    button.addEventListener('click', () => {
      state.direction = state.column === column && state.direction === 'ascending' ? 'descending' : 'ascending';
      state.column = column;
      for (const other of headers) if (other.hasAttribute('aria-sort')) other.setAttribute('aria-sort', 'none');
      header.setAttribute('aria-sort', state.direction);
      apply();
    });
  });
  if (filterInput) filterInput.addEventListener('input', apply);
  apply();
  return { filter: filterInput, refresh: apply };
}
