// A reload of config/oncall.yaml is audited as `config.reload` with what changed, by id; a broken edit (kept out)
// and an unchanged file write nothing. Real file, real source with an injected clock, real SQLite store.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditOnCallReload } from '../../src/audit/config-change';
import { verifyAuditChain } from '../../src/audit/verify';
import { createLogger } from '../../src/logger';
import { createOnCallSource } from '../../src/oncall/source';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { eventually } from '../support/wait';

const person = (id: string, email: string) => `  - { id: ${id}, name: ${id}, email: ${email}, timeZone: UTC }\n`;
const file = (people: string, policy = 'ana') =>
  `people:\n${people}escalationPolicies:\n  - id: main\n    levels:\n      - { targets: [{ person: ${policy} }], delay: 5m }\n`;

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fireline-reload-'));
  store = openSqliteStore(join(dir, 'fireline.db'));
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('each clean reload is one entry naming what changed; broken or unchanged files write none', async () => {
  const path = join(dir, 'oncall.yaml');
  writeFileSync(path, file(person('ana', 'ana@example.com')));
  let clock = 0;
  const record = auditOnCallReload({ store, logger: createLogger({ level: 'silent' }) });
  let hooked = 0;
  const source = createOnCallSource(path, {
    now: () => clock,
    onReload: (previous, current) => {
      hooked++;
      record(previous, current);
    },
  });
  const reloads = () => store.listAudit({ action: 'config.reload', limit: 10 });

  clock += 2000;
  source.current();
  expect(hooked).toBe(0);

  writeFileSync(path, file(person('ana', 'ana@other.example') + person('ben', 'ben@example.com'), 'ben'));
  clock += 2000;
  expect(source.current().people.map((p) => p.id)).toEqual(['ana', 'ben']);
  expect(hooked).toBe(1);
  // The hook writes without blocking the request that picked the change up.
  const [entry] = await eventually(async () => ((await reloads()).length ? reloads() : undefined), 'the config.reload entry');
  expect(entry).toMatchObject({
    action: 'config.reload',
    actor: { id: 'fireline', role: 'admin' },
    path: 'config/oncall.yaml',
    outcome: 'ok',
    details: {
      file: 'config/oncall.yaml',
      people: { added: ['ben'], removed: [], changed: ['ana'] },
      schedules: { added: [], removed: [], changed: [] },
      escalationPolicies: { added: [], removed: [], changed: ['main'] },
    },
  });
  // Ids only: no contact details in the log.
  expect(JSON.stringify(entry)).not.toContain('@');

  writeFileSync(path, 'people: [ broken');
  clock += 2000;
  expect(source.current().people).toHaveLength(2);
  expect(hooked).toBe(1);
  expect(await reloads()).toHaveLength(1);
  expect(await verifyAuditChain(store)).toMatchObject({ ok: true, count: 1 });
});
