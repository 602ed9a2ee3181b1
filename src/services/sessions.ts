import { createHash, randomBytes } from 'node:crypto';
import type { AuthStore, SessionRecord, TokenRecord } from '../store/store';
import type { TokenService } from './tokens';

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
export function createSessionService(deps: { store: AuthStore; tokens: TokenService; ttlMs?: number; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const ttlMs = deps.ttlMs ?? DEFAULT_SESSION_TTL_MS;

  return {
    ttlMs,

    /** The live session with this id and the token it acts as. */
    async find(id: string): Promise<{ token: TokenRecord; session: SessionRecord } | undefined> {
      if (id.length > MAX_SESSION_ID_LENGTH) return undefined;
      return deps.store.findSession(hashSessionId(id), now().toISOString());
    },

    /**
     * Opens a session for `token` (undefined when the token is not valid) and drops `replaces`, a session id the
     * browser held before, so a session id cannot be planted beforehand.
     */
    async open(
      token: string,
      replaces: string | undefined,
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
      return { id, token: record, session };
    },

    async close(id: string): Promise<void> {
      await deps.store.deleteSession(hashSessionId(id));
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
