// The read-model engines the store contract suite runs against: every test in tests/store/ runs once on SQLite
// and once on a real PostgreSQL server, through the same `Store` interface.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPostgresStore } from '../../src/store/postgres';
import { SqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { databaseUrl, postgresAvailability, psql, startPostgres } from './postgres';
import type { TestPostgres } from './postgres';

export interface StoreEngine {
  readonly name: 'sqlite' | 'postgres';
  /** A migrated store on a database of its own, closed after the test. */
  fresh(): Promise<Store>;
  /** A second store on the same database as `fresh()`'s last one: another replica or process. */
  another(): Promise<Store>;
}

/**
 * Declares `suite` once per engine (`describe('sqlite' | 'postgres')`). The PostgreSQL cluster starts once per
 * test file; each `fresh()` creates a new database on it, so tests never see each other's rows.
 */
export function describeEachStore(title: string, suite: (engine: StoreEngine) => void): void {
  describe(`${title} · sqlite`, () => suite(sqliteEngine()));
  const pg = postgresAvailability();
  (pg.run ? describe : describe.skip)(`${title} · postgres${pg.label}`, () => suite(postgresEngine()));
}

function tracked(): { track(store: Store): Store } {
  let opened: Store[] = [];
  afterEach(async () => {
    const closing = opened;
    opened = [];
    await Promise.all(closing.map((store) => store.close()));
  });
  return {
    track(store) {
      opened.push(store);
      return store;
    },
  };
}

function sqliteEngine(): StoreEngine {
  const stores = tracked();
  let dir: string;
  let file = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-store-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const open = async (f: string) => {
    const store = stores.track(SqliteStore.open(f));
    await store.migrate();
    return store;
  };
  return {
    name: 'sqlite',
    fresh: () => open((file = path.join(dir, `store-${++n}.db`))),
    another: () => open(file),
  };
}

let cluster: Promise<TestPostgres> | undefined;
let databases = 0;

function postgresEngine(): StoreEngine {
  const stores = tracked();
  let url = '';
  afterAll(async () => {
    const running = cluster;
    cluster = undefined;
    if (running) await (await running).stop();
  });
  const open = async (u: string) => {
    // Small pools: a test opens a few stores, the cluster allows a few hundred connections.
    const store = stores.track(openPostgresStore(u, { max: 4 }));
    await store.migrate();
    return store;
  };
  return {
    name: 'postgres',
    async fresh() {
      const pg = await (cluster ??= startPostgres());
      const name = `contract_${process.pid}_${++databases}`;
      await psql(pg.binDir, pg.url, `CREATE DATABASE ${name}`);
      url = databaseUrl(pg.url, name);
      return open(url);
    },
    another: () => open(url),
  };
}
