/* global document, window, URLSearchParams */
// The managers' page: a hash-routed single page over the JSON API. Views render into <main>; each may return
// a cleanup function (closing its live connection) that runs when the route changes.
import { ApiError, api } from './api.js';
import { fill, h } from './dom.js';
import { renderActionItems } from './views/action-items.js';
import { renderIncident } from './views/incident.js';
import { renderIncidentList } from './views/incidents.js';
import { renderMetrics } from './views/metrics.js';
import { renderPostmortem } from './views/postmortem.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
let me = null;
let cleanup = null;
let renderSeq = 0;
let lastPath = null;

const ROUTES = [
  {
    pattern: /^#\/incidents\/(INC-\d+)\/postmortem$/,
    nav: 'incidents',
    view: (m, q) => renderPostmortem(main, { id: m[1], me, query: q }),
  },
  { pattern: /^#\/incidents\/(INC-\d+)$/, nav: 'incidents', view: (m, q) => renderIncident(main, { id: m[1], me, query: q }) },
  { pattern: /^#\/incidents$/, nav: 'incidents', view: (_m, q) => renderIncidentList(main, { me, query: q }) },
  { pattern: /^#\/action-items$/, nav: 'action-items', view: (_m, q) => renderActionItems(main, { me, query: q }) },
  { pattern: /^#\/metrics$/, nav: 'metrics', view: (_m, q) => renderMetrics(main, { me, query: q }) },
];

function parseHash() {
  const raw = window.location.hash || '#/incidents';
  const [path, search = ''] = raw.split('?');
  return { path, query: new URLSearchParams(search) };
}

async function route() {
  if (!me) return;
  const seq = ++renderSeq;
  if (cleanup) cleanup();
  cleanup = null;
  const { path, query } = parseHash();
  // Changing only the query (filters) keeps focus on the control that changed it.
  const keepFocus =
    path === lastPath && main.contains(document.activeElement) && document.activeElement.id ? document.activeElement.id : null;
  lastPath = path;
  const found = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (found && a.dataset.nav === found.r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!found) {
    fill(main, h('h1', {}, 'Not found'), h('p', {}, 'There is no page here. ', h('a', { href: '#/incidents' }, 'Go to the incidents.')));
    return;
  }
  fill(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const result = await found.r.view(found.m, query);
    if (seq !== renderSeq) {
      if (typeof result === 'function') result();
      return;
    }
    cleanup = typeof result === 'function' ? result : null;
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof ApiError && err.status === 401) return;
    const message = err instanceof ApiError ? err.message : 'Something went wrong while loading this page.';
    fill(
      main,
      h('h1', {}, err instanceof ApiError && err.status === 404 ? 'Not found' : 'Could not load'),
      h('p', { class: 'notice error', role: 'alert' }, message),
    );
  }
  const kept = keepFocus && document.getElementById(keepFocus);
  if (kept) {
    kept.focus();
    return;
  }
  // Move focus to the new page's heading so keyboard and screen-reader users start at the top.
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

/** Whether single sign-on is on (GET /api/v1/session/options); asked once per page load. */
let signInOptions = null;
async function loadSignInOptions() {
  if (!signInOptions) {
    try {
      signInOptions = (await api('/api/v1/session/options')).body;
    } catch {
      signInOptions = { token: true, sso: null };
    }
  }
  return signInOptions;
}

function ssoLink(sso) {
  // Back to where the page was (a fragment route) once the identity provider has signed the person in.
  const returnTo = `/${window.location.hash || '#/incidents'}`;
  const href = `${sso.loginUrl}?returnTo=${encodeURIComponent(returnTo)}`;
  return h(
    'div',
    { class: 'panel stack sso' },
    h('a', { class: 'button primary', id: 'sso-sign-in', href }, 'Sign in with SSO'),
    h('p', { class: 'hint' }, 'With your company account, through its identity provider.'),
  );
}

async function showSignIn(message) {
  me = null;
  if (cleanup) cleanup();
  cleanup = null;
  topbar.hidden = true;
  const token = h('input', {
    type: 'password',
    id: 'token',
    name: 'token',
    autocomplete: 'current-password',
    required: true,
    'aria-describedby': 'token-hint',
  });
  const error = h('p', { class: 'notice error', role: 'alert', hidden: !message }, message ?? '');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'panel stack', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'token' }, 'Access token'),
      token,
      h(
        'p',
        { class: 'hint', id: 'token-hint' },
        'A Fireline API token (flt_…). It is exchanged for a session cookie and not kept in the page.',
      ),
    ),
    error,
    h('div', { class: 'row' }, submit),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!token.value.trim()) {
      error.hidden = false;
      error.textContent = 'Enter your access token.';
      token.focus();
      return;
    }
    submit.disabled = true;
    try {
      await api('/api/v1/session', { method: 'POST', body: { token: token.value.trim() } });
      token.value = '';
      await start();
    } catch (err) {
      error.hidden = false;
      error.textContent = err instanceof ApiError && err.status === 401 ? 'That token is not valid.' : (err.message ?? 'Sign-in failed.');
      token.select();
      token.focus();
    } finally {
      submit.disabled = false;
    }
  });
  const { sso } = await loadSignInOptions();
  fill(
    main,
    h(
      'section',
      { class: 'signin', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, 'Sign in to Fireline'),
      ...(sso ? [ssoLink(sso), h('p', { class: 'signin-or' }, 'or with an access token')] : []),
      form,
    ),
  );
  if (sso) document.getElementById('sso-sign-in').focus();
  else token.focus();
}

async function start() {
  try {
    me = (await api('/api/v1/session')).body;
  } catch (err) {
    await showSignIn(err instanceof ApiError && err.status !== 401 ? err.message : undefined);
    return;
  }
  topbar.hidden = false;
  document.getElementById('who-name').textContent = `${me.name} · ${me.role}`;
  if (!window.location.hash || window.location.hash === '#/' || window.location.hash === '#') window.location.replace('#/incidents');
  await route();
}

document.getElementById('sign-out').addEventListener('click', async () => {
  let redirect;
  try {
    redirect = (await api('/api/v1/session', { method: 'DELETE' })).body?.redirect;
  } catch {
    // Signed out here whatever the answer: the cookies are gone or no longer valid.
  }
  // Signed in through the identity provider: sign out there too; it sends the browser back to this page.
  if (redirect) {
    window.location.assign(redirect);
    return;
  }
  window.location.hash = '#/incidents';
  void showSignIn();
});

window.addEventListener('hashchange', () => void route());
window.addEventListener('fireline:signed-out', () => void showSignIn('Your session has ended. Sign in again.'));
void start();
