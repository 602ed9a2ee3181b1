// Single sign-on over real HTTP: a real OpenID provider (oidc-provider in its own process) and the real app,
// the authorization code flow scripted with fetch through the provider's development login and consent.
import { createApp } from '../../src/api/app';
import { parseRoleRules } from '../../src/domain/role-rules';
import { createOidcService } from '../../src/services/oidc';
import { createTokenService } from '../../src/services/tokens';
import type { Store } from '../../src/store/store';
import { listenThenMount, startApiHarness, unlimitedGuessing } from '../support/api';
import type { ApiHarness } from '../support/api';
import { CookieJar, fetchWithJar, loginAtProvider } from '../support/oidc-flow';
import { startTestProvider } from '../support/oidc-provider';
import type { TestProvider } from '../support/oidc-provider';
import { describeEachStore } from '../support/stores';

const ACCOUNTS = {
  grace: { name: 'Grace Lead', email: 'grace@example.test', groups: ['sre-leads', 'sre'] },
  vera: { name: 'Vera Support', email: 'vera@example.test', groups: ['support'] },
  mallory: { name: 'Mallory Marketing', email: 'mallory@example.test', groups: ['marketing'] },
};
const HOUR = 3_600_000;

let api: ApiHarness;
let provider: TestProvider;
/** Both clocks the sign-in checks expiry by (pending logins, sessions) run this far ahead of the system's. */
let clockOffsetMs = 0;
const clock = () => new Date(Date.now() + clockOffsetMs);

beforeAll(async () => {
  api = await startApiHarness({
    name: 'api-oidc',
    moreDeps: async (url, store) => {
      provider = await startTestProvider({ publicUrl: url, accounts: ACCOUNTS });
      return {
        publicUrl: url,
        now: clock,
        oidc: createOidcService({
          settings: {
            issuer: provider.issuer,
            clientId: provider.clientId,
            clientSecret: provider.clientSecret,
            scopes: 'openid email profile groups',
            roleClaim: 'groups',
            // No `*`: someone in none of these groups is refused.
            roles: parseRoleRules('sre-leads=commander,sre=responder,support=viewer'),
          },
          publicUrl: url,
          store,
          now: clock,
        }),
      };
    },
  });
});
afterEach(() => {
  clockOffsetMs = 0;
});
afterAll(async () => {
  await api?.stop();
  await provider?.stop();
});

/** Starts a login at Fireline and logs in at the provider; answers the callback URL the provider sent back. */
async function throughProvider(jar: CookieJar, login: string, returnTo = '/#/incidents'): Promise<string> {
  const start = await fetchWithJar(jar, `${api.url}/auth/oidc/login?returnTo=${encodeURIComponent(returnTo)}`);
  expect(start.status).toBe(302);
  const location = start.headers.get('location')!;
  expect(location.startsWith(`${provider.issuer}/auth?`)).toBe(true);
  const params = new URL(location).searchParams;
  expect(params.get('code_challenge_method')).toBe('S256');
  expect(params.get('redirect_uri')).toBe(`${api.url}/auth/oidc/callback`);
  for (const p of ['code_challenge', 'state', 'nonce']) expect(params.get(p)).toMatch(/^[\w-]{20,}$/);
  return loginAtProvider(jar, location, login, `${api.url}/auth/oidc/callback`);
}

async function signIn(login: string, returnTo?: string): Promise<{ jar: CookieJar; callback: string; res: Response }> {
  const jar = new CookieJar();
  const callback = await throughProvider(jar, login, returnTo);
  const res = await fetchWithJar(jar, callback);
  return { jar, callback, res };
}

function withSession(jar: CookieJar, method = 'GET'): RequestInit {
  const csrf = decodeURIComponent(jar.get(api.url, 'fireline_csrf') ?? '');
  return { method, headers: method === 'GET' ? {} : { 'x-fireline-csrf': csrf, 'content-type': 'application/json' } };
}

test('the sign-in screen learns that single sign-on is on', async () => {
  const res = await api.get<{ sso: { loginUrl: string } | null }>('/api/v1/session/options');
  expect(res.status).toBe(200);
  expect(res.body.sso).toEqual({ loginUrl: '/auth/oidc/login' });
});

test('a commander-mapped person signs in, is who the session says, may declare, and is audited', async () => {
  const { jar, res } = await signIn('grace', '/#/incidents');
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/#/incidents');
  const setCookies = res.headers.getSetCookie();
  expect(setCookies.find((c) => c.startsWith('fireline_session='))).toMatch(/HttpOnly/i);
  expect(setCookies.find((c) => c.startsWith('fireline_session='))).toMatch(/SameSite=Strict/i);
  expect(jar.get(api.url, 'fireline_csrf')).toBeTruthy();

  const me = await fetchWithJar(jar, `${api.url}/api/v1/session`);
  expect(me.status).toBe(200);
  expect(await me.json()).toMatchObject({
    kind: 'oidc',
    name: 'Grace Lead',
    email: 'grace@example.test',
    subject: 'grace',
    issuer: provider.issuer,
    role: 'commander',
    via: 'session',
  });

  const declared = await fetchWithJar(jar, `${api.url}/api/v1/incidents`, {
    ...withSession(jar, 'POST'),
    body: JSON.stringify({ title: 'Checkout 500s', runbook: 'instant' }),
  });
  expect(declared.status).toBe(201);
  const { incident } = (await declared.json()) as { incident: { id: string } };
  const [declaredEntry] = await api.store.listAudit({ action: 'incident.declare', incidentId: incident.id, limit: 1 });
  expect(declaredEntry?.actor).toEqual({ id: 'oidc:grace', name: 'grace@example.test', role: 'commander' });

  const [signInEntry] = await api.store.listAudit({ action: 'session.sign-in', limit: 1 });
  expect(signInEntry).toMatchObject({
    actor: { id: 'oidc:grace', name: 'grace@example.test', role: 'commander' },
    path: '/auth/oidc/callback',
    outcome: 'ok',
    details: { via: 'oidc', subject: 'grace', role: 'commander', expiresAt: expect.any(String) },
  });
  // Neither the session id nor the provider's code is in the log.
  const text = JSON.stringify(signInEntry);
  expect(text).not.toContain(jar.get(api.url, 'fireline_session')!);
});

test('a viewer-mapped person may read but not declare (403); a person no rule maps is refused with a page', async () => {
  const vera = await signIn('vera');
  expect(vera.res.status).toBe(302);
  const me = (await (await fetchWithJar(vera.jar, `${api.url}/api/v1/session`)).json()) as { role: string };
  expect(me.role).toBe('viewer');
  expect((await fetchWithJar(vera.jar, `${api.url}/api/v1/incidents`)).status).toBe(200);
  const declared = await fetchWithJar(vera.jar, `${api.url}/api/v1/incidents`, {
    ...withSession(vera.jar, 'POST'),
    body: JSON.stringify({ title: 'Nope', runbook: 'instant' }),
  });
  expect(declared.status).toBe(403);
  expect(((await declared.json()) as { error: { message: string } }).error.message).toContain('commander');

  const before = (await api.store.listAudit({ action: 'session.sign-in', limit: 100 })).length;
  const mallory = await signIn('mallory');
  expect(mallory.res.status).toBe(403);
  expect(mallory.res.headers.get('content-type')).toMatch(/^text\/html/);
  const page = await mallory.res.text();
  expect(page).toContain('Sign-in refused');
  expect(page).toContain('mallory@example.test');
  expect(page).toContain('FIRELINE_OIDC_ROLES');
  expect(mallory.res.headers.getSetCookie().some((c) => c.startsWith('fireline_session='))).toBe(false);
  expect(mallory.jar.get(api.url, 'fireline_session')).toBeUndefined();
  expect((await api.store.listAudit({ action: 'session.sign-in', limit: 100 })).length).toBe(before);
});

test('a replayed callback, a wrong state, another browser and an expired login are refused with 400', async () => {
  const { jar, callback, res } = await signIn('grace');
  expect(res.status).toBe(302);
  const again = await fetchWithJar(jar, callback);
  expect(again.status).toBe(400);
  expect(await again.text()).toContain('already used');

  const jar2 = new CookieJar();
  const second = new URL(await throughProvider(jar2, 'grace'));
  second.searchParams.set('state', 'not-the-state-fireline-sent-at-all');
  expect((await fetchWithJar(jar2, second.href)).status).toBe(400);
  second.searchParams.delete('state');
  expect((await fetchWithJar(jar2, second.href)).status).toBe(400);

  // The callback in a browser without the login cookie (someone else's link) is not theirs to finish.
  const jar3 = new CookieJar();
  const third = await throughProvider(jar3, 'grace');
  const elsewhere = await fetch(third, { redirect: 'manual' });
  expect(elsewhere.status).toBe(400);
  expect(await elsewhere.text()).toContain('another browser');

  const jar4 = new CookieJar();
  const fourth = await throughProvider(jar4, 'grace');
  clockOffsetMs = 11 * 60_000;
  const late = await fetchWithJar(jar4, fourth);
  expect(late.status).toBe(400);
  expect(await late.text()).toContain('expired');
  expect(jar4.get(api.url, 'fireline_session')).toBeUndefined();
});

test('returnTo must be a path on this site', async () => {
  for (const bad of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', 'incidents']) {
    const res = await fetch(`${api.url}/auth/oidc/login?returnTo=${encodeURIComponent(bad)}`, { redirect: 'manual' });
    expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
  }
  const plain = await fetch(`${api.url}/auth/oidc/login`, { redirect: 'manual' });
  expect(plain.status).toBe(302);
});

test('a session of a signed-in person expires by the session clock', async () => {
  const { jar } = await signIn('vera');
  expect((await fetchWithJar(jar, `${api.url}/api/v1/session`)).status).toBe(200);
  clockOffsetMs = 13 * HOUR;
  expect((await fetchWithJar(jar, `${api.url}/api/v1/session`)).status).toBe(401);
});

test('signing out drops the session, is audited and sends the browser to the provider to sign out there too', async () => {
  const { jar } = await signIn('grace');
  const session = jar.get(api.url, 'fireline_session')!;
  const out = await fetchWithJar(jar, `${api.url}/api/v1/session`, withSession(jar, 'DELETE'));
  expect(out.status).toBe(200);
  const { redirect } = (await out.json()) as { redirect: string };
  const end = new URL(redirect);
  expect(end.origin).toBe(provider.issuer);
  expect(end.pathname).toBe('/session/end');
  expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${api.url}/`);
  expect(end.searchParams.get('client_id')).toBe(provider.clientId);
  const [entry] = await api.store.listAudit({ action: 'session.sign-out', limit: 1 });
  expect(entry).toMatchObject({ actor: { id: 'oidc:grace', role: 'commander' }, details: { via: 'oidc', subject: 'grace' } });
  // The old cookie is dead even if a browser kept it.
  const stale = await fetch(`${api.url}/api/v1/session`, { headers: { cookie: `fireline_session=${session}` } });
  expect(stale.status).toBe(401);
  // The provider's sign-out page answers (it asks to confirm).
  expect((await fetchWithJar(jar, redirect)).status).toBe(200);
});

test('API tokens keep working beside single sign-on', async () => {
  expect((await api.get('/api/v1/session', { as: 'commander' })).body).toMatchObject({ kind: 'token', role: 'commander', via: 'token' });
  const signIn = await api.post('/api/v1/session', { body: { token: api.tokens.responder } });
  expect(signIn.status).toBe(201);
});

describeEachStore('two API replicas on one read model', (engine) => {
  // Behind a load balancer both replicas have the same public URL; here that is replica A's address, and the
  // provider's redirect is sent to replica B by hand, as a load balancer might.
  let replicaA: { url: string; close(): Promise<void> };
  let replicaB: { url: string; close(): Promise<void> };
  let idp: TestProvider;
  let store: Store;

  beforeEach(async () => {
    store = await engine.fresh();
    const storeB = await engine.another();
    const settings = (issuer: string) => ({
      issuer,
      clientId: 'fireline',
      clientSecret: 'test-provider-client-secret',
      scopes: 'openid email profile groups',
      roleClaim: 'groups',
      roles: parseRoleRules('sre-leads=commander,*=viewer'),
    });
    const appOn = (s: Store, publicUrl: string) =>
      createApp({
        ...api.deps,
        store: s,
        tokens: createTokenService({ store: s }),
        authThrottle: unlimitedGuessing(s),
        publicUrl,
        oidc: createOidcService({ settings: settings(idp.issuer), publicUrl, store: s }),
      });
    replicaA = await listenThenMount(async (url) => {
      idp = await startTestProvider({ publicUrl: url, accounts: ACCOUNTS });
      return appOn(store, url);
    });
    replicaB = await listenThenMount(async () => appOn(storeB, replicaA.url));
  });
  afterEach(async () => {
    await replicaA?.close();
    await replicaB?.close();
    await idp?.stop();
  });

  test('a login started on one replica finishes on the other, once; the session works on both', async () => {
    const jar = new CookieJar();
    const start = await fetchWithJar(jar, `${replicaA.url}/auth/oidc/login?returnTo=%2F%23%2Fmetrics`);
    expect(start.status).toBe(302);
    const callback = new URL(await loginAtProvider(jar, start.headers.get('location')!, 'grace', `${replicaA.url}/auth/oidc/callback`));
    const onB = `${replicaB.url}${callback.pathname}${callback.search}`;
    const cookie = jar.header(replicaA.url);
    const finished = await fetch(onB, { headers: { cookie }, redirect: 'manual' });
    expect(finished.status).toBe(302);
    expect(finished.headers.get('location')).toBe('/#/metrics');
    const session = finished.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    for (const replica of [replicaA, replicaB]) {
      const me = await fetch(`${replica.url}/api/v1/session`, { headers: { cookie: session } });
      expect(await me.json()).toMatchObject({ kind: 'oidc', subject: 'grace', role: 'commander' });
    }
    // Replayed on either replica: gone.
    expect((await fetch(onB, { headers: { cookie }, redirect: 'manual' })).status).toBe(400);
    expect((await fetch(callback.href, { headers: { cookie }, redirect: 'manual' })).status).toBe(400);
    const [entry] = await store.listAudit({ action: 'session.sign-in', limit: 1 });
    expect(entry).toMatchObject({ actor: { id: 'oidc:grace' }, details: { via: 'oidc', subject: 'grace', role: 'commander' } });
  });
});
