import { createHash, randomBytes } from 'node:crypto';
import { actorOfPrincipal } from '../domain/principal';
import type { Principal } from '../domain/principal';
import type { AuditStore, AuthStore, OidcStore, SessionRecord, TokenRecord } from '../store/store';
import { createAuditLog } from './audit';
import type { ActionContext } from './audit';
import type { TokenService } from './tokens';

/** Where a sign-in or sign-out came from; the actor is the principal the session acts as. */
export type SessionRequest = Omit<ActionContext, 'actor'>;

/** What every page session has, whoever it acts as. */
export type WebSession = Pick<SessionRecord, 'idHash' | 'csrf' | 'createdAt' | 'expiresAt'>;

/** A person the OpenID provider vouched for, with the role the claim rules gave them. */
export type OidcPrincipal = Extract<Principal, { kind: 'oidc' }>;

export interface FoundSession {
  principal: Principal;
  session: WebSession;
  /** Set when the session was opened with a token: it acts as that token (and dies with it). */
  token?: TokenRecord;
}

const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;
/** Longer than any id this service hands out; a longer cookie is not worth a lookup. */
const MAX_SESSION_ID_LENGTH = 200;

function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export function tokenPrincipal(token: TokenRecord): Principal {
  return { kind: 'token', tokenId: token.id, name: token.name, role: token.role };
}

/**
 * Sessions of the web page: a random session id, of which only the sha256 is stored, with an expiry and a CSRF
 * secret. A session acts either as the token it was opened with (same actor in the audit log, same role, revoked
 * with it) or as a person signed in through the OpenID provider (src/services/oidc.ts), with the role mapped then.
 */
export function createSessionService(deps: {
  store: AuthStore & OidcStore & Pick<AuditStore, 'recordAudit'>;
  tokens: TokenService;
  ttlMs?: number;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const audit = createAuditLog(deps);
  const ttlMs = deps.ttlMs ?? DEFAULT_SESSION_TTL_MS;

  function newSession(): { id: string; session: WebSession } {
    const at = now();
    const id = randomBytes(32).toString('base64url');
    return {
      id,
      session: {
        idHash: hashSessionId(id),
        csrf: randomBytes(24).toString('base64url'),
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + ttlMs).toISOString(),
      },
    };
  }

  async function dropSession(id: string): Promise<void> {
    const idHash = hashSessionId(id);
    await deps.store.deleteSession(idHash);
    await deps.store.deleteOidcSession(idHash);
  }

  async function pruneExpired(): Promise<void> {
    const at = now().toISOString();
    await deps.store.deleteExpiredSessions(at);
    await deps.store.deleteExpiredOidcSessions(at);
  }

  async function find(id: string): Promise<FoundSession | undefined> {
    if (id.length > MAX_SESSION_ID_LENGTH) return undefined;
    const idHash = hashSessionId(id);
    const at = now().toISOString();
    const byToken = await deps.store.findSession(idHash, at);
    if (byToken) {
      // A token's sessions end when it expires or is revoked.
      if (!deps.tokens.isLive(byToken.token)) return undefined;
      await deps.tokens.touch(byToken.token);
      return { principal: tokenPrincipal(byToken.token), session: byToken.session, token: byToken.token };
    }
    const byOidc = await deps.store.findOidcSession(idHash, at);
    if (!byOidc) return undefined;
    const { issuer, subject, name, email, role, ...session } = byOidc;
    return { principal: { kind: 'oidc', issuer, subject, name, email, role }, session };
  }

  return {
    ttlMs,
    find,

    /**
     * Opens a session for `token` (undefined when the token is not valid) and drops `replaces`, a session id the
     * browser held before, so a session id cannot be planted beforehand.
     */
    async open(
      token: string,
      replaces: string | undefined,
      request: SessionRequest,
    ): Promise<{ id: string; token: TokenRecord; session: SessionRecord } | undefined> {
      const record = await deps.tokens.authenticate(token);
      if (!record) return undefined;
      await pruneExpired();
      const made = newSession();
      const session: SessionRecord = { ...made.session, tokenId: record.id };
      await deps.store.insertSession(session);
      if (replaces) await dropSession(replaces);
      // A failed sign-in is not an entry: guesses would flood the log (the rate limiter counts them instead).
      await audit.record(
        { ...request, actor: actorOfPrincipal(tokenPrincipal(record)) },
        { action: 'session.sign-in', details: { tokenId: record.id, expiresAt: session.expiresAt, replaced: Boolean(replaces) } },
      );
      return { id: made.id, token: record, session };
    },

    /** Opens a session for a person the OpenID provider signed in (the OIDC service checked them and their role). */
    async openForPerson(
      person: OidcPrincipal,
      replaces: string | undefined,
      request: SessionRequest,
    ): Promise<{ id: string; principal: OidcPrincipal; session: WebSession }> {
      await pruneExpired();
      const made = newSession();
      const { kind: _kind, ...who } = person;
      await deps.store.insertOidcSession({ ...made.session, ...who });
      if (replaces) await dropSession(replaces);
      await audit.record(
        { ...request, actor: actorOfPrincipal(person) },
        {
          action: 'session.sign-in',
          details: {
            via: 'oidc',
            subject: person.subject,
            role: person.role,
            expiresAt: made.session.expiresAt,
            replaced: Boolean(replaces),
          },
        },
      );
      return { id: made.id, principal: person, session: made.session };
    },

    /** Signs out; audited when the session was live (an unknown or expired cookie changes nothing). */
    async close(id: string, request: SessionRequest): Promise<FoundSession | undefined> {
      const found = await find(id);
      if (id.length <= MAX_SESSION_ID_LENGTH) await dropSession(id);
      if (found) {
        const details =
          found.principal.kind === 'token'
            ? { tokenId: found.principal.tokenId, createdAt: found.session.createdAt }
            : { via: 'oidc', subject: found.principal.subject, createdAt: found.session.createdAt };
        await audit.record({ ...request, actor: actorOfPrincipal(found.principal) }, { action: 'session.sign-out', details });
      }
      return found;
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
