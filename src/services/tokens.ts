import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../domain/roles';
import { SYSTEM_ACTOR } from '../domain/roles';
import type { AuditStore, AuthStore, TokenRecord } from '../store/store';
import { createAuditLog } from './audit';
import type { ActionContext } from './audit';

const TOKEN_PREFIX = 'flt_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Bearer tokens: only their sha256 is stored, so a leaked database does not leak credentials. */
export function createTokenService(deps: { store: AuthStore & Pick<AuditStore, 'recordAudit'>; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const audit = createAuditLog(deps);

  /** Audited with the new token's id, name and role; never the token or its hash. */
  async function insert(token: string, name: string, role: Role, ctx: ActionContext, via: string): Promise<TokenRecord> {
    const record: TokenRecord = { id: randomUUID(), name, role, hash: hashToken(token), createdAt: now().toISOString() };
    await deps.store.insertToken(record);
    await audit.record(ctx, { action: 'token.create', details: { tokenId: record.id, name, role, via } });
    return record;
  }

  /** Returns the token in clear exactly once; it cannot be read back later. `ctx` says who made it, for the audit log. */
  async function create(name: string, role: Role, ctx: ActionContext): Promise<{ token: string; record: TokenRecord }> {
    const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
    return { token, record: await insert(token, name, role, ctx, ctx.source) };
  }

  const startUp = (): ActionContext => ({
    actor: SYSTEM_ACTOR,
    requestId: randomUUID(),
    source: 'cli',
    method: 'start',
    path: 'ensureAdmin',
  });

  return {
    create,

    async authenticate(token: string): Promise<TokenRecord | undefined> {
      if (!token || token.length > 512) return undefined;
      return deps.store.findTokenByHash(hashToken(token));
    },

    /**
     * FIRELINE_ADMIN_TOKEN seeds an admin token; without it the first start makes one and returns it so the
     * caller can print it once. Returns undefined when nothing new was made to show.
     */
    async ensureAdmin(seed: string | undefined): Promise<string | undefined> {
      if (seed) {
        if (await deps.store.findTokenByHash(hashToken(seed))) return undefined;
        try {
          await insert(seed, 'admin (FIRELINE_ADMIN_TOKEN)', 'admin', startUp(), 'FIRELINE_ADMIN_TOKEN');
        } catch (err) {
          // Two API replicas starting at once both seed it; the hash is unique, so one insert wins.
          if (!(await deps.store.findTokenByHash(hashToken(seed)))) throw err;
        }
        return undefined;
      }
      if ((await deps.store.countTokens()) > 0) return undefined;
      const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
      await insert(token, 'admin (first start)', 'admin', startUp(), 'first start');
      return token;
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
