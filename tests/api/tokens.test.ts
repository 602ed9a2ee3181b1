// The token lifecycle over real HTTP: admins list, make and revoke tokens; expiry and revocation end a token and
// the page sessions opened with it; last use is recorded. Expiry runs on an injected clock, never the wall clock.
import { createApp } from '../../src/api/app';
import { createTokenService } from '../../src/services/tokens';
import type { TokenView } from '../../src/services/tokens';
import { expectError, expectFieldError, listen, send, startApiHarness } from '../support/api';
import type { ApiHarness } from '../support/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-tokens' });
});
afterAll(async () => {
  await api?.stop();
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** The harness's app again, with tokens and sessions on a clock the test moves. */
async function clockedApp(start: Date) {
  let now = start;
  const clock = () => now;
  const tokens = createTokenService({ store: api.store, now: clock });
  const server = await listen(createApp({ ...api.deps, tokens, now: clock }));
  return {
    url: server.url,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    request: <T>(method: string, path: string, opts: Parameters<typeof send>[4] = {}) =>
      send<T>(server.url, api.tokens, method, path, opts),
    close: () => server.close(),
  };
}

describe('listing', () => {
  test('admins see every token with its state and last use, never a hash or the token', async () => {
    const res = await api.get<{ tokens: TokenView[] }>('/api/v1/tokens', { as: 'admin' });
    expect(res.status).toBe(200);
    const byId = new Map(res.body.tokens.map((t) => [t.id, t]));
    for (const role of ['viewer', 'responder', 'commander', 'admin'] as const) {
      expect(byId.get(api.tokenIds[role])).toMatchObject({ role, state: 'active', expiresAt: null, revokedAt: null });
      expect(res.text).not.toContain(api.tokens[role]);
    }
    expect(res.text).not.toMatch(/"hash"|[0-9a-f]{64}/);
    // The admin token just authenticated this request.
    expect(byId.get(api.tokenIds.admin)?.lastUsedAt).toEqual(expect.any(String));
  });

  test.each(['viewer', 'responder', 'commander'] as const)('a %s may not list, make or revoke tokens', async (role) => {
    expectError(await api.get('/api/v1/tokens', { as: role }), 403, 'forbidden');
    expectError(await api.post('/api/v1/tokens', { as: role, body: { name: 'x', role: 'admin' } }), 403, 'forbidden');
    expectError(await api.request('DELETE', `/api/v1/tokens/${api.tokenIds.viewer}`, { as: role }), 403, 'forbidden');
    // The same token still reads what its role may.
    expect((await api.get('/api/v1/incidents', { as: role })).status).toBe(200);
  });
});

describe('making a token', () => {
  test('answers it in clear once, uncached; it works at once with its role', async () => {
    const res = await api.post<{ token: string; record: TokenView }>('/api/v1/tokens', {
      as: 'admin',
      body: { name: 'deploy bot', role: 'responder', expiresIn: '90d' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('location')).toBe(`/api/v1/tokens/${res.body.record.id}`);
    expect(res.body.token).toMatch(/^flt_/);
    expect(res.body.record).toMatchObject({ name: 'deploy bot', role: 'responder', state: 'active', lastUsedAt: null });
    const days = (Date.parse(res.body.record.expiresAt!) - Date.parse(res.body.record.createdAt)) / 86_400_000;
    expect(days).toBeCloseTo(90, 3);

    expect((await api.get('/api/v1/incidents', bearer(res.body.token))).status).toBe(200);
    expectError(await api.get('/api/v1/tokens', bearer(res.body.token)), 403, 'forbidden');
    const shown = await api.get<{ token: TokenView }>(`/api/v1/tokens/${res.body.record.id}`, { as: 'admin' });
    expect(shown.text).not.toContain(res.body.token);
    expect(shown.body.token.lastUsedAt).toEqual(expect.any(String));
  });

  test.each([
    ['role', { name: 'x', role: 'root' }],
    ['name', { name: '  ', role: 'viewer' }],
    ['expiresIn', { name: 'x', role: 'viewer', expiresIn: 'soon' }],
    ['expiresIn', { name: 'x', role: 'viewer', expiresIn: '1d', expiresAt: '2099-01-01T00:00:00Z' }],
    ['expiresAt', { name: 'x', role: 'viewer', expiresAt: 'tomorrow' }],
    ['expiresAt', { name: 'x', role: 'viewer', expiresAt: '2001-01-01T00:00:00Z' }],
  ])('400 naming %s for a bad body, and nothing is made', async (field, body) => {
    const before = (await api.store.listTokens()).length;
    expectFieldError(await api.post('/api/v1/tokens', { as: 'admin', body }), field);
    expect((await api.store.listTokens()).length).toBe(before);
  });

  test('unknown fields and non-JSON bodies are refused', async () => {
    expectError(await api.post('/api/v1/tokens', { as: 'admin', body: { name: 'x', role: 'viewer', hash: 'mine' } }), 400);
    const raw = await api.post('/api/v1/tokens', { as: 'admin', raw: 'name=x', headers: { 'content-type': 'text/plain' } });
    expect(raw.status).toBe(415);
  });
});

describe('expiry', () => {
  test('an expired token and its page sessions stop working; the list says expired', async () => {
    const app = await clockedApp(new Date('2030-06-01T09:00:00Z'));
    try {
      const made = await app.request<{ token: string; record: TokenView }>('POST', '/api/v1/tokens', {
        as: 'admin',
        body: { name: 'one hour', role: 'commander', expiresIn: '1h' },
      });
      expect(made.status).toBe(201);
      expect(made.body.record.expiresAt).toBe('2030-06-01T10:00:00.000Z');
      const signIn = await app.request('POST', '/api/v1/session', { body: { token: made.body.token } });
      expect(signIn.status).toBe(201);
      const cookie = signIn.headers
        .getSetCookie()
        .map((c) => c.split(';')[0]!)
        .join('; ');
      expect((await app.request('GET', '/api/v1/session', { headers: { cookie } })).status).toBe(200);

      app.advance(59 * 60_000);
      expect((await app.request('GET', '/api/v1/incidents', bearer(made.body.token))).status).toBe(200);
      app.advance(60_000);
      expectError(await app.request('GET', '/api/v1/incidents', bearer(made.body.token)), 401, 'unauthorized');
      expectError(await app.request('GET', '/api/v1/session', { headers: { cookie } }), 401, 'unauthorized');
      expectError(await app.request('POST', '/api/v1/session', { body: { token: made.body.token } }), 401, 'unauthorized');
      const listed = await app.request<{ tokens: TokenView[] }>('GET', '/api/v1/tokens', { as: 'admin' });
      expect(listed.body.tokens.find((t) => t.id === made.body.record.id)?.state).toBe('expired');
    } finally {
      await app.close();
    }
  });

  test('last use is kept to the minute', async () => {
    const app = await clockedApp(new Date('2031-01-01T00:00:00Z'));
    try {
      const made = await app.request<{ token: string; record: TokenView }>('POST', '/api/v1/tokens', {
        as: 'admin',
        body: { name: 'last used', role: 'viewer' },
      });
      const lastUsed = async () => (await api.store.findTokenById(made.body.record.id))?.lastUsedAt;
      expect(await lastUsed()).toBeUndefined();
      await app.request('GET', '/api/v1/incidents', bearer(made.body.token));
      expect(await lastUsed()).toBe('2031-01-01T00:00:00.000Z');
      app.advance(30_000);
      await app.request('GET', '/api/v1/incidents', bearer(made.body.token));
      expect(await lastUsed()).toBe('2031-01-01T00:00:00.000Z');
      app.advance(31_000);
      await app.request('GET', '/api/v1/incidents', bearer(made.body.token));
      expect(await lastUsed()).toBe('2031-01-01T00:01:01.000Z');
    } finally {
      await app.close();
    }
  });
});

describe('revocation', () => {
  test('ends the token and its page sessions at once; a second revoke changes nothing', async () => {
    const made = await api.post<{ token: string; record: TokenView }>('/api/v1/tokens', {
      as: 'admin',
      body: { name: 'leaked laptop', role: 'commander' },
    });
    const signIn = await api.post('/api/v1/session', { body: { token: made.body.token } });
    const cookie = signIn.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    expect((await api.get('/api/v1/session', { headers: { cookie } })).status).toBe(200);

    const revoked = await api.request<{ token: TokenView }>('DELETE', `/api/v1/tokens/${made.body.record.id}`, { as: 'admin' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.token).toMatchObject({ state: 'revoked', revokedAt: expect.any(String) });
    expectError(await api.get('/api/v1/incidents', bearer(made.body.token)), 401, 'unauthorized');
    expectError(await api.get('/api/v1/session', { headers: { cookie } }), 401, 'unauthorized');

    const again = await api.request<{ token: TokenView }>('DELETE', `/api/v1/tokens/${made.body.record.id}`, { as: 'admin' });
    expect(again.body.token.revokedAt).toBe(revoked.body.token.revokedAt);
    const entries = await api.store.listAudit({ action: 'token.revoke', limit: 50 });
    expect(entries.filter((e) => e.details.tokenId === made.body.record.id)).toHaveLength(1);
  });

  test('404 for an unknown or malformed id', async () => {
    expectError(await api.request('DELETE', '/api/v1/tokens/5b0e4bb8-7e5c-4a1e-9f59-6b2f3f0c6a11', { as: 'admin' }), 404, 'not_found');
    expectError(await api.request('DELETE', '/api/v1/tokens/not-an-id', { as: 'admin' }), 404, 'not_found');
    expectError(await api.get('/api/v1/tokens/not-an-id', { as: 'admin' }), 404, 'not_found');
  });

  test('the last active admin token cannot be revoked through the API; another can, once one more exists', async () => {
    for (const t of await api.store.listTokens()) {
      if (t.role === 'admin' && t.id !== api.tokenIds.admin && !t.revokedAt) await api.store.revokeToken(t.id, new Date().toISOString());
    }
    const refused = await api.request('DELETE', `/api/v1/tokens/${api.tokenIds.admin}`, { as: 'admin' });
    expectError(refused, 409, 'conflict');
    expect(refused.text).toContain('last active admin token');
    expect((await api.get('/api/v1/tokens', { as: 'admin' })).status).toBe(200);

    const second = await api.post<{ token: string; record: TokenView }>('/api/v1/tokens', {
      as: 'admin',
      body: { name: 'second admin', role: 'admin' },
    });
    const ok = await api.request('DELETE', `/api/v1/tokens/${second.body.record.id}`, bearer(second.body.token));
    expect(ok.status).toBe(200);
    expectError(await api.get('/api/v1/tokens', bearer(second.body.token)), 401, 'unauthorized');
  });
});
