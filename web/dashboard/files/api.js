// The REST API client: JSON in and out, the session's CSRF token on every state change, errors as ApiError.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.field = body && body.field;
    this.body = body || {};
  }
}

let csrfToken = '';
let onUnauthorized = () => {};

export function setCsrfToken(token) { csrfToken = token || ''; }
// The header a state change carries, for requests not sent through request() (an upload's XMLHttpRequest).
export function csrfHeader() { return csrfToken ? { 'X-CSRF-Token': csrfToken } : {}; }
export function setUnauthorizedHandler(handler) { onUnauthorized = handler; }

const changesState = (method) => !['GET', 'HEAD'].includes(method);

// Sends one request; `body` is JSON-encoded unless it is a string (sent as is with `contentType`).
export async function request(method, path, { body, contentType = 'application/json', expectAuth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (changesState(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = contentType;
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = response.status === 204 ? '' : await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text.slice(0, 200) };
    }
  }
  if (!response.ok) {
    if (response.status === 401 && expectAuth) onUnauthorized();
    throw new ApiError(response.status, data);
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  me: () => request('GET', '/api/v1/me', { expectAuth: false }),
  login: (username, password) =>
    request('POST', '/api/v1/login', { body: { username, password }, expectAuth: false }),
  logout: () => request('POST', '/api/v1/logout'),

  overview: () => request('GET', '/api/v1/overview'),
  sessions: () => request('GET', '/api/v1/sessions'),

  nodes: (query) => request('GET', `/api/v1/nodes?${new URLSearchParams(query)}`),
  node: (name) => request('GET', `/api/v1/nodes/${enc(name)}`),
  createNode: (node) => request('POST', '/api/v1/nodes', { body: node }),
  updateNode: (name, changes) => request('PATCH', `/api/v1/nodes/${enc(name)}`, { body: changes }),
  deleteNode: (name) => request('DELETE', `/api/v1/nodes/${enc(name)}`),
  bulk: (names, action, params = {}) =>
    request('POST', '/api/v1/nodes/bulk', { body: { names, action, ...params } }),
  importCsv: (csv, validateOnly) =>
    request('POST', `/api/v1/nodes/import${validateOnly ? '?validate_only=1' : ''}`,
      { body: csv, contentType: 'text/csv' }),

  discovered: () => request('GET', '/api/v1/discovered'),
  enroll: (items) => request('POST', '/api/v1/discovered/enroll', { body: { items } }),

  groups: () => request('GET', '/api/v1/groups'),
  images: () => request('GET', '/api/v1/images'),
  importImage: (name, path) => request('POST', '/api/v1/images', { body: { name, path } }),
  job: (id) => request('GET', `/api/v1/jobs/${enc(id)}`),
  versions: (name) => request('GET', `/api/v1/images/${enc(name)}/versions`),
  promote: (name, version) => request('POST', `/api/v1/images/${enc(name)}/promote`, { body: { version } }),
  imageAction: (name, action) => request('POST', `/api/v1/images/${enc(name)}/${action}`, { body: {} }),
  maintain: (name, node) => request('POST', `/api/v1/images/${enc(name)}/edit`, { body: { on: node } }),

  rollouts: (image) => request('GET', `/api/v1/rollouts${image ? `?image=${enc(image)}` : ''}`),
  rollout: (id) => request('GET', `/api/v1/rollouts/${enc(id)}`),
  startRollout: (image, body) => request('POST', `/api/v1/images/${enc(image)}/rollouts`, { body }),
  rolloutAction: (id, action) => request('POST', `/api/v1/rollouts/${enc(id)}/${action}`),

  events: (query) => request('GET', `/api/v1/events?${new URLSearchParams(query)}`),
};

// Follows the live event stream from `after` on; calls onEvent(event) for each. Returns a function that stops it.
export function followEvents(after, onEvent, onState = () => {}) {
  const query = after ? `?after=${enc(after)}` : '';
  const source = new EventSource(`/api/v1/events/stream${query}`);
  source.onopen = () => onState('live');
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  source.onmessage = (message) => {
    try {
      onEvent(JSON.parse(message.data));
    } catch {
      // a malformed message is skipped; the stream goes on
    }
  };
  return () => source.close();
}
