// What both engines store alike: the limit rule, table column lists, the action item, token, session and sign-in rows,
// and the keyset cursors of the lists.
// The engines differ in types (booleans, JSON, dates) and SQL, never in these.
import { z } from 'zod';
import type { ActionItemRecord, ActionItemStatus } from './aggregates/postmortems';
import type { IncidentRecord } from '../domain/incident';
import type { Role } from '../domain/roles';
import type { SessionRecord, TokenRecord } from './aggregates/auth';
import type { OidcLoginRecord, OidcSessionRecord } from './aggregates/oidc';
import { InvalidCursorError } from './store-errors';

/** Both engines refuse a limit that is not a positive integer (SQLite would read a negative one as "no limit"). */
export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return limit;
}

export const INCIDENT_COLUMNS = [
  'id',
  'title',
  'service',
  'severity',
  'summary',
  'drill',
  'trigger_kind',
  'trigger_actor',
  'declared_at',
  'runbook_id',
  'runbook_version',
  'workflow_id',
  'status',
  'phase',
  'acknowledged_at',
  'resolved_at',
  'closed_at',
  'updated_at',
] as const;

export const METRICS_COLUMNS = [
  'incident_id',
  'declared_at',
  'severity',
  'service',
  'runbook_id',
  'drill',
  'impact_started_at',
  'detected_at',
  'reported_at',
  'acknowledged_at',
  'mitigated_at',
  'resolved_at',
  'time_to_detect_ms',
  'time_to_acknowledge_ms',
  'time_to_mitigate_ms',
  'time_to_resolve_ms',
  'final',
  'source_updated_at',
  'source_seq',
  'computed_at',
] as const;

export interface ActionItemRow {
  id: string;
  incident_id: string;
  position: number;
  title: string;
  owner: string | null;
  /** YYYY-MM-DD. */
  due: string | null;
  status: ActionItemStatus;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export function actionItemToRow(item: ActionItemRecord): ActionItemRow {
  return {
    id: item.id,
    incident_id: item.incidentId,
    position: item.position,
    title: item.title,
    owner: item.owner,
    due: item.due,
    status: item.status,
    created_at: item.createdAt,
    updated_at: item.updatedAt,
    completed_at: item.completedAt,
  };
}

export function actionItemFromRow(row: ActionItemRow): ActionItemRecord {
  return {
    id: row.id,
    incidentId: row.incident_id,
    position: row.position,
    title: row.title,
    owner: row.owner,
    due: row.due,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

/** Undated action items sort after every dated one. */
export const NO_DUE = '9999-12-31';

// Cursors are issued from rows, whose times are `toISOString()` text and whose days are calendar days; anything
// else was not issued here (and PostgreSQL could not even parse it as a time or date).
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (v: string) => {
  const day = new Date(`${v}T00:00:00.000Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(v);
};

const IncidentCursorSchema = z.object({
  declaredAt: z
    .string()
    .regex(ISO_UTC)
    .refine((v) => !Number.isNaN(Date.parse(v))),
  id: z.string().min(1),
});
const ActionItemCursorSchema = z.object({ due: z.string().regex(DAY).refine(isDay), id: z.string().min(1) });

export type IncidentCursor = z.infer<typeof IncidentCursorSchema>;
export type ActionItemCursor = z.infer<typeof ActionItemCursorSchema>;

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decode<T>(cursor: string, schema: z.ZodType<T>): T {
  // Buffer skips characters outside the alphabet, so check it to reject damaged cursors.
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new InvalidCursorError();
  return parsed.data;
}

export const encodeIncidentCursor = (incident: IncidentRecord): string => encode({ declaredAt: incident.declaredAt, id: incident.id });
export const decodeIncidentCursor = (cursor: string): IncidentCursor => decode(cursor, IncidentCursorSchema);
export const encodeActionItemCursor = (item: ActionItemRecord): string => encode({ due: item.due ?? NO_DUE, id: item.id });
export const decodeActionItemCursor = (cursor: string): ActionItemCursor => decode(cursor, ActionItemCursorSchema);

/** A `tokens` row; both engines answer times as ISO text (the PostgreSQL pool parses timestamptz to it). */
export interface TokenRow {
  id: string;
  name: string;
  role: Role;
  hash: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export function tokenFromRow(row: TokenRow): TokenRecord {
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

/** The `tokens` columns a session lookup joins in, each prefixed `token_`. */
export const SESSION_TOKEN_COLUMNS = `t.name AS token_name, t.role AS token_role, t.hash AS token_hash, t.created_at AS token_created_at,
  t.expires_at AS token_expires_at, t.last_used_at AS token_last_used_at, t.revoked_at AS token_revoked_at`;

/** A `sessions` row joined with its token's SESSION_TOKEN_COLUMNS. */
export interface SessionWithTokenRow {
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

export function sessionWithTokenFromRow(row: SessionWithTokenRow): { session: SessionRecord; token: TokenRecord } {
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
}

export interface OidcLoginRow {
  state_hash: string;
  browser_hash: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  created_at: string;
  expires_at: string;
}

export function oidcLoginFromRow(row: OidcLoginRow): OidcLoginRecord {
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

export interface OidcSessionRow {
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

export function oidcSessionFromRow(row: OidcSessionRow): OidcSessionRecord {
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
