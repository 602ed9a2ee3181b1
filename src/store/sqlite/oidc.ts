import type Database from 'better-sqlite3';
import type { OidcStore } from '../aggregates/oidc';
import { oidcLoginFromRow, oidcSessionFromRow } from '../shared-rows';
import type { OidcLoginRow as LoginRow, OidcSessionRow as SessionRow } from '../shared-rows';
import { insertSql, preparedOnFirstUse } from './db';

const LOGIN_COLUMNS = ['state_hash', 'browser_hash', 'code_verifier', 'nonce', 'return_to', 'created_at', 'expires_at'] as const;
const SESSION_COLUMNS = ['id_hash', 'csrf', 'created_at', 'expires_at', 'issuer', 'subject', 'name', 'email', 'role'] as const;

export function sqliteOidc(db: Database.Database): OidcStore {
  const statements = preparedOnFirstUse(() => ({
    insertLogin: db.prepare<LoginRow>(insertSql('oidc_logins', LOGIN_COLUMNS, '')),
    takeLogin: db.prepare<[string], LoginRow>('DELETE FROM oidc_logins WHERE state_hash = ? RETURNING *'),
    deleteExpiredLogins: db.prepare<[string]>('DELETE FROM oidc_logins WHERE expires_at <= ?'),
    insertSession: db.prepare<SessionRow>(insertSql('oidc_sessions', SESSION_COLUMNS, '')),
    findSession: db.prepare<[string, string], SessionRow>('SELECT * FROM oidc_sessions WHERE id_hash = ? AND expires_at > ?'),
    deleteSession: db.prepare<[string]>('DELETE FROM oidc_sessions WHERE id_hash = ?'),
    deleteExpiredSessions: db.prepare<[string]>('DELETE FROM oidc_sessions WHERE expires_at <= ?'),
  }));
  return {
    async insertOidcLogin(l) {
      statements().insertLogin.run({
        state_hash: l.stateHash,
        browser_hash: l.browserHash,
        code_verifier: l.codeVerifier,
        nonce: l.nonce,
        return_to: l.returnTo,
        created_at: l.createdAt,
        expires_at: l.expiresAt,
      });
    },
    async takeOidcLogin(stateHash) {
      const row = statements().takeLogin.get(stateHash);
      return row && oidcLoginFromRow(row);
    },
    async deleteExpiredOidcLogins(now) {
      return statements().deleteExpiredLogins.run(now).changes;
    },
    async insertOidcSession(s) {
      statements().insertSession.run({
        id_hash: s.idHash,
        csrf: s.csrf,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
        issuer: s.issuer,
        subject: s.subject,
        name: s.name,
        email: s.email,
        role: s.role,
      });
    },
    async findOidcSession(idHash, now) {
      const row = statements().findSession.get(idHash, now);
      return row && oidcSessionFromRow(row);
    },
    async deleteOidcSession(idHash) {
      statements().deleteSession.run(idHash);
    },
    async deleteExpiredOidcSessions(now) {
      return statements().deleteExpiredSessions.run(now).changes;
    },
  };
}
