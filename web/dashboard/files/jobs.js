// Image jobs the operator started from this page: browser uploads (bytes sent, %, rate, ETA) and then the server's
// import job (its progress), and imports of a file on the server. One module-level store, so the list outlives
// the view that started a job (hash navigation); after a reload, restore() re-reads the server's recent jobs.
// Every job has its own entry: a second import never reuses the first one's row.
import { api, request, csrfHeader } from './api.js';
import { h, clear, formatBytes, formatRate, formatTime } from './dom.js';
import { formatDuration } from './boots.js';

const POLL_MS = 1000;
const RATE_WINDOW_MS = 3000;  // the upload rate is measured over the last few seconds

const entries = [];            // newest first
const listeners = new Set();   // called with no argument on any change
let sequence = 0;

function notify() {
  for (const listener of listeners) listener();
}

// Calls `listener` on every change; returns a function that stops it.
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const jobs = () => entries;

function add(fields) {
  const entry = { key: `j${++sequence}`, started: Date.now(), sent: 0, total: 0, rate: 0, progress: 0,
    error: '', jobId: null, ...fields };
  entries.unshift(entry);
  notify();
  return entry;
}

// Follows the server's job until it ends; `finished` listeners (the images page) hear of a done import.
function follow(entry) {
  entry.phase = 'importing';
  notify();
  const poll = async () => {
    try {
      const job = await api.job(entry.jobId);
      entry.progress = job.progress;
      if (job.state === 'running') {
        setTimeout(poll, POLL_MS);
      } else {
        entry.phase = job.state === 'done' ? 'done' : 'failed';
        entry.error = job.error || '';
        entry.finished = Date.now();
      }
    } catch (error) {
      if (error.status === 404) {
        entry.phase = 'failed';
        entry.error = 'the server no longer knows this job (restarted?)';
      } else {
        setTimeout(poll, POLL_MS * 5);  // a hiccup: try again a little later
      }
    }
    notify();
  };
  poll();
}

// Imports a file already on the server.
export async function importFromServer(name, path) {
  const entry = add({ name, source: path, phase: 'starting' });
  try {
    entry.jobId = (await api.importImage(name, path)).job;
    follow(entry);
  } catch (error) {
    entry.phase = 'failed';
    entry.error = error.message;
    notify();
  }
  return entry;
}

// Uploads `file` (a File from an <input type=file>) as image `name`, then follows its import.
export function upload(name, file) {
  const entry = add({ name, source: file.name, phase: 'uploading', total: file.size });
  const samples = [{ at: Date.now(), sent: 0 }];
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', `/api/v1/images/${encodeURIComponent(name)}/upload`);
  for (const [header, value] of Object.entries(csrfHeader())) xhr.setRequestHeader(header, value);
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.upload.addEventListener('progress', (event) => {
    const now = Date.now();
    entry.sent = event.loaded;
    if (event.lengthComputable) entry.total = event.total;
    samples.push({ at: now, sent: event.loaded });
    while (samples.length > 2 && now - samples[0].at > RATE_WINDOW_MS) samples.shift();
    const span = now - samples[0].at;
    if (span > 0) entry.rate = ((event.loaded - samples[0].sent) * 1000) / span;
    notify();
  });
  xhr.upload.addEventListener('load', () => {
    entry.sent = entry.total;
    entry.uploadMs = Date.now() - entry.started;
    entry.phase = 'processing';  // the server checks the file before it answers
    notify();
  });
  xhr.addEventListener('load', () => {
    let body = {};
    try {
      body = JSON.parse(xhr.responseText || '{}');
    } catch {
      body = { error: xhr.responseText.slice(0, 200) };
    }
    if (xhr.status === 202 && body.job) {
      entry.jobId = body.job;
      follow(entry);
      return;
    }
    entry.phase = 'failed';
    entry.error = body.error || `HTTP ${xhr.status}`;
    notify();
  });
  const broken = (why) => () => {
    entry.phase = 'failed';
    entry.error = why;
    notify();
  };
  xhr.addEventListener('error', broken('the upload was interrupted'));
  xhr.addEventListener('abort', broken('the upload was cancelled'));
  entry.cancel = () => xhr.abort();
  xhr.send(file);
  notify();
  return entry;
}

// After a reload: the server's recent jobs (GET /api/v1/jobs), running ones followed again. Servers without
// the list keep only the jobs started in this page.
export async function restore() {
  let items;
  try {
    ({ items } = await request('GET', '/api/v1/jobs'));
  } catch {
    return;
  }
  for (const job of [...items].reverse()) {
    if (entries.some((e) => e.jobId === job.id)) continue;
    const entry = add({
      name: job.description.replace(/^import /, ''), source: job.description, jobId: job.id,
      phase: job.state === 'running' ? 'importing' : job.state, progress: job.progress, error: job.error || '',
      started: job.started_at ?? Date.now(), finished: job.finished_at ?? null,
    });
    if (job.state === 'running') follow(entry);
  }
}

export function forget() {
  entries.length = 0;
  notify();
}

const PHASE_WORDS = {
  starting: 'starting', uploading: 'uploading', processing: 'checking the upload', importing: 'importing',
  done: 'done', failed: 'failed',
};

function eta(entry) {
  if (entry.rate <= 0) return 'ETA —';
  return `ETA ${formatDuration(((entry.total - entry.sent) * 1000) / entry.rate)}`;
}

function entryText(entry) {
  const percent = (fraction) => `${Math.floor(fraction * 100)}%`;
  switch (entry.phase) {
    case 'uploading': {
      const fraction = entry.total > 0 ? entry.sent / entry.total : 0;
      return `${formatBytes(entry.sent)} of ${formatBytes(entry.total)} sent (${percent(fraction)}) · ` +
        `${formatRate(entry.rate)} · ${eta(entry)}`;
    }
    case 'processing': return `${formatBytes(entry.total)} sent; the server checks the file`;
    case 'importing': return `import ${percent(entry.progress)}`;
    case 'done': return entry.finished
      ? `imported ${formatTime(entry.finished, { seconds: true })}`
      : 'imported';
    case 'failed': return entry.error;
    default: return '';
  }
}

function fractionOf(entry) {
  if (entry.phase === 'uploading') return entry.total > 0 ? entry.sent / entry.total : 0;
  if (entry.phase === 'processing') return 1;
  if (entry.phase === 'importing') return entry.progress;
  return entry.phase === 'done' ? 1 : 0;
}

function row(entry) {
  const kind = { done: 'good', failed: 'bad' }[entry.phase] ?? 'warn';
  const fraction = fractionOf(entry);
  return h('li', { class: `job job-${entry.phase}`, testid: 'job', dataset: { phase: entry.phase, name: entry.name } },
    h('div', { class: 'job-head' },
      h('strong', {}, entry.name),
      h('span', { class: `badge ${kind}`, testid: 'job-phase' }, PHASE_WORDS[entry.phase] ?? entry.phase),
      h('span', { class: 'muted' }, entry.source),
      h('span', { class: 'spacer' }),
      entry.phase === 'uploading' && entry.cancel
        ? h('button', { type: 'button', class: 'link', onclick: entry.cancel }, 'Cancel') : ''),
    ['uploading', 'processing', 'importing'].includes(entry.phase)
      ? h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
        'aria-valuenow': Math.round(fraction * 100), 'aria-label': `${entry.name} ${PHASE_WORDS[entry.phase]}` },
      h('div', { class: `progress-fill ${kind}`, style: `width: ${fraction * 100}%` }))
      : '',
    h('div', { class: `job-text ${entry.phase === 'failed' ? 'error' : ''}`, testid: 'job-text' }, entryText(entry)));
}

// The jobs list as a card; call the returned dispose() when the view goes.
export function jobsPanel() {
  const list = h('ol', { class: 'jobs', testid: 'jobs-list', 'aria-live': 'polite' });
  const clearDone = h('button', { type: 'button', class: 'link', testid: 'jobs-clear',
    onclick: () => { for (let i = entries.length - 1; i >= 0; i -= 1) if (['done', 'failed'].includes(entries[i].phase)) entries.splice(i, 1); notify(); } },
  'Clear finished');
  const element = h('section', { class: 'card', testid: 'jobs-panel', 'aria-label': 'Image jobs' },
    h('div', { class: 'title-row' }, h('h2', {}, 'Jobs'), h('span', { class: 'spacer' }), clearDone), list);
  const render = () => {
    clearDone.hidden = !entries.some((e) => ['done', 'failed'].includes(e.phase));
    clear(list, entries.length === 0 ? h('li', { class: 'empty muted' }, 'No import or upload yet.') : entries.map(row));
  };
  render();
  return { element, dispose: subscribe(render) };
}

// The header's indicator: how many jobs run, a link to the images page.
export function mountIndicator(link) {
  const render = () => {
    const running = entries.filter((e) => !['done', 'failed'].includes(e.phase)).length;
    link.hidden = running === 0;
    link.textContent = `${running} job${running === 1 ? '' : 's'} running`;
  };
  render();
  return subscribe(render);
}
