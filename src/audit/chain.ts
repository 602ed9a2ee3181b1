import { createHash } from 'node:crypto';
import type { AuditEntry } from '../store/aggregates/audit';

/** The `prev_hash` of the first entry of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** What the store adds to an entry when it appends it to the chain. */
export interface ChainLink {
  /** Position in the chain: 1, 2, 3, … without gaps, one chain per store. */
  seq: number;
  prevHash: string;
  hash: string;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A string as both engines give it back: PostgreSQL cannot hold NUL (src/store/postgres/db.ts turns it into U+FFFD)
 * and UTF-8 cannot hold a lone surrogate (the drivers encode it as U+FFFD). Hashing the stored form makes the hash of
 * an entry the same before and after the write, on either engine.
 */
function storedString(text: string): string {
  return text.split('\u0000').join('\ufffd').replace(LONE_SURROGATE, '\ufffd');
}

/** JSON as it reads back from a jsonb or a text column, with object keys sorted (jsonb does not keep their order). */
function canonicalValue(value: unknown): unknown {
  if (typeof value === 'string') return storedString(value);
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).map(storedString).sort()) out[key] = canonicalValue((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function storedJson(value: unknown): unknown {
  // The round trip drops what JSON cannot say (undefined, functions) and turns NaN into null, as the columns do.
  return canonicalValue(JSON.parse(JSON.stringify(value ?? null)));
}

/** The entry as the store keeps it: UTC ISO time with milliseconds, NUL-free well-formed text. */
export function storedAuditEntry(entry: AuditEntry): AuditEntry {
  const at = new Date(entry.at);
  if (Number.isNaN(at.getTime())) throw new RangeError(`audit entry ${entry.id}: at is not a time: ${entry.at}`);
  return {
    id: storedString(entry.id),
    at: at.toISOString(),
    actor: storedJson(entry.actor) as AuditEntry['actor'],
    action: storedString(entry.action),
    method: storedString(entry.method),
    path: storedString(entry.path),
    requestId: storedString(entry.requestId),
    incidentId: entry.incidentId === null ? null : storedString(entry.incidentId),
    details: storedJson(entry.details) as AuditEntry['details'],
    outcome: entry.outcome,
  };
}

/**
 * The bytes an entry's hash covers: a JSON array of its fields in a fixed order, nested objects with sorted keys, and
 * the previous entry's hash last. `seq` is not covered: the position of an entry is what the `prev_hash` links
 * protect, so a moved entry reads as reordered rather than edited.
 */
export function canonicalAuditBytes(entry: AuditEntry, prevHash: string): string {
  const e = storedAuditEntry(entry);
  return JSON.stringify([
    'fireline.audit.v1',
    e.id,
    e.at,
    e.actor,
    e.action,
    e.method,
    e.path,
    e.requestId,
    e.incidentId,
    e.details,
    e.outcome,
    prevHash,
  ]);
}

export function auditHash(entry: AuditEntry, prevHash: string): string {
  return createHash('sha256').update(canonicalAuditBytes(entry, prevHash), 'utf8').digest('hex');
}

/** The link an entry gets when appended after `head` (seq 0 and GENESIS_HASH for an empty chain). */
export function nextLink(entry: AuditEntry, head: { seq: number; hash: string }): ChainLink {
  return { seq: head.seq + 1, prevHash: head.hash, hash: auditHash(entry, head.hash) };
}
