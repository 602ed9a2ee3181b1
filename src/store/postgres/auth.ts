import type { Role } from '../../domain/roles';
import type { AuthStore, TokenRecord } from '../aggregates/auth';
import type { PgDb } from './db';

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

interface SessionWithTokenRow {
  id_hash: string;
  token_id: string;
  csrf: string;
  created_at: string;
  expires_at: string;
  token_name: string;
  token_role: Role;
  token_hash: string;
  token_created_at: string;
  token_expires_at: string | null;
  token_last_used_at: string | null;
  token_revoked_at: string | null;
}

export function pgAuth(db: PgDb): AuthStore {
  return {
    async insertToken(t) {
      await db.run(
        'INSERT INTO tokens (id, name, role, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz)',
        [t.id, t.name, t.role, t.hash, t.createdAt, t.expiresAt ?? null],
      );
    },

    async findTokenById(id) {
      const [row] = await db.rows<TokenRow>('SELECT * FROM tokens WHERE id = $1', [id]);
      return row && tokenFromRow(row);
    },

    async listTokens() {
      return (await db.rows<TokenRow>('SELECT * FROM tokens ORDER BY created_at DESC, id')).map(tokenFromRow);
    },

    async revokeToken(id, at) {
      // One statement: the sessions go whether or not this call is the one that marks the token.
      const [row] = await db.rows<{ n: number }>(
        `WITH dropped AS (DELETE FROM sessions WHERE token_id = $2)
         , marked AS (UPDATE tokens SET revoked_at = $1::timestamptz WHERE id = $2 AND revoked_at IS NULL RETURNING id)
         SELECT count(*)::int AS n FROM marked`,
        [at, id],
      );
      return row?.n === 1;
    },

    async touchToken(id, at, notBefore) {
      await db.run(
        'UPDATE tokens SET last_used_at = $1::timestamptz WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3::timestamptz)',
        [at, id, notBefore],
      );
    },

    async findTokenByHash(hash) {
      const [row] = await db.rows<TokenRow>('SELECT * FROM tokens WHERE hash = $1', [hash]);
      return row && tokenFromRow(row);
    },

    async countTokens() {
      const [row] = await db.rows<{ n: number }>('SELECT count(*) AS n FROM tokens');
      return row?.n ?? 0;
    },

    async insertSession(s) {
      await db.run(
        'INSERT INTO sessions (id_hash, token_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)',
        [s.idHash, s.tokenId, s.csrf, s.createdAt, s.expiresAt],
      );
    },

    async findSession(idHash, now) {
      const [row] = await db.rows<SessionWithTokenRow>(
        `SELECT s.*, t.name AS token_name, t.role AS token_role, t.hash AS token_hash, t.created_at AS token_created_at,
                t.expires_at AS token_expires_at, t.last_used_at AS token_last_used_at, t.revoked_at AS token_revoked_at
         FROM sessions s JOIN tokens t ON t.id = s.token_id
         WHERE s.id_hash = $1 AND s.expires_at > $2::timestamptz`,
        [idHash, now],
      );
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

    async deleteSession(idHash) {
      await db.run('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    },

    async deleteExpiredSessions(now) {
      return db.run('DELETE FROM sessions WHERE expires_at <= $1::timestamptz', [now]);
    },
  };
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
