import { createHash, randomBytes } from 'node:crypto';
import type { AuditStore, AuthStore, SessionRecord, TokenRecord } from '../store/store';
import { createAuditLog } from './audit';
import type { ActionContext } from './audit';
import type { TokenService } from './tokens';

/** Where a sign-in or sign-out came from; the actor is the token the session acts as. */
export type SessionRequest = Omit<ActionContext, 'actor'>;

const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;
/** Longer than any id this service hands out; a longer cookie is not worth a lookup. */
const MAX_SESSION_ID_LENGTH = 200;

function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/**
 * Sessions of the web page: a token traded for a random session id, of which only the sha256 is stored, with an
 * expiry and a CSRF secret. A session acts as its token (same actor in the audit log, same role, revoked with it).
 */
export function createSessionService(deps: {
  store: AuthStore & Pick<AuditStore, 'recordAudit'>;
  tokens: TokenService;
  ttlMs?: number;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const audit = createAuditLog(deps);
  const actorOf = (token: TokenRecord) => ({ id: `token:${token.id}`, name: token.name, role: token.role });
  const ttlMs = deps.ttlMs ?? DEFAULT_SESSION_TTL_MS;

  return {
    ttlMs,

    /** The live session with this id and the token it acts as; none once that token expired or was revoked. */
    async find(id: string): Promise<{ token: TokenRecord; session: SessionRecord } | undefined> {
      if (id.length > MAX_SESSION_ID_LENGTH) return undefined;
      const found = await deps.store.findSession(hashSessionId(id), now().toISOString());
      if (!found || !deps.tokens.isLive(found.token)) return undefined;
      await deps.tokens.touch(found.token);
      return found;
    },

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
      const at = now();
      await deps.store.deleteExpiredSessions(at.toISOString());
      const id = randomBytes(32).toString('base64url');
      const session: SessionRecord = {
        idHash: hashSessionId(id),
        tokenId: record.id,
        csrf: randomBytes(24).toString('base64url'),
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + ttlMs).toISOString(),
      };
      await deps.store.insertSession(session);
      if (replaces) await deps.store.deleteSession(hashSessionId(replaces));
      // A failed sign-in is not an entry: guesses would flood the log (the rate limiter counts them instead).
      await audit.record(
        { ...request, actor: actorOf(record) },
        { action: 'session.sign-in', details: { tokenId: record.id, expiresAt: session.expiresAt, replaced: Boolean(replaces) } },
      );
      return { id, token: record, session };
    },

    /** Signs out; audited when the session was live (an unknown or expired cookie changes nothing). */
    async close(id: string, request: SessionRequest): Promise<void> {
      const found = id.length > MAX_SESSION_ID_LENGTH ? undefined : await deps.store.findSession(hashSessionId(id), now().toISOString());
      await deps.store.deleteSession(hashSessionId(id));
      if (found) {
        await audit.record(
          { ...request, actor: actorOf(found.token) },
          { action: 'session.sign-out', details: { tokenId: found.token.id, createdAt: found.session.createdAt } },
        );
      }
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
