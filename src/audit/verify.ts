import type { AuditRecord, AuditStore } from '../store/aggregates/audit';
import { GENESIS_HASH, auditHash } from './chain';

/**
 * - edited: the entry's fields no longer give its hash (or the head records another hash for the last entry);
 * - deleted: a seq is missing (in the middle, or at the end: the head records more entries than there are);
 * - reordered: the entry is intact but does not link to the one before it (swapped or moved entries, or an entry
 *   removed and the ones after it renumbered).
 */
export type AuditTamperKind = 'edited' | 'deleted' | 'reordered';

export interface AuditProblem {
  kind: AuditTamperKind;
  /** The first seq that does not verify (for a deletion: the first missing one). */
  seq: number;
  /** The entry at that seq; for a deletion, the entry after the gap (null when the gap is at the end). */
  id: string | null;
  message: string;
}

export type AuditVerification =
  | { ok: true; count: number; head: { seq: number; hash: string } }
  | { ok: false; /** Entries that verified before the problem. */ count: number; problem: AuditProblem };

function hashOf(r: AuditRecord): string | undefined {
  const { seq: _seq, prevHash, hash: _hash, ...entry } = r;
  try {
    return auditHash(entry, prevHash);
  } catch {
    // A field edited into something the store would never write (a time that is no time).
    return undefined;
  }
}

/**
 * Walks the chain in seq order, in pages, up to the head as it was when the walk started (entries appended
 * meanwhile are left for the next run), and stops at the first entry that does not verify.
 */
export async function verifyAuditChain(
  store: Pick<AuditStore, 'listAudit' | 'auditChainHead'>,
  options: { pageSize?: number } = {},
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 1000;
  const head = await store.auditChainHead();
  let prev: { seq: number; hash: string; id: string | null } = { seq: 0, hash: GENESIS_HASH, id: null };
  let count = 0;
  const fail = (problem: AuditProblem): AuditVerification => ({ ok: false, count, problem });
  let after = 0;
  for (;;) {
    const page = await store.listAudit({ order: 'asc', afterSeq: after, limit: pageSize });
    for (const r of page) {
      if (r.seq > head.seq) break;
      if (r.seq !== prev.seq + 1) {
        const missing = r.seq - 1 === prev.seq + 1 ? `entry ${prev.seq + 1} is` : `entries ${prev.seq + 1}–${r.seq - 1} are`;
        return fail({ kind: 'deleted', seq: prev.seq + 1, id: r.id, message: `${missing} missing (before entry ${r.seq}, ${r.id})` });
      }
      if (hashOf(r) !== r.hash) {
        return fail({ kind: 'edited', seq: r.seq, id: r.id, message: `entry ${r.seq} (${r.id}) does not match its hash: it was edited` });
      }
      if (r.prevHash !== prev.hash) {
        return fail({
          kind: 'reordered',
          seq: r.seq,
          id: r.id,
          message:
            `entry ${r.seq} (${r.id}) does not link to entry ${prev.seq}: entries were swapped or moved ` +
            '(or one before it was removed and the rest renumbered)',
        });
      }
      prev = { seq: r.seq, hash: r.hash, id: r.id };
      count++;
    }
    if (page.length < pageSize || page.at(-1)!.seq >= head.seq) break;
    after = page.at(-1)!.seq;
  }
  if (prev.seq < head.seq) {
    const missing = head.seq === prev.seq + 1 ? `entry ${head.seq} is` : `entries ${prev.seq + 1}–${head.seq} are`;
    return fail({ kind: 'deleted', seq: prev.seq + 1, id: null, message: `${missing} missing at the end (the head records ${head.seq})` });
  }
  if (prev.hash !== head.hash) {
    count--;
    return fail({
      kind: 'edited',
      seq: prev.seq,
      id: prev.id,
      message: `entry ${prev.seq} (${prev.id}) is not the entry the head recorded: it was rewritten with a new hash`,
    });
  }
  return { ok: true, count, head };
}

/** One line for people: what `fireline audit verify` prints. */
export function describeVerification(v: AuditVerification): string {
  if (v.ok) return `audit log verified: ${v.count} entries, head ${v.head.seq} ${v.head.hash}`;
  return `audit log NOT verified: ${v.problem.kind} at seq ${v.problem.seq}${v.problem.id ? ` (id ${v.problem.id})` : ''}: ${v.problem.message}; ${v.count} entries before it verified`;
}
