import type Database from 'better-sqlite3';
import type { AuthStore, SessionRecord, TokenRecord } from '../aggregates/auth';
import { SESSION_TOKEN_COLUMNS, sessionWithTokenFromRow, tokenFromRow } from '../shared-rows';
import type { SessionWithTokenRow, TokenRow } from '../shared-rows';
import { insertSql, preparedOnFirstUse } from './db';

interface SessionRow {
  id_hash: string;
  token_id: string;
  csrf: string;
  created_at: string;
  expires_at: string;
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
      `SELECT s.*, ${SESSION_TOKEN_COLUMNS}
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
      return row && sessionWithTokenFromRow(row);
    },

    async deleteSession(idHash: string): Promise<void> {
      statements().deleteSession.run(idHash);
    },

    async deleteExpiredSessions(now: string): Promise<number> {
      return statements().deleteExpiredSessions.run(now).changes;
    },
  };
}
