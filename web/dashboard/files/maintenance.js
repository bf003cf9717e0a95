// Maintenance from a machine: boot this machine into an image's draft (POST /api/v1/images/{name}/edit with
// {on}), and the badge that shows a machine is in maintenance. The draft is committed or discarded on the
// Images page once the machine is shut down; its next boot is then its own disk again.
import { api } from './api.js';
import { h, toast, confirmAction, select, field } from './dom.js';

// "maintenance: IMAGE draft vN" while the node boots a draft, else nothing.
export function maintenanceBadge(node) {
  if (!node.maintenance) return '';
  return h('span', { class: 'badge warn', testid: 'machine-maintenance' },
    `maintenance: ${node.maintenance.image} draft v${node.maintenance.version}`);
}

// The "Maintain image…" control: an image to maintain (the machine's own by default) and the button.
// `change(description, call)` is the machine page's action runner (toast, refresh).
export function maintenanceControls(node, images, change) {
  const image = select(images, { emptyLabel: 'choose an image', selected: (node.maintenance && node.maintenance.image) || node.image || '',
    testid: 'maintain-image' });
  const start = async () => {
    if (!image.value) {
      toast('Choose the image to maintain', 'error');
      return;
    }
    if (!await confirmAction(`Maintain ${image.value} on ${node.name}?`,
      `${node.name}'s next boot starts the writable draft of ${image.value} (made now if there is none) instead of ` +
      'its own disk. Shut it down when done, then commit or discard the draft on the Images page.', 'Maintain')) return;
    change('Maintain image', () => api.maintain(image.value, node.name));
  };
  return h('div', { class: 'toolbar', testid: 'machine-maintenance-controls' },
    field('Maintain', image),
    h('button', { type: 'button', testid: 'machine-maintain', onclick: start }, 'Maintain image…'));
}
