import type Database from 'better-sqlite3';
import type { Role } from '../../domain/roles';
import type { OidcLoginRecord, OidcSessionRecord, OidcStore } from '../aggregates/oidc';
import { insertSql, preparedOnFirstUse } from './db';

interface LoginRow {
  state_hash: string;
  browser_hash: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  created_at: string;
  expires_at: string;
}

interface SessionRow {
  id_hash: string;
  csrf: string;
  created_at: string;
  expires_at: string;
  issuer: string;
  subject: string;
  name: string;
  email: string | null;
  role: Role;
}

const LOGIN_COLUMNS = ['state_hash', 'browser_hash', 'code_verifier', 'nonce', 'return_to', 'created_at', 'expires_at'] as const;
const SESSION_COLUMNS = ['id_hash', 'csrf', 'created_at', 'expires_at', 'issuer', 'subject', 'name', 'email', 'role'] as const;

function loginFromRow(row: LoginRow): OidcLoginRecord {
  return {
    stateHash: row.state_hash,
    browserHash: row.browser_hash,
    codeVerifier: row.code_verifier,
    nonce: row.nonce,
    returnTo: row.return_to,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function oidcSessionFromRow(row: SessionRow): OidcSessionRecord {
  return {
    idHash: row.id_hash,
    csrf: row.csrf,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    issuer: row.issuer,
    subject: row.subject,
    name: row.name,
    email: row.email,
    role: row.role,
  };
}

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
      return row && loginFromRow(row);
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
