// Images: version history, promote and rollback (confirmed), rolling a sealed version out (rollouts.js), the
// maintenance draft (edit, commit, discard), and new images uploaded from the browser or imported from a file on
// the server, each followed in the jobs list (jobs.js). Buttons whose action cannot apply are disabled and say why.
import { api } from './api.js';
import { rolloutForm } from './rollouts.js';
import { h, clear, toast, confirmAction, formatBytes, formatTime, field } from './dom.js';
import { importFromServer, jobsPanel, subscribe, upload, jobs } from './jobs.js';
import { enhanceTable } from './table.js';

const STATE_WORDS = { sealed: 'sealed', draft: 'draft (open for maintenance)' };

function versionsTable(table) {
  enhanceTable(table);
  return h('div', { class: 'table-scroll' }, table);
}

// A button that is disabled with `why` as its title when `why` is not empty.
function action(label, testid, onclick, why = '', className = '') {
  return h('button', { type: 'button', class: className, testid, onclick, disabled: Boolean(why), title: why || undefined }, label);
}

// The open draft for people: where it comes from, its times and size, and how a maintenance machine reaches it.
function draftDetails(draft) {
  const item = (label, value, testid) => [h('dt', {}, label), h('dd', { testid }, value)];
  return h('dl', { class: 'details', testid: 'draft-details' },
    item('Version', `v${draft.number}${draft.parent ? `, from v${draft.parent}` : ''}`),
    item('State', STATE_WORDS[draft.state] ?? draft.state),
    item('Opened', formatTime(draft.created), 'draft-created'),
    item('Sealed', draft.sealed ? formatTime(draft.sealed) : 'not yet', 'draft-sealed'),
    item('Size', `${formatBytes(draft.size_bytes)} (${formatBytes(draft.file_bytes)} written on the server)`),
    item('Maintenance machine', draft.maintenance_node
      ? h('a', { href: `#/machine/${encodeURIComponent(draft.maintenance_node)}` }, draft.maintenance_node)
      : 'none yet: any machine may log in to the target below'),
    draft.target ? item('iSCSI target', h('span', { class: 'mono' }, draft.target)) : '',
    draft.chap ? item('CHAP user / secret', h('span', { class: 'mono' }, `${draft.chap.user} / ${draft.chap.secret}`)) : '',
    draft.note ? item('Note', draft.note) : '');
}

export function mount(root) {
  const list = h('div', { testid: 'images-list' });
  let disposed = false;

  async function act(image, description, call) {
    try {
      await call();
      toast(`${image}: ${description}`, 'success');
    } catch (error) {
      toast(`${image}: ${error.message}`, 'error');
    }
    load();
  }

  // `active`: the image's running or paused rollout, if any (it owns promotion until it ends).
  function card(image, versions, active) {
    const promote = (v) => async () => {
      if (!await confirmAction(`Promote ${image.name} v${v.number}?`,
        `Every machine booting ${image.name} will get v${v.number} at its next boot.`, `Promote v${v.number}`)) return;
      act(image.name, `v${v.number} promoted`, () => api.promote(image.name, v.number));
    };
    const rollback = async () => {
      if (!await confirmAction(`Roll back ${image.name}?`,
        `Machines go back to the version promoted before v${image.promoted_version} at their next boot.`, 'Roll back')) return;
      act(image.name, 'rolled back', () => api.imageAction(image.name, 'rollback'));
    };
    const edit = () => act(image.name, 'maintenance draft opened', () => api.imageAction(image.name, 'edit'));
    const commit = async () => {
      if (!await confirmAction(`Commit the draft of ${image.name}?`,
        'The draft is sealed as a new version (not promoted yet).', 'Commit')) return;
      act(image.name, 'draft committed', () => api.imageAction(image.name, 'commit'));
    };
    const discard = async () => {
      if (!await confirmAction(`Discard the draft of ${image.name}?`,
        'Every change made in the maintenance session is lost.', 'Discard')) return;
      act(image.name, 'draft discarded', () => api.imageAction(image.name, 'discard'));
    };
    const slug = image.name;
    const formSlot = h('div', { testid: `rollout-slot-${slug}` });
    const rollOut = (v) => () => {
      const open = formSlot.firstChild?.dataset.testid === `rollout-form-${slug}-${v.number}`;
      clear(formSlot, open ? '' : rolloutForm(image.name, v.number));
    };
    const owner = active ? `rollout #${active.id} is in progress: it decides the promoted version until it ends` : '';
    const older = versions.items.some((v) => v.state === 'sealed' && v.number < image.promoted_version);
    const rollbackWhy = owner || (image.promoted_version === null ? 'no version is promoted'
      : !older ? `no version older than v${image.promoted_version} to roll back to` : '');
    const promoteWhy = (v) => owner || (v.promoted ? `v${v.number} is the promoted version` : '');
    // A rollout applies to a sealed version that is not promoted, from a promoted one, one at a time.
    const rollOutWhy = (v) => owner || (v.promoted ? `v${v.number} is already promoted`
      : image.promoted_version === null ? 'no version is promoted to roll out from' : '');
    const draft = versions.draft;
    const noDraft = 'no draft is open: start maintenance first';
    return h('section', { class: 'card', testid: `image-${slug}`, 'aria-labelledby': `image-title-${slug}` },
      h('div', { class: 'title-row' },
        h('h2', { id: `image-title-${slug}` }, image.name),
        h('span', { class: 'badge', testid: `promoted-${slug}` }, `promoted v${image.promoted_version ?? '—'}`),
        h('span', { class: 'muted' }, `${image.versions} version(s), ${formatBytes(image.size_bytes)}`),
        active ? h('a', { href: `#/rollout/${active.id}`, class: 'badge warn', testid: `active-rollout-${slug}` },
          `rollout #${active.id} to v${active.to_version}: ${active.state}`) : '',
        h('span', { class: 'spacer' }),
        h('span', { class: 'button-row' },
          action('Roll back', `rollback-${slug}`, rollback, rollbackWhy),
          action('Start maintenance', `edit-${slug}`, edit, draft ? `draft v${draft.number} is open: commit or discard it first` : ''),
          action('Commit draft', `commit-${slug}`, commit, draft ? '' : noDraft),
          action('Discard draft', `discard-${slug}`, discard, draft ? '' : noDraft, 'danger'))),
      draft
        ? h('div', { class: 'draft', testid: `draft-${slug}` },
          h('h3', {}, `Maintenance draft v${draft.number} open`),
          h('p', { class: 'hint' }, 'Boot a maintenance machine from this target, change it, then commit or discard.'),
          draftDetails(draft))
        : '',
      versionsTable(h('table', { class: 'table compact', testid: `versions-${slug}` },
        h('thead', {}, h('tr', {}, ['Version', 'Parent', 'State', 'Size', 'Written', 'Created', 'Sealed', 'Note', '']
          .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, [...versions.items].sort((a, b) => b.number - a.number).map((v) =>
          h('tr', { testid: `version-${slug}-${v.number}`, class: v.promoted ? 'promoted' : '' },
            h('td', { dataset: { sort: v.number } }, `v${v.number}`, v.promoted ? h('span', { class: 'badge good' }, 'promoted') : ''),
            h('td', { dataset: { sort: v.parent ?? '' } }, v.parent ? `v${v.parent}` : '—'),
            h('td', {}, STATE_WORDS[v.state] ?? v.state),
            h('td', { class: 'num', dataset: { sort: v.size_bytes } }, formatBytes(v.size_bytes)),
            h('td', { class: 'num', dataset: { sort: v.file_bytes }, title: 'bytes this version adds on the server' }, formatBytes(v.file_bytes)),
            h('td', { class: 'when', dataset: { sort: v.created }, testid: 'version-created' }, formatTime(v.created)),
            h('td', { class: 'when', dataset: { sort: v.sealed ?? '' }, testid: 'version-sealed' }, v.sealed ? formatTime(v.sealed) : 'not yet'),
            h('td', {}, v.note || ''),
            h('td', { class: 'row-actions' },
              action('Promote', `promote-${slug}-${v.number}`, promote(v), promoteWhy(v)),
              action('Roll out…', `rollout-${slug}-${v.number}`, rollOut(v), rollOutWhy(v)))))))),
      formSlot);
  }

  async function load() {
    try {
      const [images, rollouts] = await Promise.all([api.images(), api.rollouts()]);
      const versions = await Promise.all(images.items.map((i) => api.versions(i.name)));
      if (disposed) return;
      const active = (image) => rollouts.items.find((r) => r.image === image && ['running', 'paused'].includes(r.state));
      clear(list, images.items.length === 0
        ? h('p', { class: 'empty' }, 'No image yet: upload or import one below.')
        : images.items.map((image, i) => card(image, versions[i], active(image.name))));
    } catch (error) {
      clear(list, h('p', { class: 'error' }, `Could not load images: ${error.message}`));
    }
  }

  // Upload from this computer: the name defaults to the file's, without its extension.
  const file = h('input', { type: 'file', required: true, testid: 'image-upload-file' });
  const uploadName = h('input', { required: true, testid: 'image-upload-name', pattern: '[A-Za-z0-9._\\-]+' });
  file.addEventListener('change', () => {
    const chosen = file.files[0];
    if (chosen && !uploadName.value) uploadName.value = chosen.name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]/g, '-');
  });
  const uploadForm = h('form', { class: 'toolbar', testid: 'image-upload-form' },
    field('File', file), field('Name', uploadName),
    h('button', { type: 'submit', class: 'primary', testid: 'image-upload-start' }, 'Upload'));
  uploadForm.addEventListener('submit', (event) => {
    event.preventDefault();
    upload(uploadName.value.trim(), file.files[0]);
    uploadForm.reset();
  });

  const name = h('input', { required: true, testid: 'image-import-name', pattern: '[A-Za-z0-9._\\-]+' });
  const path = h('input', { required: true, testid: 'image-import-path', placeholder: '/srv/images/golden.vhdx' });
  const form = h('form', { class: 'toolbar', testid: 'image-import-form' },
    field('Name', name), field('File on the server', path),
    h('button', { type: 'submit', class: 'primary', testid: 'image-import-start' }, 'Import'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    importFromServer(name.value.trim(), path.value.trim());
    form.reset();
  });

  // A finished import shows its image: reload the list when a job reaches "done".
  const seenDone = new Set(jobs().filter((j) => j.phase === 'done').map((j) => j.key));
  const stopWatching = subscribe(() => {
    const fresh = jobs().filter((j) => j.phase === 'done' && !seenDone.has(j.key));
    for (const j of fresh) seenDone.add(j.key);
    if (fresh.length > 0) load();
  });
  const panel = jobsPanel();

  clear(root, h('h1', {}, 'Images'), list,
    h('section', { class: 'card' }, h('h2', {}, 'Add an image'),
      h('h3', {}, 'Upload from this computer'),
      h('p', { class: 'hint' }, 'A raw disk image or a VHDX; the upload and its import show in the jobs below.'),
      uploadForm,
      h('h3', {}, 'Import a file already on the server'),
      form),
    panel.element);
  load();
  return () => { disposed = true; stopWatching(); panel.dispose(); };
}
