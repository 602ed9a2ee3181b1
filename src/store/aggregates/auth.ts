import type { Role } from '../../domain/roles';

/** API tokens (by hash) and the page's sign-in sessions. */
export interface AuthStore {
  insertToken(token: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  countTokens(): Promise<number>;
  /** Every token ever made, revoked and expired ones included, newest first. */
  listTokens(): Promise<TokenRecord[]>;
  findTokenById(id: string): Promise<TokenRecord | undefined>;
  /**
   * Marks the token revoked at `at` and drops its sessions; false when there is no such token or it was revoked
   * already (the first revocation's time stays).
   */
  revokeToken(id: string, at: string): Promise<boolean>;
  /** Records a use at `at` unless one at or after `notBefore` is recorded already (one write a minute, not a request). */
  touchToken(id: string, at: string, notBefore: string): Promise<void>;
  insertSession(session: SessionRecord): Promise<void>;
  /** The session with this id hash if it has not expired at `now`, with the token it was opened with. */
  findSession(idHash: string, now: string): Promise<{ session: SessionRecord; token: TokenRecord } | undefined>;
  deleteSession(idHash: string): Promise<void>;
  /** Returns how many expired sessions were removed. */
  deleteExpiredSessions(now: string): Promise<number>;
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  /** sha256 of the token, hex; the token itself is never stored. */
  hash: string;
  createdAt: string;
  /** After this the token no longer authenticates; unset = never expires. */
  expiresAt?: string;
  /** When it last authenticated a request, to the minute. */
  lastUsedAt?: string;
  revokedAt?: string;
}

/** A signed-in page session; the session id itself is only in the browser's cookie. */
export interface SessionRecord {
  /** sha256 hex of the session id. */
  idHash: string;
  tokenId: string;
  /** The value the page must echo in X-Fireline-CSRF on state-changing requests. */
  csrf: string;
  createdAt: string;
  expiresAt: string;
}
