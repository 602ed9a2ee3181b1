import type { OidcStore } from '../aggregates/oidc';
import { oidcLoginFromRow, oidcSessionFromRow } from '../shared-rows';
import type { OidcLoginRow as LoginRow, OidcSessionRow as SessionRow } from '../shared-rows';
import type { PgDb } from './db';

export function pgOidc(db: PgDb): OidcStore {
  return {
    async insertOidcLogin(l) {
      await db.run(
        `INSERT INTO oidc_logins (state_hash, browser_hash, code_verifier, nonce, return_to, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz)`,
        [l.stateHash, l.browserHash, l.codeVerifier, l.nonce, l.returnTo, l.createdAt, l.expiresAt],
      );
    },
    async takeOidcLogin(stateHash) {
      const [row] = await db.rows<LoginRow>('DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING *', [stateHash]);
      return row && oidcLoginFromRow(row);
    },
    async deleteExpiredOidcLogins(now) {
      return db.run('DELETE FROM oidc_logins WHERE expires_at <= $1::timestamptz', [now]);
    },
    async insertOidcSession(s) {
      await db.run(
        `INSERT INTO oidc_sessions (id_hash, csrf, created_at, expires_at, issuer, subject, name, email, role)
         VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5, $6, $7, $8, $9)`,
        [s.idHash, s.csrf, s.createdAt, s.expiresAt, s.issuer, s.subject, s.name, s.email, s.role],
      );
    },
    async findOidcSession(idHash, now) {
      const [row] = await db.rows<SessionRow>('SELECT * FROM oidc_sessions WHERE id_hash = $1 AND expires_at > $2::timestamptz', [
        idHash,
        now,
      ]);
      return row && oidcSessionFromRow(row);
    },
    async deleteOidcSession(idHash) {
      await db.run('DELETE FROM oidc_sessions WHERE id_hash = $1', [idHash]);
    },
    async deleteExpiredOidcSessions(now) {
      return db.run('DELETE FROM oidc_sessions WHERE expires_at <= $1::timestamptz', [now]);
    },
  };
}
