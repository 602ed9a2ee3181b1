import type { AuthStore } from '../aggregates/auth';
import { SESSION_TOKEN_COLUMNS, sessionWithTokenFromRow, tokenFromRow } from '../shared-rows';
import type { SessionWithTokenRow, TokenRow } from '../shared-rows';
import type { PgDb } from './db';

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
        `SELECT s.*, ${SESSION_TOKEN_COLUMNS}
         FROM sessions s JOIN tokens t ON t.id = s.token_id
         WHERE s.id_hash = $1 AND s.expires_at > $2::timestamptz`,
        [idHash, now],
      );
      return row && sessionWithTokenFromRow(row);
    },

    async deleteSession(idHash) {
      await db.run('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    },

    async deleteExpiredSessions(now) {
      return db.run('DELETE FROM sessions WHERE expires_at <= $1::timestamptz', [now]);
    },
  };
}
