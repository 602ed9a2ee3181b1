import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../domain/roles';
import { SYSTEM_ACTOR } from '../domain/roles';
import type { AuditStore, AuthStore, TokenRecord } from '../store/store';
import { createAuditLog } from './audit';
import type { ActionContext } from './audit';
import { conflict, invalidField, notFound } from './errors';

const TOKEN_PREFIX = 'flt_';
/** Last-used is kept to the minute: one write a minute per token, not one per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export type TokenState = 'active' | 'expired' | 'revoked';

/** What an admin sees of a token: everything but its hash. */
export interface TokenView {
  id: string;
  name: string;
  role: Role;
  state: TokenState;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function tokenState(token: TokenRecord, now: Date): TokenState {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && Date.parse(token.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}

export function tokenView(token: TokenRecord, now: Date): TokenView {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    state: tokenState(token, now),
    createdAt: token.createdAt,
    expiresAt: token.expiresAt ?? null,
    lastUsedAt: token.lastUsedAt ?? null,
    revokedAt: token.revokedAt ?? null,
  };
}

/** When a new token stops working: at an ISO time, or after a lifetime from now; neither = until revoked. */
export type CreateTokenOptions = { expiresAt?: string; expiresInMs?: undefined } | { expiresAt?: undefined; expiresInMs: number };

/**
 * Bearer tokens: only their sha256 is stored, so a leaked database does not leak credentials. A token may expire,
 * is revoked rather than deleted (the audit log keeps naming it), and records when it was last used.
 */
export function createTokenService(deps: { store: AuthStore & Pick<AuditStore, 'recordAudit'>; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const audit = createAuditLog(deps);

  /** Audited with the new token's id, name, role and expiry; never the token or its hash. */
  async function insert(
    token: string,
    name: string,
    role: Role,
    ctx: ActionContext,
    via: string,
    expiresAt?: string,
  ): Promise<TokenRecord> {
    const record: TokenRecord = {
      id: randomUUID(),
      name,
      role,
      hash: hashToken(token),
      createdAt: now().toISOString(),
      ...(expiresAt ? { expiresAt } : {}),
    };
    await deps.store.insertToken(record);
    await audit.record(ctx, {
      action: 'token.create',
      details: { tokenId: record.id, name, role, via, expiresAt: record.expiresAt ?? null },
    });
    return record;
  }

  /** Returns the token in clear exactly once; it cannot be read back later. `ctx` says who made it, for the audit log. */
  async function create(
    name: string,
    role: Role,
    ctx: ActionContext,
    opts: CreateTokenOptions = {},
  ): Promise<{ token: string; record: TokenRecord; view: TokenView }> {
    const at = now();
    let expiresAt: string | undefined;
    if (opts.expiresInMs !== undefined) {
      if (!(opts.expiresInMs > 0)) throw invalidField('expiresIn', 'must be a lifetime longer than zero');
      expiresAt = new Date(at.getTime() + opts.expiresInMs).toISOString();
    } else if (opts.expiresAt !== undefined) {
      const end = Date.parse(opts.expiresAt);
      if (!(end > at.getTime())) throw invalidField('expiresAt', `must be a time in the future (got ${opts.expiresAt})`);
      expiresAt = new Date(end).toISOString();
    }
    const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
    const record = await insert(token, name, role, ctx, ctx.source, expiresAt);
    return { token, record, view: tokenView(record, at) };
  }

  const startUp = (): ActionContext => ({
    actor: SYSTEM_ACTOR,
    requestId: randomUUID(),
    source: 'cli',
    method: 'start',
    path: 'ensureAdmin',
  });

  /** True while the token may act: not revoked, not expired. Sessions opened with it end with it. */
  function isLive(token: TokenRecord): boolean {
    return tokenState(token, now()) === 'active';
  }

  /** Records that `record` acted now (the session middleware calls it for requests made with a page session). */
  async function touch(record: TokenRecord): Promise<void> {
    const at = now();
    if (record.lastUsedAt && at.getTime() - Date.parse(record.lastUsedAt) < LAST_USED_RESOLUTION_MS) return;
    await deps.store.touchToken(record.id, at.toISOString(), new Date(at.getTime() - LAST_USED_RESOLUTION_MS).toISOString());
  }

  return {
    create,
    isLive,
    touch,

    /** The live token, with its use recorded; undefined for an unknown, expired or revoked one alike. */
    async authenticate(token: string): Promise<TokenRecord | undefined> {
      if (!token || token.length > 512) return undefined;
      const record = await deps.store.findTokenByHash(hashToken(token));
      if (!record || !isLive(record)) return undefined;
      await touch(record);
      return record;
    },

    async list(): Promise<TokenView[]> {
      const at = now();
      return (await deps.store.listTokens()).map((t) => tokenView(t, at));
    },

    async get(id: string): Promise<TokenView> {
      const record = await deps.store.findTokenById(id);
      if (!record) throw notFound(`no token ${id}`);
      return tokenView(record, now());
    },

    /**
     * Revokes the token and ends its page sessions. Revoking twice changes nothing and is not audited twice. Unless
     * `allowLastAdmin` (the CLI, which can always make another), the last live admin token cannot be revoked:
     * nobody could then manage Fireline through the API.
     */
    async revoke(id: string, ctx: ActionContext, opts: { allowLastAdmin?: boolean } = {}): Promise<{ token: TokenView; changed: boolean }> {
      const record = await deps.store.findTokenById(id);
      if (!record) throw notFound(`no token ${id}`);
      if (record.revokedAt) return { token: tokenView(record, now()), changed: false };
      if (!opts.allowLastAdmin && record.role === 'admin' && isLive(record)) {
        const otherAdmins = (await deps.store.listTokens()).filter((t) => t.id !== id && t.role === 'admin' && isLive(t));
        if (otherAdmins.length === 0) {
          throw conflict('this is the last active admin token; make another admin token before revoking it');
        }
      }
      const at = now().toISOString();
      const changed = await deps.store.revokeToken(id, at);
      if (changed) {
        await audit.record(ctx, { action: 'token.revoke', details: { tokenId: id, name: record.name, role: record.role } });
      }
      const after = await deps.store.findTokenById(id);
      return { token: tokenView(after ?? record, now()), changed };
    },

    /**
     * FIRELINE_ADMIN_TOKEN seeds an admin token; without it the first start makes one and returns it so the
     * caller can print it once. Returns undefined when nothing new was made to show. A seeded token that was
     * revoked stays revoked: revocation must survive restarts with the old environment.
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
