// SQLite-only behaviour of the embedded store: its migrations on a file, WAL, and processes sharing one file.
// What both engines must do is the contract suite in tests/store/.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite';
import { MIGRATIONS } from '../../src/store/sqlite/migrations';
import type { Store } from '../../src/store/store';

const run = promisify(execFile);

let dir: string;
let opened: Store[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-store-'));
  opened = [];
});

afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function dbFile(name = 'fireline.db'): string {
  return path.join(dir, name);
}

function open(file = dbFile()): Store {
  const store = openSqliteStore(file);
  opened.push(store);
  return store;
}

async function migrated(file = dbFile()): Promise<Store> {
  const store = open(file);
  await store.migrate();
  return store;
}

describe('migrations', () => {
  it('have unique, ascending ids', () => {
    const ids = MIGRATIONS.map((m) => m.id);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
  });

  it('apply once; a second migrate is a no-op', async () => {
    const store = await migrated();
    expect(await store.allocateIncidentNumber()).toBe(1);
    await store.migrate();
    expect(await store.allocateIncidentNumber()).toBe(2);

    const raw = new Database(dbFile(), { readonly: true });
    try {
      const applied = raw.prepare('SELECT id, name FROM schema_migrations ORDER BY id').all();
      expect(applied).toEqual(MIGRATIONS.map(({ id, name }) => ({ id, name })));
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('creates the parent directory and answers ping before migrating', async () => {
    const store = open(path.join(dir, 'nested', 'deeper', 'read.db'));
    await expect(store.ping()).resolves.toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'nested', 'deeper', 'read.db'))).toBe(true);
  });

  it('works in memory', async () => {
    const store = open(':memory:');
    await store.migrate();
    expect(await store.allocateIncidentNumber()).toBe(1);
  });
});

describe('incident numbers', () => {
  it('are distinct across two stores on the same file', async () => {
    const a = await migrated();
    const b = await migrated();
    const numbers = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).allocateIncidentNumber()));
    expect([...numbers].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('are distinct across two processes migrating and allocating at once', async () => {
    const script = `
      require('tsx/cjs');
      const { openSqliteStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/store/sqlite/index.ts'))});
      (async () => {
        const store = openSqliteStore(process.env.STORE_FILE);
        await store.migrate();
        const numbers = [];
        for (let i = 0; i < 100; i++) numbers.push(await store.allocateIncidentNumber());
        await store.close();
        process.stdout.write(JSON.stringify(numbers));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const env = { ...process.env, STORE_FILE: dbFile('shared.db') };
    const children = [1, 2].map(() => run(process.execPath, ['-e', script], { env, cwd: path.resolve(__dirname, '../..') }));
    const outputs = await Promise.all(children);
    const numbers = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as number[]);
    expect(numbers.sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});
