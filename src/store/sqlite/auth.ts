import type Database from 'better-sqlite3';
import type { Role } from '../../domain/roles';
import type { AuthStore, SessionRecord, TokenRecord } from '../aggregates/auth';
import { insertSql, preparedOnFirstUse } from './db';

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  hash: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface SessionRow {
  id_hash: string;
  token_id: string;
  csrf: string;
  created_at: string;
  expires_at: string;
}

interface SessionWithTokenRow extends SessionRow {
  token_name: string;
  token_role: Role;
  token_hash: string;
  token_created_at: string;
  token_expires_at: string | null;
  token_last_used_at: string | null;
  token_revoked_at: string | null;
}

function tokenFromRow(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    hash: row.hash,
    createdAt: row.created_at,
    ...(row.expires_at ? { expiresAt: row.expires_at } : {}),
    ...(row.last_used_at ? { lastUsedAt: row.last_used_at } : {}),
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  };
}

function prepareStatements(db: Database.Database) {
  return {
    insertToken: db.prepare<Omit<TokenRow, 'last_used_at' | 'revoked_at'>>(
      insertSql('tokens', ['id', 'name', 'role', 'hash', 'created_at', 'expires_at'], ''),
    ),
    findTokenByHash: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE hash = ?'),
    findTokenById: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE id = ?'),
    listTokens: db.prepare<[], TokenRow>('SELECT * FROM tokens ORDER BY created_at DESC, id'),
    countTokens: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tokens'),
    revokeToken: db.prepare<[string, string]>('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    deleteTokenSessions: db.prepare<[string]>('DELETE FROM sessions WHERE token_id = ?'),
    touchToken: db.prepare<[string, string, string]>(
      'UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    ),
    insertSession: db.prepare<SessionRow>(insertSql('sessions', ['id_hash', 'token_id', 'csrf', 'created_at', 'expires_at'], '')),
    findSession: db.prepare<[string, string], SessionWithTokenRow>(
      `SELECT s.*, t.name AS token_name, t.role AS token_role, t.hash AS token_hash, t.created_at AS token_created_at,
              t.expires_at AS token_expires_at, t.last_used_at AS token_last_used_at, t.revoked_at AS token_revoked_at
       FROM sessions s JOIN tokens t ON t.id = s.token_id
       WHERE s.id_hash = ? AND s.expires_at > ?`,
    ),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id_hash = ?'),
    deleteExpiredSessions: db.prepare<[string]>('DELETE FROM sessions WHERE expires_at <= ?'),
  };
}

export function sqliteAuth(db: Database.Database): AuthStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  return {
    async insertToken(token: TokenRecord): Promise<void> {
      statements().insertToken.run({
        id: token.id,
        name: token.name,
        role: token.role,
        hash: token.hash,
        created_at: token.createdAt,
        expires_at: token.expiresAt ?? null,
      });
    },

    async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
      const row = statements().findTokenByHash.get(hash);
      return row && tokenFromRow(row);
    },

    async findTokenById(id: string): Promise<TokenRecord | undefined> {
      const row = statements().findTokenById.get(id);
      return row && tokenFromRow(row);
    },

    async listTokens(): Promise<TokenRecord[]> {
      return statements().listTokens.all().map(tokenFromRow);
    },

    async countTokens(): Promise<number> {
      return statements().countTokens.get()?.n ?? 0;
    },

    async revokeToken(id: string, at: string): Promise<boolean> {
      const s = statements();
      return db.transaction(() => {
        s.deleteTokenSessions.run(id);
        return s.revokeToken.run(at, id).changes === 1;
      })();
    },

    async touchToken(id: string, at: string, notBefore: string): Promise<void> {
      statements().touchToken.run(at, id, notBefore);
    },

    async insertSession(session: SessionRecord): Promise<void> {
      statements().insertSession.run({
        id_hash: session.idHash,
        token_id: session.tokenId,
        csrf: session.csrf,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
      });
    },

    async findSession(idHash: string, now: string): Promise<{ session: SessionRecord; token: TokenRecord } | undefined> {
      const row = statements().findSession.get(idHash, now);
      if (!row) return undefined;
      return {
        session: { idHash: row.id_hash, tokenId: row.token_id, csrf: row.csrf, createdAt: row.created_at, expiresAt: row.expires_at },
        token: tokenFromRow({
          id: row.token_id,
          name: row.token_name,
          role: row.token_role,
          hash: row.token_hash,
          created_at: row.token_created_at,
          expires_at: row.token_expires_at,
          last_used_at: row.token_last_used_at,
          revoked_at: row.token_revoked_at,
        }),
      };
    },

    async deleteSession(idHash: string): Promise<void> {
      statements().deleteSession.run(idHash);
    },

    async deleteExpiredSessions(now: string): Promise<number> {
      return statements().deleteExpiredSessions.run(now).changes;
    },
  };
}
