import type pg from 'pg';
import { GENESIS_HASH, nextLink, storedAuditEntry } from '../../audit/chain';
import type { AuditEntry, AuditFilter, AuditRecord, AuditStore } from '../aggregates/audit';
import type { PgDb } from './db';
import { checkLimit } from '../shared-rows';

interface AuditRow {
  id: string;
  at: string;
  actor: AuditEntry['actor'];
  action: string;
  method: string;
  path: string;
  request_id: string;
  incident_id: string | null;
  details: AuditEntry['details'];
  outcome: AuditEntry['outcome'];
  seq: number;
  prev_hash: string;
  hash: string;
}

interface HeadRow {
  seq: number;
  hash: string;
}

const HEAD_FOR_UPDATE = 'SELECT seq, hash FROM audit_chain WHERE id = 1 FOR UPDATE';

export function pgAudit(db: PgDb): AuditStore {
  return {
    /**
     * The head row is locked for the transaction (SELECT … FOR UPDATE): an append on another replica waits for
     * this one to commit and then reads the new head, so two replicas never link to the same entry.
     */
    async recordAudit(given) {
      const e = storedAuditEntry(given);
      return db.tx(async (client) => {
        const [head = { seq: 0, hash: GENESIS_HASH }] = await db.rows<HeadRow>(HEAD_FOR_UPDATE, [], client);
        const record: AuditRecord = { ...e, ...nextLink(e, head) };
        await db.run(
          `INSERT INTO audit_log (id, at, actor, action, method, path, request_id, incident_id, details, outcome, seq, prev_hash, hash)
           VALUES ($1, $2::timestamptz, $3::jsonb, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13)`,
          [
            e.id,
            e.at,
            JSON.stringify(e.actor),
            e.action,
            e.method,
            e.path,
            e.requestId,
            e.incidentId,
            JSON.stringify(e.details),
            e.outcome,
            record.seq,
            record.prevHash,
            record.hash,
          ],
          client,
        );
        await db.run('UPDATE audit_chain SET seq = $1, hash = $2 WHERE id = 1', [record.seq, record.hash], client);
        return record;
      });
    },

    async listAudit(filter: AuditFilter) {
      const limit = checkLimit(filter.limit);
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (clause: (n: string) => string, value: unknown) => {
        if (value === undefined) return;
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      add((n) => `incident_id = ${n}`, filter.incidentId);
      add((n) => `actor->>'id' = ${n}`, filter.actorId);
      add((n) => `action = ${n}`, filter.action);
      add((n) => `at >= ${n}::timestamptz`, filter.since);
      add((n) => `at < ${n}::timestamptz`, filter.until);
      add((n) => `seq > ${n}`, filter.afterSeq);
      add((n) => `seq < ${n}`, filter.beforeSeq);
      params.push(limit);
      const order = filter.order === 'asc' ? 'ASC' : 'DESC';
      const rows = await db.rows<AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT $${params.length}`,
        params,
      );
      return rows.map(auditFromRow);
    },

    async auditChainHead() {
      const [head] = await db.rows<HeadRow>('SELECT seq, hash FROM audit_chain WHERE id = 1');
      return head ?? { seq: 0, hash: GENESIS_HASH };
    },
  };
}

/**
 * Migration 2's step, inside its transaction: the entries written before the chain existed are chained in the order
 * they were listed in (time, then id); then the chain columns become NOT NULL and seq unique.
 */
export async function chainExistingAuditPg(db: PgDb, client: pg.PoolClient): Promise<void> {
  const rows = await db.rows<AuditRow>('SELECT * FROM audit_log WHERE seq IS NULL ORDER BY at, id', [], client);
  let [head = { seq: 0, hash: GENESIS_HASH }] = await db.rows<HeadRow>(HEAD_FOR_UPDATE, [], client);
  for (const row of rows) {
    const link = nextLink(auditFromRow(row), head);
    await db.run(
      'UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4',
      [link.seq, link.prevHash, link.hash, row.id],
      client,
    );
    head = link;
  }
  await db.run('UPDATE audit_chain SET seq = $1, hash = $2 WHERE id = 1', [head.seq, head.hash], client);
  await db.run(
    'ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL',
    [],
    client,
  );
  await db.run('CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq)', [], client);
}

function auditFromRow(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    method: row.method,
    path: row.path,
    requestId: row.request_id,
    incidentId: row.incident_id,
    details: row.details,
    outcome: row.outcome,
    seq: row.seq,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
