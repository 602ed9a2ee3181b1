// Verifying the audit chain on both engines: an untouched log passes; a row edited, deleted or two rows swapped
// directly in SQL (as anyone with database access could) is named with its seq and the kind of tampering. Then
// `fireline audit verify` as a child process: exit 0 with the count, exit 1 naming the entry.
import path from 'node:path';
import Database from 'better-sqlite3';
import { auditHash } from '../../src/audit/chain';
import { verifyAuditChain } from '../../src/audit/verify';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { spawnFireline, waitForExit } from '../support/processes';
import { describeEachStore } from '../support/stores';
import { tempDir } from '../support/temporal';
import { audit } from './records';

async function fill(store: Store, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await store.recordAudit({ ...audit(`e${i}`, `INC-${i % 2}`, i), details: { i, note: `entry ${i}` } });
}

describeEachStore('audit verify', (engine) => {
  it('passes an untouched log, in pages, and an empty one', async () => {
    const store = await engine.fresh();
    expect(await verifyAuditChain(store)).toMatchObject({ ok: true, count: 0, head: { seq: 0 } });
    await fill(store, 7);
    const head = await store.auditChainHead();
    expect(await verifyAuditChain(store, { pageSize: 3 })).toEqual({ ok: true, count: 7, head });
    expect(await verifyAuditChain(store)).toEqual({ ok: true, count: 7, head });
  });

  it.each([
    ['action', "UPDATE audit_log SET action = 'incident.note' WHERE seq = 4"],
    ['details', 'UPDATE audit_log SET details = \'{"i":4,"note":"entry four"}\' WHERE seq = 4'],
    ['outcome', "UPDATE audit_log SET outcome = 'rejected' WHERE seq = 4"],
    ['incident', 'UPDATE audit_log SET incident_id = NULL WHERE seq = 4'],
  ])('names an entry whose %s was edited as edited', async (_column, sql) => {
    const store = await engine.fresh();
    await fill(store, 6);
    await engine.sql(sql);
    expect(await verifyAuditChain(store, { pageSize: 2 })).toEqual({
      ok: false,
      count: 3,
      problem: { kind: 'edited', seq: 4, id: 'e4', message: expect.stringContaining('entry 4 (e4) does not match its hash') },
    });
  });

  it('names the gap a deleted entry leaves, in the middle and at the end', async () => {
    const store = await engine.fresh();
    await fill(store, 6);
    await engine.sql('DELETE FROM audit_log WHERE seq IN (3, 4)');
    expect(await verifyAuditChain(store)).toEqual({
      ok: false,
      count: 2,
      problem: { kind: 'deleted', seq: 3, id: 'e5', message: 'entries 3–4 are missing (before entry 5, e5)' },
    });

    const other = await engine.fresh();
    await fill(other, 4);
    await engine.sql('DELETE FROM audit_log WHERE seq = 4');
    expect(await verifyAuditChain(other)).toMatchObject({ ok: false, count: 3, problem: { kind: 'deleted', seq: 4, id: null } });
  });

  it('names two swapped entries as reordered', async () => {
    const store = await engine.fresh();
    await fill(store, 6);
    // Every column but seq changes places: the rows' contents are swapped.
    await engine.sql(`
      UPDATE audit_log SET seq = -1 WHERE seq = 2;
      UPDATE audit_log SET seq = 2 WHERE seq = 5;
      UPDATE audit_log SET seq = 5 WHERE seq = -1;
    `);
    expect(await verifyAuditChain(store)).toEqual({
      ok: false,
      count: 1,
      problem: { kind: 'reordered', seq: 2, id: 'e5', message: expect.stringContaining('does not link to entry 1') },
    });
  });

  it('catches a rewrite of the last entry that recomputed its hash, through the head', async () => {
    const store = await engine.fresh();
    await fill(store, 3);
    const [last] = await store.listAudit({ limit: 1 });
    // A careful forger edits entry 3 and gives it the hash its new contents have; only the head still remembers.
    const { seq: _s, prevHash, hash: _h, ...entry } = last!;
    const forged = auditHash({ ...entry, outcome: 'rejected' }, prevHash);
    await engine.sql(`UPDATE audit_log SET outcome = 'rejected', hash = '${forged}' WHERE seq = 3`);
    expect(await verifyAuditChain(store)).toMatchObject({ ok: false, count: 2, problem: { kind: 'edited', seq: 3, id: 'e3' } });
  });

  it('leaves entries appended during the walk for the next run', async () => {
    const store = await engine.fresh();
    await fill(store, 3);
    const racing = {
      auditChainHead: () => store.auditChainHead(),
      async listAudit(filter: Parameters<Store['listAudit']>[0]) {
        await store.recordAudit(audit(`late-${filter.afterSeq}`, null, 9));
        return store.listAudit(filter);
      },
    };
    expect(await verifyAuditChain(racing, { pageSize: 2 })).toMatchObject({ ok: true, count: 3, head: { seq: 3 } });
    expect(await verifyAuditChain(store)).toMatchObject({ ok: true, count: 5 });
  });
});

describe('fireline audit verify', () => {
  const run = async (dataDir: string) => {
    const child = spawnFireline('audit-verify', ['audit', 'verify'], { FIRELINE_DATA_DIR: dataDir, FIRELINE_LOG_LEVEL: 'warn' });
    const exit = await waitForExit(child, 60_000);
    return { code: exit.code, stdout: child.stdout(), output: child.output() };
  };

  it('exits 0 with the count on an untouched log, and 1 naming the entry and the kind after an edit', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'fireline.db');
    const store = openSqliteStore(file);
    await store.migrate();
    await fill(store, 3);
    await store.close();

    const passed = await run(dataDir);
    expect(passed).toMatchObject({ code: 0, stdout: expect.stringContaining('audit log verified: 3 entries') });

    const db = new Database(file);
    db.exec("UPDATE audit_log SET path = '/somewhere/else' WHERE seq = 2");
    db.close();
    const failed = await run(dataDir);
    expect(failed.code).toBe(1);
    expect(failed.output).toContain('edited at seq 2 (id e2)');
  });
});
