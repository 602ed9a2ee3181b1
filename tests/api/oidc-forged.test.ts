// ID tokens that must not sign anyone in: forged (signed by a key the provider never published), expired, for
// another client, with another nonce. A small OpenID provider over real HTTP answers the token request with
// exactly such a token; Fireline's callback must refuse each with 400 and open no session.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRoleRules } from '../../src/domain/role-rules';
import { createOidcService } from '../../src/services/oidc';
import { startApiHarness } from '../support/api';
import type { ApiHarness } from '../support/api';
import { CookieJar, fetchWithJar } from '../support/oidc-flow';

type Twist = 'none' | 'forged' | 'expired' | 'audience' | 'nonce' | 'issuer';

const published = generateKeyPairSync('rsa', { modulusLength: 2048 });
const unpublished = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function jwt(claims: Record<string, unknown>, key: KeyObject): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'k1' }));
  const body = b64url(JSON.stringify(claims));
  return `${head}.${body}.${b64url(sign('sha256', Buffer.from(`${head}.${body}`), key))}`;
}

let twist: Twist = 'none';
/** The nonce of the authorization request, which a real provider would echo in the ID token. */
let lastNonce = '';
let issuer = '';
const server = http.createServer((req, res) => {
  const url = new URL(req.url!, issuer);
  const json = (body: unknown) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/.well-known/openid-configuration') {
    return json({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
    });
  }
  if (url.pathname === '/jwks')
    return json({ keys: [{ ...published.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] });
  if (url.pathname === '/token' && req.method === 'POST') {
    req.resume();
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: twist === 'issuer' ? 'https://evil.example' : issuer,
      sub: 'grace',
      aud: twist === 'audience' ? 'someone-else' : 'fireline',
      iat: twist === 'expired' ? now - 7200 : now,
      exp: twist === 'expired' ? now - 3600 : now + 300,
      nonce: twist === 'nonce' ? 'not-the-nonce' : lastNonce,
      email: 'grace@example.test',
      groups: ['sre-leads'],
    };
    return json({
      access_token: randomUUID(),
      token_type: 'Bearer',
      expires_in: 300,
      id_token: jwt(claims, twist === 'forged' ? unpublished.privateKey : published.privateKey),
    });
  }
  res.statusCode = 404;
  res.end();
});

let api: ApiHarness;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api = await startApiHarness({
    name: 'api-oidc-forged',
    moreDeps: async (url, store) => ({
      publicUrl: url,
      oidc: createOidcService({
        settings: {
          issuer,
          clientId: 'fireline',
          clientSecret: 'secret',
          scopes: 'openid email',
          roleClaim: 'groups',
          roles: parseRoleRules('sre-leads=commander'),
        },
        publicUrl: url,
        store,
      }),
    }),
  });
});
afterAll(async () => {
  await api?.stop();
  await new Promise((resolve) => server.close(resolve));
});

/** Starts a login at Fireline and comes back as the provider would, with a code for the token request. */
async function callbackWith(t: Twist): Promise<{ res: Response; jar: CookieJar }> {
  twist = t;
  const jar = new CookieJar();
  const start = await fetchWithJar(jar, `${api.url}/auth/oidc/login`);
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get('location')!);
  lastNonce = authorize.searchParams.get('nonce')!;
  const state = authorize.searchParams.get('state')!;
  const res = await fetchWithJar(jar, `${api.url}/auth/oidc/callback?code=${randomUUID()}&state=${encodeURIComponent(state)}`);
  return { res, jar };
}

test('a well-formed ID token from this provider signs in (the provider here is sound)', async () => {
  const { res, jar } = await callbackWith('none');
  expect(res.status).toBe(302);
  const me = await fetchWithJar(jar, `${api.url}/api/v1/session`);
  expect(await me.json()).toMatchObject({ kind: 'oidc', subject: 'grace', role: 'commander' });
});

test.each<[Twist, string]>([
  ['forged', 'signed by a key the provider never published'],
  ['expired', 'expired an hour ago'],
  ['audience', 'issued for another client'],
  ['nonce', 'with another nonce than the login sent'],
  ['issuer', 'from another issuer'],
])('an ID token %s (%s) is refused with 400 and no session', async (t) => {
  const { res, jar } = await callbackWith(t);
  expect(res.status).toBe(400);
  expect(await res.text()).toContain('did not check out');
  expect(jar.get(api.url, 'fireline_session')).toBeUndefined();
});
