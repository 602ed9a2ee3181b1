// The audit log as a hash chain on both engines: links, filters, concurrent appends from two stores (two replicas
// on PostgreSQL, two connections on SQLite), and migration chaining the entries written before the chain existed.
import { GENESIS_HASH, auditHash } from '../../src/audit/chain';
import type { AuditEntry, AuditRecord } from '../../src/store/store';
import { describeEachStore } from '../support/stores';
import { ALICE, audit, minutes } from './records';

function expectUnbrokenChain(records: AuditRecord[]): void {
  let prev = { seq: 0, hash: GENESIS_HASH };
  for (const r of records) {
    expect({ seq: r.seq, prevHash: r.prevHash }).toEqual({ seq: prev.seq + 1, prevHash: prev.hash });
    const { seq: _seq, prevHash: _prev, hash, ...entry } = r;
    expect(hash).toBe(auditHash(entry, r.prevHash));
    prev = r;
  }
}

async function wholeChain(store: { listAudit(f: { order: 'asc'; limit: number; afterSeq?: number }): Promise<AuditRecord[]> }) {
  const all: AuditRecord[] = [];
  for (;;) {
    const page = await store.listAudit({ order: 'asc', limit: 100, afterSeq: all.at(-1)?.seq ?? 0 });
    if (!page.length) return all;
    all.push(...page);
  }
}

describeEachStore('audit chain', (engine) => {
  it('links each entry to the one before, from the genesis hash, and keeps the head', async () => {
    const store = await engine.fresh();
    expect(await store.auditChainHead()).toEqual({ seq: 0, hash: GENESIS_HASH });
    const appended = [];
    for (let i = 1; i <= 5; i++) appended.push(await store.recordAudit(audit(`a${i}`, i % 2 ? 'INC-1' : null, i)));
    expect(appended.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(appended[0]!.prevHash).toBe(GENESIS_HASH);
    expectUnbrokenChain(appended);
    expect(await wholeChain(store)).toEqual(appended);
    expect(await store.auditChainHead()).toEqual({ seq: 5, hash: appended[4]!.hash });
    expect(new Set(appended.map((r) => r.hash)).size).toBe(5);
  });

  it('hashes what it stores: key order, NUL, lone surrogates, undefined and other time offsets read back to the same hash', async () => {
    const store = await engine.fresh();
    const awkward: AuditEntry = {
      ...audit('odd', 'INC-7', 1),
      at: '2026-03-01T10:00:00.123+02:00',
      path: '/api/v1/x\u0000y',
      details: { zeta: 1, alpha: { b: [1, 'two\u0000', { d: null, c: 'half \ud800' }], a: true }, gone: undefined, n: 1e21, neg: -0 },
    };
    const written = await store.recordAudit(awkward);
    const [read] = await store.listAudit({ limit: 1 });
    expect(read).toEqual(written);
    expect(read!.at).toBe('2026-03-01T08:00:00.123Z');
    expect(read!.path).toBe('/api/v1/x\ufffdy');
    expect(read!.details).toEqual({ zeta: 1, alpha: { b: [1, 'two\ufffd', { d: null, c: 'half \ufffd' }], a: true }, n: 1e21, neg: 0 });
    expectUnbrokenChain([read!]);
    // The same entry as given hashes the same as the stored form.
    expect(auditHash(awkward, GENESIS_HASH)).toBe(read!.hash);
  });

  it('filters by incident, actor, action and time, and pages by seq either way', async () => {
    const store = await engine.fresh();
    const BOB = { id: 'token:bob', name: 'Bob', role: 'commander' as const };
    await store.recordAudit(audit('a1', 'INC-1', 1));
    await store.recordAudit({ ...audit('a2', 'INC-2', 2), actor: BOB, action: 'incident.note' });
    await store.recordAudit({ ...audit('a3', 'INC-1', 3), actor: BOB });
    await store.recordAudit({ ...audit('a4', null, 4), action: 'silence.create' });
    const ids = async (f: Parameters<typeof store.listAudit>[0]) => (await store.listAudit(f)).map((e) => e.id);

    expect(await ids({ incidentId: 'INC-1', limit: 10 })).toEqual(['a3', 'a1']);
    expect(await ids({ actorId: BOB.id, limit: 10 })).toEqual(['a3', 'a2']);
    expect(await ids({ actorId: ALICE.id, action: 'incident.declare', limit: 10 })).toEqual(['a1']);
    expect(await ids({ since: minutes(2), until: minutes(4), limit: 10 })).toEqual(['a3', 'a2']);
    expect(await ids({ beforeSeq: 3, limit: 10 })).toEqual(['a2', 'a1']);
    expect(await ids({ afterSeq: 1, order: 'asc', limit: 2 })).toEqual(['a2', 'a3']);
    expect(await ids({ actorId: 'token:nobody', limit: 10 })).toEqual([]);
  });

  it('makes one unbroken chain from two stores appending at once', async () => {
    const a = await engine.fresh();
    const b = await engine.another();
    const n = 60;
    const written = await Promise.all(
      Array.from({ length: n }, (_, i) => (i % 2 ? a : b).recordAudit({ ...audit(`c${i}`, `INC-${i % 3}`, i), details: { i } })),
    );
    expect(written.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const chain = await wholeChain(b);
    expect(chain).toHaveLength(n);
    expectUnbrokenChain(chain);
    expect(await a.auditChainHead()).toEqual({ seq: n, hash: chain.at(-1)!.hash });
  });

  it('chains the entries written before the chain existed, oldest first, when the migration runs', async () => {
    const store = await engine.fresh();
    // Back to the schema before the chain, with two entries in it written by that version.
    const migrationId = engine.name === 'sqlite' ? 12 : 2;
    await engine.sql(`
      DROP INDEX audit_log_seq;
      ALTER TABLE audit_log DROP COLUMN seq;
      ALTER TABLE audit_log DROP COLUMN prev_hash;
      ALTER TABLE audit_log DROP COLUMN hash;
      DROP TABLE audit_chain;
      DELETE FROM schema_migrations WHERE id = ${migrationId};
      INSERT INTO audit_log (id, at, actor, action, method, path, request_id, incident_id, details, outcome) VALUES
        ('old-2', '2026-01-01T00:02:00.000Z', '{"role":"admin","name":"Alice","id":"token:alice"}', 'incident.note', 'POST', '/p', 'r2', 'INC-1', '{"b":1,"a":[2]}', 'ok'),
        ('old-1', '2026-01-01T00:01:00.000Z', '{"id":"token:alice","name":"Alice","role":"admin"}', 'incident.declare', 'POST', '/p', 'r1', NULL, '{}', 'ok');
    `);
    await store.migrate();
    const next = await store.recordAudit(audit('new', null, 10));
    const chain = await wholeChain(store);
    expect(chain.map((r) => [r.seq, r.id])).toEqual([
      [1, 'old-1'],
      [2, 'old-2'],
      [3, 'new'],
    ]);
    expectUnbrokenChain(chain);
    expect(next.prevHash).toBe(chain[1]!.hash);
    // Migrating again changes nothing.
    await store.migrate();
    expect(await wholeChain(store)).toEqual(chain);
  });
});
