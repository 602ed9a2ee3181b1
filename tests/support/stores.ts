// The read-model engines the store contract suite runs against: every test in tests/store/ runs once on SQLite
// and once on a real PostgreSQL server, through the same `Store` interface.
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { openPostgresStore } from '../../src/store/postgres';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { databaseUrl, postgresAvailability, psql, startPostgres } from './postgres';
import type { TestPostgres } from './postgres';

export interface StoreEngine {
  readonly name: 'sqlite' | 'postgres';
  /**
   * A migrated store on a database of its own, closed after the test. `randomIncidentNumbers`: numbers start at a
   * random offset, for tests that start workflows on the Temporal server every test file shares (INC-1 of two
   * tests would be one workflow id).
   */
  fresh(options?: { randomIncidentNumbers?: boolean }): Promise<Store>;
  /** A second store on the same database as `fresh()`'s last one: another replica or process. */
  another(): Promise<Store>;
  /** Runs SQL (one or more statements) on `fresh()`'s last database directly, as anyone with access to it could. */
  sql(statements: string): Promise<void>;
}

/**
 * Declares `suite` once per engine (`describe('sqlite' | 'postgres')`). The PostgreSQL cluster starts once per
 * test file; each `fresh()` creates a new database on it, so tests never see each other's rows.
 */
export function describeEachStore(title: string, suite: (engine: StoreEngine) => void): void {
  const declare = (makeEngine: (stores: Tracked) => StoreEngine) => () => {
    const stores = tracked();
    suite(makeEngine(stores));
    // Declared after the suite's own hooks, so it runs after them (jest runs afterEach hooks in declaration
    // order): a suite stops what uses its stores (workers, replicas) before they close.
    afterEach(() => stores.closeAll());
  };
  describe(`${title} · sqlite`, declare(sqliteEngine));
  const pg = postgresAvailability();
  (pg.run ? describe : describe.skip)(`${title} · postgres${pg.label}`, declare(postgresEngine));
}

interface Tracked {
  track(store: Store): Store;
  closeAll(): Promise<void>;
}

function tracked(): Tracked {
  let opened: Store[] = [];
  return {
    track(store) {
      opened.push(store);
      return store;
    },
    async closeAll() {
      const closing = opened;
      opened = [];
      await Promise.all(closing.map((store) => store.close()));
    },
  };
}

function sqliteEngine(stores: Tracked): StoreEngine {
  let dir: string;
  let file = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-store-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const open = async (f: string) => {
    const store = stores.track(openSqliteStore(f));
    await store.migrate();
    return store;
  };
  return {
    name: 'sqlite',
    async fresh(options = {}) {
      const store = await open((file = path.join(dir, `store-${++n}.db`)));
      if (options.randomIncidentNumbers) {
        const db = new Database(file);
        db.prepare("UPDATE sequences SET value = ? WHERE name = 'incident'").run(randomOffset());
        db.close();
      }
      return store;
    },
    another: () => open(file),
    async sql(statements) {
      const db = new Database(file);
      try {
        db.exec(statements);
      } finally {
        db.close();
      }
    },
  };
}

const randomOffset = () => randomInt(1, 2 ** 39);

let cluster: Promise<TestPostgres> | undefined;
let databases = 0;

function postgresEngine(stores: Tracked): StoreEngine {
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
    async fresh(options = {}) {
      const pg = await (cluster ??= startPostgres());
      const name = `contract_${process.pid}_${++databases}`;
      await psql(pg.binDir, pg.url, `CREATE DATABASE ${name}`);
      url = databaseUrl(pg.url, name);
      const store = await open(url);
      if (options.randomIncidentNumbers) await psql(pg.binDir, url, `SELECT setval('incident_number', ${randomOffset()})`);
      return store;
    },
    another: () => open(url),
    async sql(statements) {
      await psql((await cluster!).binDir, url, statements);
    },
  };
}
