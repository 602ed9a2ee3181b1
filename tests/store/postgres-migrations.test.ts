// PostgreSQL only: replicas starting at once on a fresh database, and the incident sequence shared between them.
import { openPgDb } from '../../src/store/postgres/db';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations';
import { openPostgresStore } from '../../src/store/postgres';
import type { Store } from '../../src/store/store';
import { databaseUrl, postgresAvailability, psql, startPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';

const pg = postgresAvailability();

(pg.run ? describe : describe.skip)(`PostgreSQL replicas${pg.label}`, () => {
  let cluster: TestPostgres;
  let databases = 0;
  const opened: Store[] = [];

  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await cluster.stop();
  });

  async function freshDatabase(): Promise<string> {
    const name = `replicas_${process.pid}_${++databases}`;
    await psql(cluster.binDir, cluster.url, `CREATE DATABASE ${name}`);
    return databaseUrl(cluster.url, name);
  }

  function open(url: string): Store {
    const store = openPostgresStore(url, { max: 4 });
    opened.push(store);
    return store;
  }

  it('both migrate a fresh database at once; each migration is recorded once', async () => {
    const url = await freshDatabase();
    const [a, b] = [open(url), open(url)];
    await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
    const db = openPgDb(url, { max: 1 });
    try {
      const applied = await db.rows<{ id: number; name: string }>('SELECT id, name FROM schema_migrations ORDER BY id');
      expect(applied).toEqual(PG_MIGRATIONS.map(({ id, name }) => ({ id, name })));
    } finally {
      await db.pool.end();
    }
    expect(await a.allocateIncidentNumber()).toBe(1);
    await b.migrate();
    expect(await b.allocateIncidentNumber()).toBe(2);
  });

  it('hand out distinct incident numbers to two stores allocating 200 at once', async () => {
    const url = await freshDatabase();
    const [a, b] = [open(url), open(url)];
    await Promise.all([a.migrate(), b.migrate()]);
    const numbers = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).allocateIncidentNumber()));
    expect([...numbers].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});
