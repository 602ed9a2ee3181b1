import { createHash, randomBytes } from 'node:crypto';
import type * as OpenIdClient from 'openid-client';
import type { OidcSettings } from '../config';
import { roleFromClaims } from '../domain/role-rules';
import type { OidcStore } from '../store/store';
import { forbidden, invalid, unavailable } from './errors';
import type { OidcPrincipal } from './sessions';

/** Long enough to type a password and answer a second factor; a login left longer starts again. */
const DEFAULT_LOGIN_TTL_MS = 10 * 60_000;
const MAX_RETURN_TO_LENGTH = 1000;
/** Audit actors are at most 200 characters and named `oidc:<sub>`. */
const MAX_SUBJECT_LENGTH = 190;

let loaded: typeof OpenIdClient | undefined;

/**
 * openid-client is ES modules only: required (require(esm), Node ≥ 20.19) when single sign-on is first used, so a
 * Fireline without SSO never loads it.
 */
function openIdClient(): typeof OpenIdClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return (loaded ??= require('openid-client') as typeof OpenIdClient);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Where the page may go after signing in: a path on this origin (`/`, `/#/incidents/INC-7`), never `//host`,
 * `/\host` or a full URL, which would make the login an open redirect.
 */
export function safeReturnTo(value: unknown, publicUrl: string): string | undefined {
  if (value === undefined || value === '') return '/';
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO_LENGTH) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined;
  const base = new URL(publicUrl);
  const resolved = new URL(value, base);
  return resolved.origin === base.origin ? value : undefined;
}

/**
 * OpenID Connect sign-in for the web page: authorization code with PKCE (S256), state and nonce, through
 * openid-client. The login between the redirect and the callback is a row in the read model (any replica can
 * take the callback), used once, bound to the browser that started it by a cookie whose hash the row keeps.
 * The provider's metadata is discovered on first use and kept; a failed discovery is tried again next time.
 */
export function createOidcService(deps: {
  settings: OidcSettings;
  /** FIRELINE_PUBLIC_URL, without a trailing slash: the redirect URI is built from it, never from Host. */
  publicUrl: string;
  store: OidcStore;
  now?: () => Date;
  loginTtlMs?: number;
}) {
  const { settings } = deps;
  const now = deps.now ?? (() => new Date());
  const loginTtlMs = deps.loginTtlMs ?? DEFAULT_LOGIN_TTL_MS;
  const redirectUri = `${deps.publicUrl}/auth/oidc/callback`;
  const postLogoutRedirectUri = `${deps.publicUrl}/`;
  let discovered: Promise<OpenIdClient.Configuration> | undefined;

  function configuration(): Promise<OpenIdClient.Configuration> {
    const client = openIdClient();
    discovered ??= client
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        undefined,
        settings.clientSecret === undefined ? client.None() : client.ClientSecretBasic(settings.clientSecret),
        {
          // The ID token's signature is checked against the provider's JWKS too, not only trusted for coming over
          // TLS from the token endpoint: a forged token is refused even if something sits on that path.
          // The settings allow http only for a provider on this machine (tests, demos).
          execute: settings.issuer.startsWith('http:')
            ? [client.allowInsecureRequests, client.enableNonRepudiationChecks]
            : [client.enableNonRepudiationChecks],
        },
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw unavailable(`the identity provider could not be reached (${(err as Error).message}); try again shortly`);
      });
    return discovered;
  }

  return {
    publicUrl: deps.publicUrl,
    redirectUri,
    loginTtlMs,

    /**
     * Starts a login: the provider's authorization URL to send the browser to. `browser` is the value of the
     * browser's login cookie when it has one (several tabs may log in at once); the answer says which to set.
     */
    async begin(returnTo: string, browser: string | undefined): Promise<{ url: string; browser: string }> {
      const config = await configuration();
      const client = openIdClient();
      const at = now();
      await deps.store.deleteExpiredOidcLogins(at.toISOString());
      const binding = browser && /^[A-Za-z0-9_-]{43}$/.test(browser) ? browser : randomBytes(32).toString('base64url');
      const state = client.randomState();
      const nonce = client.randomNonce();
      const codeVerifier = client.randomPKCECodeVerifier();
      await deps.store.insertOidcLogin({
        stateHash: sha256(state),
        browserHash: sha256(binding),
        codeVerifier,
        nonce,
        returnTo,
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + loginTtlMs).toISOString(),
      });
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: settings.scopes,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url: url.href, browser: binding };
    },

    /**
     * Finishes a login from the provider's redirect: `callbackUrl` is the public URL of the request as it came.
     * Refuses (400) an unknown, used or expired state, another browser's login and an answer that does not check
     * out (code, PKCE, issuer, ID token signature, audience, nonce); refuses (403) a person no role rule matches.
     */
    async finish(callbackUrl: URL, browser: string | undefined): Promise<{ person: OidcPrincipal; returnTo: string }> {
      const params = callbackUrl.searchParams;
      const state = params.get('state');
      if (!state) throw invalid('the sign-in answer has no state; start the sign-in again');
      const providerError = params.get('error');
      const login = await deps.store.takeOidcLogin(sha256(state));
      if (!login) throw invalid('this sign-in is unknown or was already used; start the sign-in again');
      if (login.expiresAt <= now().toISOString()) throw invalid('this sign-in took too long and expired; start the sign-in again');
      if (!browser || sha256(browser) !== login.browserHash) {
        throw invalid('this sign-in was started in another browser (or its cookie is gone); start the sign-in again');
      }
      if (providerError) {
        const description = params.get('error_description');
        throw forbidden(`the identity provider refused the sign-in: ${providerError}${description ? ` (${description})` : ''}`);
      }
      const config = await configuration();
      const client = openIdClient();
      let claims: Record<string, unknown>;
      try {
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: login.codeVerifier,
          expectedState: state,
          expectedNonce: login.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims()!;
        claims = { ...idClaims };
        if (config.serverMetadata().userinfo_endpoint && tokens.access_token) {
          const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
          // The ID token's own claims win: they are signed.
          claims = { ...info, ...idClaims };
        }
      } catch (err) {
        throw invalid(`the identity provider's answer did not check out: ${(err as Error).message}`);
      }
      const subject = String(claims.sub);
      if (subject.length > MAX_SUBJECT_LENGTH) throw invalid('the identity provider sent a subject longer than Fireline keeps');
      const email = typeof claims.email === 'string' && claims.email_verified !== false ? claims.email : null;
      const name =
        [claims.name, claims.preferred_username, email].find((v): v is string => typeof v === 'string' && v.trim() !== '') ?? subject;
      const role = roleFromClaims(settings.roles, claims, settings.roleClaim);
      if (!role) {
        throw forbidden(
          `${email ?? name} is signed in at the identity provider but has no Fireline role: no rule of FIRELINE_OIDC_ROLES matches the ${settings.roleClaim} claim. Ask a Fireline admin to map one of your groups.`,
        );
      }
      return {
        person: { kind: 'oidc', issuer: String(claims.iss ?? settings.issuer), subject, name: name.slice(0, 200), email, role },
        returnTo: login.returnTo,
      };
    },

    /** The provider's sign-out URL (RP-initiated logout), when it has one; undefined otherwise. */
    async endSessionUrl(): Promise<string | undefined> {
      try {
        const config = await configuration();
        if (!config.serverMetadata().end_session_endpoint) return undefined;
        return openIdClient().buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectUri }).href;
      } catch {
        return undefined;
      }
    },
  };
}

export type OidcService = ReturnType<typeof createOidcService>;
