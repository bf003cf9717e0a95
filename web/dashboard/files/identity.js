// A machine's own identity: its host name (full DHCP option 12, and the iBFT through the boot script) and its
// fixed address. The server validates both; these fields only check the shape, to flag typos early.
import { h, labelled } from './dom.js';

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function field(pattern, attrs) {
  const input = h('input', { autocomplete: 'off', spellcheck: false, ...attrs });
  input.addEventListener('input', () => {
    input.classList.toggle('invalid', input.value.trim() !== '' && !pattern.test(input.value.trim()));
  });
  return input;
}

// Host name and fixed address inputs. values(): { hostname, fixed_ip }, an empty field as null.
export function identityInputs(node = null, testidPrefix = 'identity') {
  const hostname = field(HOSTNAME, {
    value: node?.hostname ?? '',
    placeholder: node?.effective_hostname ? `${node.effective_hostname} (its name)` : 'the node name',
    testid: `${testidPrefix}-hostname`,
  });
  const ip = field(IPV4, {
    value: node?.fixed_ip ?? '',
    placeholder: 'from the DHCP range',
    testid: `${testidPrefix}-ip`,
  });
  const value = (input) => input.value.trim() || null;
  return {
    elements: [...labelled('Host name', hostname), ...labelled('Fixed IP', ip)],
    values: () => ({ hostname: value(hostname), fixed_ip: value(ip) }),
  };
}

// The machine page's identity row: only what changed is sent, through save(changes).
export function identityEditor(node, save) {
  const inputs = identityInputs(node);
  const button = h('button', { type: 'button', testid: 'identity-save' }, 'Save identity');
  button.addEventListener('click', () => {
    const wanted = inputs.values();
    const changes = {};
    if (wanted.hostname !== (node.hostname ?? null)) changes.hostname = wanted.hostname;
    if (wanted.fixed_ip !== (node.fixed_ip ?? null)) changes.fixed_ip = wanted.fixed_ip;
    if (Object.keys(changes).length > 0) save(changes);
  });
  return h('div', { class: 'toolbar', testid: 'machine-identity' }, ...inputs.elements, button);
}
