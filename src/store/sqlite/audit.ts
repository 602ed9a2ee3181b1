import type Database from 'better-sqlite3';
import { GENESIS_HASH, nextLink, storedAuditEntry } from '../../audit/chain';
import type { AuditEntry, AuditFilter, AuditRecord, AuditStore } from '../aggregates/audit';
import { insertSql, preparedOnFirstUse, tryParseJson } from './db';
import type { SqlValue } from './db';
import { checkLimit } from '../shared-rows';

interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  method: string;
  path: string;
  request_id: string;
  incident_id: string | null;
  details: string;
  outcome: AuditEntry['outcome'];
  seq: number;
  prev_hash: string;
  hash: string;
}

interface HeadRow {
  seq: number;
  hash: string;
}

const COLUMNS = [
  'id',
  'at',
  'actor',
  'action',
  'method',
  'path',
  'request_id',
  'incident_id',
  'details',
  'outcome',
  'seq',
  'prev_hash',
  'hash',
];

function prepareStatements(db: Database.Database) {
  return {
    insertAudit: db.prepare<AuditRow>(insertSql('audit_log', COLUMNS, '')),
    head: db.prepare<[], HeadRow>('SELECT seq, hash FROM audit_chain WHERE id = 1'),
    moveHead: db.prepare<[number, string]>('UPDATE audit_chain SET seq = ?, hash = ? WHERE id = 1'),
  };
}

export function sqliteAudit(db: Database.Database): AuditStore {
  const statements = preparedOnFirstUse(() => prepareStatements(db));
  const lists = new Map<string, Database.Statement<SqlValue[], AuditRow>>();
  const listStatement = (sql: string) => {
    let statement = lists.get(sql);
    if (!statement) lists.set(sql, (statement = db.prepare<SqlValue[], AuditRow>(sql)));
    return statement;
  };

  /** BEGIN IMMEDIATE takes the write lock before the head is read: another process appending waits for it. */
  const append = db.transaction((entry: AuditEntry): AuditRecord => {
    const s = statements();
    const head = s.head.get() ?? { seq: 0, hash: GENESIS_HASH };
    const record: AuditRecord = { ...entry, ...nextLink(entry, head) };
    s.insertAudit.run(auditToRow(record));
    s.moveHead.run(record.seq, record.hash);
    return record;
  });

  return {
    async recordAudit(entry: AuditEntry): Promise<AuditRecord> {
      return append.immediate(storedAuditEntry(entry));
    },

    async listAudit(filter: AuditFilter): Promise<AuditRecord[]> {
      const limit = checkLimit(filter.limit);
      const where: string[] = [];
      const params: SqlValue[] = [];
      const add = (clause: string, value: SqlValue | undefined) => {
        if (value === undefined) return;
        where.push(clause);
        params.push(value);
      };
      add('incident_id = ?', filter.incidentId);
      add("json_extract(actor, '$.id') = ?", filter.actorId);
      add('action = ?', filter.action);
      add('at >= ?', filter.since === undefined ? undefined : new Date(filter.since).toISOString());
      add('at < ?', filter.until === undefined ? undefined : new Date(filter.until).toISOString());
      add('seq > ?', filter.afterSeq);
      add('seq < ?', filter.beforeSeq);
      const order = filter.order === 'asc' ? 'ASC' : 'DESC';
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ?`;
      return listStatement(sql)
        .all(...params, limit)
        .map(auditFromRow);
    },

    async auditChainHead() {
      return statements().head.get() ?? { seq: 0, hash: GENESIS_HASH };
    },
  };
}

/**
 * Migration 12's step: the entries written before the chain existed are chained in the order they were listed in
 * (time, then id), so the whole log is verifiable; runs inside the migration's transaction.
 */
export function chainExistingAudit(db: Database.Database): void {
  const rows = db.prepare<[], AuditRow>('SELECT * FROM audit_log WHERE seq IS NULL ORDER BY at, id').all();
  const update = db.prepare<[number, string, string, string]>('UPDATE audit_log SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?');
  let head = db.prepare<[], HeadRow>('SELECT seq, hash FROM audit_chain WHERE id = 1').get() ?? { seq: 0, hash: GENESIS_HASH };
  for (const row of rows) {
    const link = nextLink(auditFromRow(row), head);
    update.run(link.seq, link.prevHash, link.hash, row.id);
    head = link;
  }
  db.prepare<[number, string]>('UPDATE audit_chain SET seq = ?, hash = ? WHERE id = 1').run(head.seq, head.hash);
}

function auditToRow(record: AuditRecord): AuditRow {
  return {
    id: record.id,
    at: record.at,
    actor: JSON.stringify(record.actor),
    action: record.action,
    method: record.method,
    path: record.path,
    request_id: record.requestId,
    incident_id: record.incidentId,
    details: JSON.stringify(record.details),
    outcome: record.outcome,
    seq: record.seq,
    prev_hash: record.prevHash,
    hash: record.hash,
  };
}

/** A column edited into something that is not JSON reads as its text, so verifying names the entry rather than failing. */
function jsonColumn(text: string): unknown {
  return tryParseJson(text) ?? text;
}

function auditFromRow(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    actor: jsonColumn(row.actor) as AuditEntry['actor'],
    action: row.action,
    method: row.method,
    path: row.path,
    requestId: row.request_id,
    incidentId: row.incident_id,
    details: jsonColumn(row.details) as AuditEntry['details'],
    outcome: row.outcome,
    seq: row.seq,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
