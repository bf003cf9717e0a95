// Small DOM helpers shared by the views: element building, notices, the confirmation dialog, formatting.

// h('button', {class: 'primary', onclick: fn, dataset: {testid: 'x'}}, 'text', childNode, [more...])
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (key === 'testid') {
      element.dataset.testid = value;
    } else if (key === 'value' || (key in element && typeof value !== 'string')) {
      element[key] = value;
    } else {
      element.setAttribute(key, value === true ? '' : value);
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function toast(message, kind = 'info') {
  const note = h('div', { class: `toast ${kind}`, testid: `toast-${kind}` }, message);
  document.getElementById('toasts').append(note);
  setTimeout(() => note.remove(), kind === 'error' ? 8000 : 4000);
}

// Resolves true when the operator confirms `message` in the modal dialog.
export function confirmAction(title, message, okLabel = 'Confirm') {
  const dialog = document.getElementById('confirm');
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-message').textContent = message;
  dialog.querySelector('#confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatRate(bytesPerSecond) {
  return `${formatBytes(bytesPerSecond)}/s`;
}

const pad2 = (n) => String(n).padStart(2, '0');

// A time of day in local time: 03:15:07.
export function formatClock(ms) {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

// A moment in local time, ISO-like: 2026-12-04 03:15 (with `seconds`, 2026-12-04 03:15:07).
export function formatTime(ms, { seconds = false } = {}) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const day = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const clock = formatClock(ms);
  return `${day} ${seconds ? clock : clock.slice(0, 5)}`;
}

// A labelled form control: returns [label, control] so callers can lay them out.
export function labelled(text, control) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 10)}`;
  return [h('label', { for: control.id }, text), control];
}

// A label and its control kept together on one line of a wrapping toolbar.
export function field(text, control) {
  return h('span', { class: 'field' }, labelled(text, control));
}

// <select> with a first "any"/"none" option and one option per value.
export function select(values, { empty = '', emptyLabel = '—', selected = '', ...attrs } = {}) {
  const options = [h('option', { value: empty }, emptyLabel)];
  for (const value of values) options.push(h('option', { value, selected: value === selected }, value));
  return h('select', attrs, options);
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, status);
}
