// Images: version history, promote and rollback (confirmed), rolling a sealed version out (rollouts.js), the
// maintenance draft (edit, commit, discard), and importing a new image from a file on the server with its progress.
import { api } from './api.js';
import { rolloutForm } from './rollouts.js';
import { h, clear, toast, confirmAction, formatBytes, formatTime, labelled } from './dom.js';
import { enhanceTable } from './table.js';

function details(object) {
  return h('dl', { class: 'details' }, Object.entries(object).map(([key, value]) =>
    [h('dt', {}, key.replace(/_/g, ' ')), h('dd', { class: 'mono' }, typeof value === 'object' ? JSON.stringify(value) : String(value))]));
}

function versionsTable(table) {
  enhanceTable(table);
  return h('div', { class: 'table-scroll' }, table);
}

export function mount(root) {
  const list = h('div', { testid: 'images-list' });
  let disposed = false;
  let jobTimer;

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
    const canRollOut = (v) => v.state === 'sealed' && !v.promoted && !active && image.promoted_version !== null;
    return h('section', { class: 'card', testid: `image-${slug}`, 'aria-labelledby': `image-title-${slug}` },
      h('div', { class: 'title-row' },
        h('h2', { id: `image-title-${slug}` }, image.name),
        h('span', { class: 'badge', testid: `promoted-${slug}` }, `promoted v${image.promoted_version ?? '—'}`),
        h('span', { class: 'muted' }, `${image.versions} version(s), ${formatBytes(image.size_bytes)}`),
        active ? h('a', { href: `#/rollout/${active.id}`, class: 'badge warn', testid: `active-rollout-${slug}` },
          `rollout #${active.id} to v${active.to_version}: ${active.state}`) : '',
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', testid: `rollback-${slug}`, onclick: rollback }, 'Roll back'),
        versions.draft
          ? [h('button', { type: 'button', testid: `commit-${slug}`, onclick: commit }, 'Commit draft'),
            h('button', { type: 'button', class: 'danger', testid: `discard-${slug}`, onclick: discard }, 'Discard draft')]
          : h('button', { type: 'button', testid: `edit-${slug}`, onclick: edit }, 'Start maintenance')),
      versions.draft
        ? h('div', { class: 'draft', testid: `draft-${slug}` },
          h('h3', {}, 'Maintenance draft open'),
          h('p', { class: 'hint' }, 'Boot a maintenance machine from this target, change it, then commit or discard.'),
          details(versions.draft))
        : '',
      versionsTable(h('table', { class: 'table compact', testid: `versions-${slug}` },
        h('thead', {}, h('tr', {}, ['Version', 'Parent', 'Size', 'Created', 'Note', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, [...versions.items].sort((a, b) => b.number - a.number).map((v) =>
          h('tr', { testid: `version-${slug}-${v.number}`, class: v.promoted ? 'promoted' : '' },
            h('td', { dataset: { sort: v.number } }, `v${v.number}`, v.promoted ? h('span', { class: 'badge good' }, 'promoted') : ''),
            h('td', {}, v.parent ? `v${v.parent}` : '—'),
            h('td', { class: 'num' }, formatBytes(v.size_bytes)),
            h('td', { dataset: { sort: v.created } }, formatTime(v.created)),
            h('td', {}, v.note || ''),
            h('td', { class: 'row-actions' }, v.promoted ? '' : h('button', { type: 'button', testid: `promote-${slug}-${v.number}`,
              onclick: promote(v) }, 'Promote'),
            canRollOut(v) ? h('button', { type: 'button', testid: `rollout-${slug}-${v.number}`, onclick: rollOut(v) },
              'Roll out…') : '')))))),
      formSlot);
  }

  async function load() {
    try {
      const [images, rollouts] = await Promise.all([api.images(), api.rollouts()]);
      const versions = await Promise.all(images.items.map((i) => api.versions(i.name)));
      if (disposed) return;
      const active = (image) => rollouts.items.find((r) => r.image === image && ['running', 'paused'].includes(r.state));
      clear(list, images.items.length === 0
        ? h('p', { class: 'empty' }, 'No image yet: import one below.')
        : images.items.map((image, i) => card(image, versions[i], active(image.name))));
    } catch (error) {
      clear(list, h('p', { class: 'error' }, `Could not load images: ${error.message}`));
    }
  }

  const name = h('input', { required: true, testid: 'image-import-name', pattern: '[A-Za-z0-9._-]+' });
  const path = h('input', { required: true, testid: 'image-import-path', placeholder: '/srv/images/golden.vhdx' });
  const progress = h('progress', { max: 1, value: 0, hidden: true, testid: 'image-import-progress' });
  const status = h('span', { role: 'status', testid: 'image-import-status' });
  const form = h('form', { class: 'toolbar', testid: 'image-import-form' },
    labelled('Name', name), labelled('File on the server', path),
    h('button', { type: 'submit', class: 'primary' }, 'Import'), progress, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const { job } = await api.importImage(name.value.trim(), path.value.trim());
      progress.hidden = false;
      status.textContent = 'Importing…';
      const poll = async () => {
        const j = await api.job(job);
        progress.value = j.progress;
        if (j.state === 'running') {
          jobTimer = setTimeout(poll, 1000);
          return;
        }
        progress.hidden = true;
        status.textContent = j.state === 'done' ? 'Imported.' : `Failed: ${j.error}`;
        load();
      };
      await poll();
    } catch (error) {
      status.textContent = `Failed: ${error.message}`;
    }
  });

  clear(root, h('h1', {}, 'Images'), list,
    h('section', { class: 'card' }, h('h2', {}, 'Import an image'), form));
  load();
  return () => { disposed = true; clearTimeout(jobTimer); };
}
