import type { Role } from '../../domain/roles';

/**
 * Single sign-on (src/services/oidc.ts): logins on their way through the OpenID provider, and the page sessions
 * of the people who finished one. Both live in the read model, so whichever API replica the provider sends the
 * browser back to can finish the login, and every replica knows the session.
 */
export interface OidcStore {
  insertOidcLogin(login: OidcLoginRecord): Promise<void>;
  /** Removes and returns the login with this state hash, expired or not: a login is used at most once. */
  takeOidcLogin(stateHash: string): Promise<OidcLoginRecord | undefined>;
  /** Returns how many expired logins were removed. */
  deleteExpiredOidcLogins(now: string): Promise<number>;
  insertOidcSession(session: OidcSessionRecord): Promise<void>;
  /** The session with this id hash if it has not expired at `now`. */
  findOidcSession(idHash: string, now: string): Promise<OidcSessionRecord | undefined>;
  deleteOidcSession(idHash: string): Promise<void>;
  /** Returns how many expired sessions were removed. */
  deleteExpiredOidcSessions(now: string): Promise<number>;
}

/** A login between the redirect to the provider and its callback. */
export interface OidcLoginRecord {
  /** sha256 hex of the `state` parameter. */
  stateHash: string;
  /** sha256 hex of the random value in the browser's login cookie: the callback must come from the same browser. */
  browserHash: string;
  /** PKCE (S256): the verifier the token request proves. */
  codeVerifier: string;
  nonce: string;
  /** Where the page goes once signed in: a same-origin path. */
  returnTo: string;
  createdAt: string;
  expiresAt: string;
}

/** A page session of a person signed in through the provider; the session id itself is only in the cookie. */
export interface OidcSessionRecord {
  /** sha256 hex of the session id. */
  idHash: string;
  csrf: string;
  createdAt: string;
  expiresAt: string;
  issuer: string;
  subject: string;
  name: string;
  email: string | null;
  /** Mapped from the provider's claims at sign-in; a changed group applies from the next sign-in. */
  role: Role;
}
