import pg from 'pg';

/** Anything that runs a query: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export interface PgDb {
  readonly pool: pg.Pool;
  /** Rows of one statement, with `$1…` parameters. */
  rows<R extends pg.QueryResultRow>(sql: string, params?: unknown[], on?: Queryable): Promise<R[]>;
  /** Rows changed by one statement. */
  run(sql: string, params?: unknown[], on?: Queryable): Promise<number>;
  /** Runs `fn` in one transaction on one client; rolls back when it throws. */
  tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
}

const TIMESTAMPTZ = 1184;
const TIMESTAMP = 1114;
const INT8 = 20;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ);

/**
 * The read model's records carry times as ISO-8601 UTC text (`Date#toISOString`), ids and counters as numbers,
 * exactly as the SQLite store returns them, so one contract holds for both engines. Per pool, not global:
 * another pg user in the same process (the backup activities) keeps pg's defaults.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ || oid === TIMESTAMP) return (value: string) => (parseTimestamp(value) as Date).toISOString();
    // Our bigint columns (inbox ids, sequences) stay far below 2^53.
    if (oid === INT8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/**
 * PostgreSQL refuses NUL in text and in jsonb (`\u0000`), which SQLite stores; an alert label or a title with
 * one must not turn into a failed write. NUL becomes U+FFFD, in plain strings and in JSON text (an escape is a
 * `\u0000` preceded by an odd number of backslashes in a JSON parameter; an even number is a literal backslash).
 */
function withoutNul(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const plain = value.includes('\u0000') ? value.split('\u0000').join('\ufffd') : value;
  const json = plain.startsWith('{') || plain.startsWith('[');
  if (!json || !plain.includes('\\u0000')) return plain;
  return plain.replace(/(\\+)u0000/g, (m: string, slashes: string) => (slashes.length % 2 ? `${slashes}ufffd` : m));
}

function cleanParams(params: unknown[]): unknown[] {
  return params.map((p) => (Array.isArray(p) ? p.map(withoutNul) : withoutNul(p)));
}

export interface PgOptions {
  /** Connections per process; each API or worker replica has its own pool. */
  max?: number;
  applicationName?: string;
}

export function openPgDb(url: string, options: PgOptions = {}): PgDb {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types,
    application_name: options.applicationName ?? 'fireline',
    // A dead server must fail a request, not hang it: health checks and the alert deadline rely on it.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (server restart) emits here; without a listener it would crash the process.
  pool.on('error', () => undefined);
  const db: PgDb = {
    pool,
    async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], on: Queryable = pool) {
      return (await on.query<R>(sql, cleanParams(params))).rows;
    },
    async run(sql: string, params: unknown[] = [], on: Queryable = pool) {
      return (await on.query(sql, cleanParams(params))).rowCount ?? 0;
    },
    async tx<T>(fn: (client: pg.PoolClient) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
  return db;
}
