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
}

function prepareStatements(db: Database.Database) {
  return {
    insertToken: db.prepare<TokenRow>(insertSql('tokens', ['id', 'name', 'role', 'hash', 'created_at'], '')),
    findTokenByHash: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE hash = ?'),
    countTokens: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tokens'),
    insertSession: db.prepare<SessionRow>(insertSql('sessions', ['id_hash', 'token_id', 'csrf', 'created_at', 'expires_at'], '')),
    findSession: db.prepare<[string, string], SessionWithTokenRow>(
      `SELECT s.*, t.name AS token_name, t.role AS token_role, t.hash AS token_hash, t.created_at AS token_created_at
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
      });
    },

    async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
      const row = statements().findTokenByHash.get(hash);
      return row && { id: row.id, name: row.name, role: row.role, hash: row.hash, createdAt: row.created_at };
    },

    async countTokens(): Promise<number> {
      return statements().countTokens.get()?.n ?? 0;
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
        token: { id: row.token_id, name: row.token_name, role: row.token_role, hash: row.token_hash, createdAt: row.token_created_at },
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
