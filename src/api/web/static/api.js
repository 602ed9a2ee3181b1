/* global document, fetch, window, CustomEvent, URLSearchParams */
// The page talks to the same JSON API as every other client, signed in by its session cookie. State-changing
// requests echo the CSRF cookie in X-Fireline-CSRF, which another site cannot read or send.

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `request failed (${status})`);
    this.status = status;
    this.code = error?.code ?? 'error';
    this.details = error?.details ?? {};
  }
}

function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'fireline_csrf') return decodeURIComponent(rest.join('='));
  }
  return '';
}

/** `api('/api/v1/incidents', { method, body, headers })` → { status, body, headers }; throws ApiError. */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const sent = { Accept: 'application/json', ...headers };
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') sent['X-Fireline-CSRF'] = csrfToken();
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, { code: 'network', message: 'Fireline could not be reached. Check the connection and try again.' });
  }
  const text = await res.text();
  const json = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/api/v1/session')) window.dispatchEvent(new CustomEvent('fireline:signed-out'));
    throw new ApiError(res.status, json?.error);
  }
  return { status: res.status, body: json, headers: res.headers };
}

export const get = (path) => api(path).then((r) => r.body);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
