import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../../src/domain/failure-types';
import type { BackupProviderConfig } from '../../src/domain/targets';
import type { ActivityRuntime } from '../shared/activity';
import { nonRetryable, throwIfCancelled } from '../shared/activity';
import { Scrubber } from '../../src/secrets/scrubber';
import type { ToolResult } from './common';
import { commitBackupFile, discardTemp, fileSize, hashFile, lastLines, prepareBackupFile, runTool } from './common';
import type { ProviderContext, ProviderOutcome } from './types';

type PostgresBackupConfig = Extract<BackupProviderConfig, { provider: 'postgres' }>;

/** A libpq connection string split so that the password never reaches argv, results, errors or logs. */
export interface PostgresConnection {
  /** The connection string without its password: safe to pass as an argument. */
  conninfo: string;
  /** Percent-decoded; handed to libpq tools through PGPASSWORD. */
  password?: string;
  /** Host, port and database only: for messages. */
  display: string;
  /** The same server and user, another database. */
  withDatabase(name: string): string;
}

const URI = /^(postgres(?:ql)?:\/\/)([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?(?:#.*)?$/i;

/** Parses both libpq forms: `postgres://user:pass@host:port/db?opts` and `host=… dbname=… password=…`. */
export function parsePostgresConnection(raw: string): PostgresConnection | undefined {
  const text = raw.trim();
  const uri = URI.exec(text);
  if (uri) {
    const scheme = uri[1]!;
    const authority = uri[2] ?? '';
    const at = authority.lastIndexOf('@');
    const userinfo = at >= 0 ? authority.slice(0, at) : '';
    const hosts = at >= 0 ? authority.slice(at + 1) : authority;
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    let password = colon >= 0 ? decode(userinfo.slice(colon + 1)) : undefined;
    const params: string[] = [];
    for (const param of (uri[4] ?? '').split('&').filter(Boolean)) {
      const [key = '', value = ''] = param.split(/=(.*)/s);
      if (decode(key) === 'password') password = decode(value);
      else params.push(param);
    }
    const dbPath = uri[3] ?? '';
    const build = (pathPart: string, query: string[]) =>
      `${scheme}${user ? `${user}@` : ''}${hosts}${pathPart}${query.length ? `?${query.join('&')}` : ''}`;
    return {
      conninfo: build(dbPath, params),
      password: password || undefined,
      display: `${scheme}${hosts}${dbPath}`,
      withDatabase: (name) =>
        build(
          `/${encodeURIComponent(name)}`,
          params.filter((p) => decode(p.split('=')[0] ?? '') !== 'dbname'),
        ),
    };
  }
  const pairs = parseKeywordValues(text);
  if (!pairs || pairs.size === 0) return undefined;
  const password = pairs.get('password');
  pairs.delete('password');
  const build = (entries: Map<string, string>) => [...entries].map(([k, v]) => `${k}=${quoteValue(v)}`).join(' ');
  const shown = ['host', 'hostaddr', 'port', 'dbname'].filter((k) => pairs.has(k)).map((k) => `${k}=${pairs.get(k)}`);
  return {
    conninfo: build(pairs),
    password: password || undefined,
    display: shown.join(' ') || '(default connection)',
    withDatabase: (name) => build(new Map([...pairs, ['dbname', name]])),
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseKeywordValues(text: string): Map<string, string> | undefined {
  const pairs = new Map<string, string>();
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|([^\s']*))/gy;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    pairs.set(m[1]!, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
    consumed = re.lastIndex;
  }
  return text.slice(consumed).trim() === '' ? pairs : undefined;
}

function quoteValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A libpq tool: the configured directory, else PATH, else the newest Debian install. */
export function findPostgresTool(name: string, binDir: string | undefined, pathEnv: string | undefined): string {
  if (binDir) return path.join(binDir, name);
  for (const dir of (pathEnv ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  const debian = '/usr/lib/postgresql';
  const versions = fs.existsSync(debian) ? fs.readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v)) : [];
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const candidate = path.join(debian, version, 'bin', name);
    if (isExecutable(candidate)) return candidate;
  }
  throw nonRetryable(
    `${name} was not found on PATH or under ${debian}/*/bin: install the PostgreSQL client tools (Debian: postgresql-client)`,
    FAILURE.backupToolMissing,
  );
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Failures a retry cannot fix: wrong credentials, missing database or role, no permission. */
const PERMANENT =
  /password authentication failed|no pg_hba\.conf entry|role "[^"]*" does not exist|database "[^"]*" does not exist|permission denied|server version mismatch|invalid (?:connection option|URI)/i;

/**
 * `pg_dump --format=custom` to a temp file, renamed once complete. The restore check restores the dump into
 * a scratch database on the same server, counts the tables and drops the scratch database again.
 */
export async function postgresBackup(config: PostgresBackupConfig, ctx: ProviderContext): Promise<ProviderOutcome> {
  const { rt, req } = ctx;
  const raw = ctx.resolve(config.url);
  const conn = parsePostgresConnection(raw);
  if (!conn)
    throw nonRetryable(
      `the url of backup target "${req.target}" is neither a postgres:// URL nor a key=value connection string`,
      FAILURE.invalidBackupTarget,
    );
  const tools = {
    dump: findPostgresTool('pg_dump', ctx.postgresBinDir, ctx.env.PATH),
    restore: findPostgresTool('pg_restore', ctx.postgresBinDir, ctx.env.PATH),
    psql: findPostgresTool('psql', ctx.postgresBinDir, ctx.env.PATH),
  };
  const env: NodeJS.ProcessEnv = { ...ctx.env, PGCONNECT_TIMEOUT: ctx.env.PGCONNECT_TIMEOUT ?? '30' };
  if (conn.password) env.PGPASSWORD = conn.password;
  const secrets = new Scrubber();
  secrets.add(raw, conn.password);
  const fail = (tool: string, result: ToolResult): ApplicationFailure => {
    const why = secrets.scrub(lastLines(result.stderr)) || (result.signal ? `killed by ${result.signal}` : 'no output');
    const message = `${tool} failed for ${conn.display} (exit ${result.code ?? result.signal}): ${why}`;
    return PERMANENT.test(result.stderr)
      ? nonRetryable(message, FAILURE.backupFailed)
      : ApplicationFailure.create({ message, type: FAILURE.backupFailed, nonRetryable: false });
  };

  const file = await prepareBackupFile(ctx.backupDir, req.incidentId, req.stepId, 'dump');
  let sha256: string;
  let sizeBytes: number;
  try {
    const dump = await runTool(rt, tools.dump, ['--format=custom', '--no-owner', `--file=${file.tmpPath}`, `--dbname=${conn.conninfo}`], {
      env,
      heartbeatIntervalMs: ctx.heartbeatIntervalMs,
      progress: async () => ({ phase: 'pg_dump', bytes: await fileSize(file.tmpPath) }),
    });
    if (dump.code !== 0) throw fail('pg_dump', dump);
    ({ sha256, sizeBytes } = await hashFile(file.tmpPath));
    throwIfCancelled(rt.signal);
    await commitBackupFile(file);
  } catch (err) {
    await discardTemp(file);
    throw err;
  }
  rt.log.info('pg_dump finished', { target: req.target, server: conn.display, sizeBytes });

  const restoreCheck = req.restoreCheck ? await restoreIntoScratch(file.finalPath, conn, tools, env, secrets, ctx) : null;
  return { location: file.finalPath, sizeBytes, sha256, restoreCheck };
}

async function restoreIntoScratch(
  dumpFile: string,
  conn: PostgresConnection,
  tools: { restore: string; psql: string },
  env: NodeJS.ProcessEnv,
  secrets: Scrubber,
  ctx: ProviderContext,
): Promise<{ ok: boolean; detail: string }> {
  const { rt } = ctx;
  const run = (runtime: ActivityRuntime, command: string, args: string[], phase: string) =>
    runTool(runtime, command, args, { env, heartbeatIntervalMs: ctx.heartbeatIntervalMs, progress: () => ({ phase }) });
  const why = (result: ToolResult) => secrets.scrub(lastLines(result.stderr)) || `exit ${result.code ?? result.signal}`;
  const sql = (runtime: ActivityRuntime, conninfo: string, statement: string) =>
    run(runtime, tools.psql, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', `--dbname=${conninfo}`, '-c', statement], 'restore-check');

  const listing = await run(rt, tools.restore, ['--list', dumpFile], 'restore-check');
  if (listing.code !== 0) return { ok: false, detail: `pg_restore --list could not read the dump: ${why(listing)}` };
  const dumpedTables = (listing.stdout.match(/^\d+;\s+\d+\s+\d+\s+TABLE\s+public\s+/gm) ?? []).length;

  // Named after the idempotency key, so a retry after a crash drops what the crashed attempt left behind.
  const scratch = `fireline_restore_${createHash('sha256').update(ctx.req.idempotencyKey).digest('hex').slice(0, 12)}`;
  // The scratch database is dropped even when the activity is being cancelled, so that step must not be.
  const uncancellable: ActivityRuntime = { ...rt, signal: new AbortController().signal };
  const drop = () => sql(uncancellable, conn.conninfo, `DROP DATABASE IF EXISTS ${scratch}`);

  const dropped = await drop();
  if (dropped.code !== 0) return { ok: false, detail: `could not drop a leftover scratch database ${scratch}: ${why(dropped)}` };
  const created = await sql(rt, conn.conninfo, `CREATE DATABASE ${scratch}`);
  if (created.code !== 0) return { ok: false, detail: `could not create scratch database ${scratch}: ${why(created)}` };
  let result: { ok: boolean; detail: string };
  try {
    const restored = await run(rt, tools.restore, ['--no-owner', `--dbname=${conn.withDatabase(scratch)}`, dumpFile], 'restore-check');
    if (restored.code !== 0) {
      result = { ok: false, detail: `pg_restore into ${scratch} failed: ${why(restored)}` };
    } else {
      const counted = await sql(rt, conn.withDatabase(scratch), "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'");
      const tables = Number.parseInt(counted.stdout.trim(), 10);
      if (counted.code !== 0 || !Number.isFinite(tables)) {
        result = { ok: false, detail: `could not count the restored tables: ${why(counted)}` };
      } else if (tables !== dumpedTables || (dumpedTables > 0 && tables === 0)) {
        result = { ok: false, detail: `restored ${tables} of ${dumpedTables} tables in schema public` };
      } else {
        result = {
          ok: true,
          detail: `pg_restore into a scratch database ok, ${tables} ${tables === 1 ? 'table' : 'tables'} in schema public`,
        };
      }
    }
  } finally {
    const cleanup = await drop().catch((err: Error) => ({ code: -1, signal: null, stdout: '', stderr: err.message }) as ToolResult);
    if (cleanup.code !== 0) rt.log.warn('could not drop the scratch database', { database: scratch, error: why(cleanup) });
  }
  return result;
}
