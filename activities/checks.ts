import net from 'node:net';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Client as PgClient } from 'pg';
import type { Check } from '../src/domain/runbook';
import type { DatabaseTarget, Targets } from '../src/domain/targets';
import { activityCancellationSignal, configFailure, renderer, resolveTargetValue, throwIfCancelled } from './shared/activity';
import { describeNetworkError, discardBody, exchange, isNetworkErrorCode, prepareHttpTarget, readText } from './shared/http';
import { Scrubber } from '../src/secrets/scrubber';
import { errorMessage, formatMs, oneLine, quote, truncate } from './shared/text';
import type { TemplateContext } from './template';

export interface CheckRequest {
  incidentId: string;
  stepId: string;
  check: Check;
  context: TemplateContext;
  /** Use the drill variant of a named database when the config has one. */
  drill: boolean;
  /** How long one check may take (connect + answer), in milliseconds; default 10 s. */
  timeoutMs?: number;
}

export interface CheckResult {
  healthy: boolean;
  /** One line for the timeline, e.g. "HTTP 503 from https://…/health" (no secrets: URLs are shown without credentials or query). */
  detail: string;
  latencyMs: number;
}

export interface CheckDeps {
  targets: Targets;
  env: Record<string, string | undefined>;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
/** A health page bigger than this is not read further; the body expectation must match within it. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * One health check: HTTP status/body, TCP connect, or a SQL query against a configured database.
 *
 * An unhealthy service is an answer (`healthy: false` with a detail), never an error: connection refused,
 * timeouts, wrong status and failing queries all come back as results. Only mistakes in the runbook or the
 * config throw, as non-retryable failures: an unknown database, an unset environment variable, a URL that is
 * not http(s).
 */
export function createCheckActivities(deps: CheckDeps) {
  return {
    async runCheck(req: CheckRequest): Promise<CheckResult> {
      const started = performance.now();
      const cancel = activityCancellationSignal();
      throwIfCancelled(cancel);
      const timeoutMs = req.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
      const secrets = new Scrubber();
      const render = renderer(req.context, deps.env, `step "${req.stepId}"`);
      const run = (): Promise<Outcome> => {
        if ('http' in req.check && req.check.http) return httpCheck(req.check.http, { render, secrets, timeoutMs, cancel });
        if ('tcp' in req.check && req.check.tcp) return tcpCheck(req.check.tcp, { render, timeoutMs, cancel });
        if ('sql' in req.check && req.check.sql) return sqlCheck(req.check.sql, req, deps, { render, secrets, timeoutMs, cancel });
        throw configFailure(`step "${req.stepId}": the check needs one of http, tcp or sql`);
      };
      const outcome = await run();
      return {
        healthy: outcome.healthy,
        detail: oneLine(secrets.scrub(outcome.detail)),
        latencyMs: Math.round(performance.now() - started),
      };
    },
  };
}

interface Outcome {
  healthy: boolean;
  detail: string;
}

interface RunOptions {
  render: (template: string) => string;
  secrets: Scrubber;
  timeoutMs: number;
  cancel: AbortSignal | undefined;
}

type HttpCheck = Extract<Check, { http: unknown }>['http'];
type TcpCheck = Extract<Check, { tcp: unknown }>['tcp'];
type SqlCheck = Extract<Check, { sql: unknown }>['sql'];

// --- HTTP ------------------------------------------------------------------------------------------------

async function httpCheck(check: HttpCheck, { render, secrets, timeoutMs, cancel }: RunOptions): Promise<Outcome> {
  const target = prepareHttpTarget(check.url, check.headers, render, secrets, 'check');
  const method = check.method ?? 'GET';
  const expected =
    typeof check.expect === 'number' ? { status: check.expect, body: undefined } : (check.expect ?? { status: 200, body: undefined });
  const expectedStatus = expected.status ?? 200;
  const expectedBody = expected.body === undefined ? undefined : render(expected.body);
  if (expectedBody !== undefined && expectedBody !== expected.body) secrets.add(expectedBody);
  const label = `${method} ${target.display}`;

  const answer = await exchange(
    target.url,
    { method, headers: target.headers },
    { timeoutMs, cancel },
    async (response): Promise<string | undefined> => {
      if (response.status !== expectedStatus || expectedBody === undefined || method === 'HEAD') {
        await discardBody(response);
        return undefined;
      }
      return readText(response, MAX_BODY_BYTES);
    },
  );
  if (!answer.answered) return { healthy: false, detail: answer.timedOut ? `${label}: ${answer.problem}` : `${label} ${answer.problem}` };
  const status = answer.response.status;
  if (status !== expectedStatus) return { healthy: false, detail: `HTTP ${status} from ${label}, expected ${expectedStatus}` };
  if (answer.body === undefined) return { healthy: true, detail: `HTTP ${status} from ${label}` };
  return answer.body.includes(expectedBody ?? '')
    ? { healthy: true, detail: `HTTP ${status} from ${label}, body contains ${quote(expected.body ?? '')}` }
    : { healthy: false, detail: `HTTP ${status} from ${label}, but the body does not contain ${quote(expected.body ?? '')}` };
}

// --- TCP -------------------------------------------------------------------------------------------------

async function tcpCheck(check: TcpCheck, { render, timeoutMs, cancel }: Omit<RunOptions, 'secrets'>): Promise<Outcome> {
  const host = render(check.host);
  const port = typeof check.port === 'number' ? check.port : parsePort(render(check.port), check.port);
  const label = `TCP ${host.includes(':') ? `[${host}]` : host}:${port}`;
  const result = await tcpConnect(host, port, timeoutMs, cancel);
  throwIfCancelled(cancel);
  if (result === 'connected') return { healthy: true, detail: `${label} accepts connections` };
  if (result === 'timeout') return { healthy: false, detail: `${label}: no connection within ${formatMs(timeoutMs)}` };
  return { healthy: false, detail: `${label} failed: ${describeNetworkError(result)}` };
}

function parsePort(text: string, template: string): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw configFailure(`the TCP port ${quote(template)} is not a port number (1-65535)`);
  return port;
}

function tcpConnect(
  host: string,
  port: number,
  timeoutMs: number,
  cancel: AbortSignal | undefined,
): Promise<'connected' | 'timeout' | Error> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (result: 'connected' | 'timeout' | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
      socket.destroy();
      resolve(result);
    };
    const onCancel = () => finish(new Error('cancelled'));
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    cancel?.addEventListener('abort', onCancel, { once: true });
    socket.once('connect', () => finish('connected'));
    socket.once('error', (error) => finish(error));
  });
}

// --- SQL -------------------------------------------------------------------------------------------------

async function sqlCheck(
  check: SqlCheck,
  req: CheckRequest,
  deps: CheckDeps,
  { render, secrets, timeoutMs, cancel }: RunOptions,
): Promise<Outcome> {
  const configured = deps.targets.databases[check.database];
  if (!configured) {
    const known = Object.keys(deps.targets.databases);
    throw configFailure(
      `step "${req.stepId}": database "${check.database}" is not in config/targets.yaml (${known.length ? `known: ${known.join(', ')}` : 'no databases are configured'})`,
    );
  }
  const useDrill = req.drill && configured.drill !== undefined;
  const target: DatabaseTarget = useDrill && configured.drill ? configured.drill : configured;
  const label = `SQL on ${check.database}${useDrill ? ' (drill)' : ''}`;
  const location = resolveTargetValue(target.url, deps.env, `database "${check.database}"`);
  secrets.add(location);
  const query = bindPlaceholders(check.query, render, target.driver === 'postgres' ? 'postgres' : 'sqlite');
  secrets.add(...query.values);

  let rows: { count: number; first: unknown; hasFirst: boolean };
  try {
    rows =
      target.driver === 'postgres'
        ? await queryPostgres(location, query, timeoutMs, cancel, secrets)
        : querySqlite(location, query, timeoutMs);
  } catch (error) {
    throwIfCancelled(cancel);
    return { healthy: false, detail: `${label} failed: ${describeSqlError(error)}` };
  }

  if (check.expect === undefined) {
    return rows.count > 0
      ? { healthy: true, detail: `${label}: ${rows.count === 1 ? '1 row' : `${rows.count} rows`}` }
      : { healthy: false, detail: `${label}: no rows` };
  }
  if (!rows.hasFirst) return { healthy: false, detail: `${label}: no rows, expected ${quote(String(check.expect))}` };
  const actual = String(rows.first);
  return actual === String(check.expect)
    ? { healthy: true, detail: `${label}: ${quote(truncate(actual, 100))} as expected` }
    : { healthy: false, detail: `${label}: got ${quote(truncate(actual, 100))}, expected ${quote(String(check.expect))}` };
}

interface BoundQuery {
  text: string;
  values: string[];
}

/**
 * Runbook placeholders and `${ENV}` references in a query become bound parameters ($1… for postgres, ? for
 * sqlite), never SQL text: an incident title from an alert cannot inject SQL. `'${x}'` (the whole literal) is
 * bound like `${x}`; a placeholder inside a longer string literal or a quoted identifier is a config error.
 */
export function bindPlaceholders(query: string, render: (template: string) => string, dialect: 'postgres' | 'sqlite'): BoundQuery {
  const values: string[] = [];
  let text = '';
  let quoteChar: "'" | '"' | undefined;
  const bind = (token: string) => {
    const value = render(token);
    if (value === token) throw configFailure(`the query placeholder ${token} has no value here`);
    values.push(value);
    return dialect === 'postgres' ? `$${values.length}` : '?';
  };
  for (let i = 0; i < query.length;) {
    const ch = query[i] as string;
    if (query.startsWith('${', i)) {
      const end = query.indexOf('}', i);
      if (end === -1) {
        text += query.slice(i);
        break;
      }
      if (quoteChar)
        throw configFailure(
          `the query placeholder ${query.slice(i, end + 1)} is inside a quoted string or name; write it unquoted, it is bound as a parameter`,
        );
      text += bind(query.slice(i, end + 1));
      i = end + 1;
      continue;
    }
    if (ch === "'" && !quoteChar && query.startsWith("'${", i)) {
      const end = query.indexOf('}', i);
      if (end !== -1 && query[end + 1] === "'") {
        text += bind(query.slice(i + 1, end + 1));
        i = end + 2;
        continue;
      }
    }
    if (ch === "'" || ch === '"') {
      if (!quoteChar) quoteChar = ch;
      else if (quoteChar === ch) quoteChar = undefined; // '' inside a literal closes and reopens: same state.
    }
    text += ch;
    i += 1;
  }
  return { text, values };
}

async function queryPostgres(
  connectionString: string,
  query: BoundQuery,
  timeoutMs: number,
  cancel: AbortSignal | undefined,
  secrets: Scrubber,
): Promise<{ count: number; first: unknown; hasFirst: boolean }> {
  try {
    const parsed = new URL(connectionString);
    secrets.add(decodeURIComponent(parsed.password), parsed.password);
  } catch {
    // Not a URL (key=value form): the whole string is already scrubbed.
  }
  const client = new PgClient({
    connectionString,
    connectionTimeoutMillis: timeoutMs,
    // The server-side statement_timeout is set per transaction below (poolers such as PgBouncer refuse it as a
    // startup parameter); query_timeout is the client's own guard should the server not answer at all.
    query_timeout: timeoutMs + 1000,
    application_name: 'fireline-check',
  });
  // A connection that breaks while idle emits 'error'; without a listener that would crash the worker.
  client.on('error', () => undefined);
  const onCancel = () => void client.end().catch(() => undefined);
  cancel?.addEventListener('abort', onCancel, { once: true });
  try {
    await client.connect();
    // A health check reads; a read-only transaction makes sure a mistaken query cannot write.
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(timeoutMs))}`);
    const result = await client.query({ text: query.text, values: query.values, rowMode: 'array' });
    await client.query('ROLLBACK');
    const first = result.rows[0] as unknown[] | undefined;
    return { count: result.rows.length, first: first?.[0], hasFirst: first !== undefined && first.length > 0 };
  } finally {
    cancel?.removeEventListener('abort', onCancel);
    await client.end().catch(() => undefined);
  }
}

function querySqlite(file: string, query: BoundQuery, timeoutMs: number): { count: number; first: unknown; hasFirst: boolean } {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: Math.min(timeoutMs, 5000) });
  try {
    const statement = db.prepare(query.text);
    if (!statement.reader) throw new Error('the query returns no rows (use SELECT)');
    const first = statement.raw(true).get(...query.values) as unknown[] | undefined;
    // Only the first row is read: counting a large result would be slow and says nothing more.
    return { count: first ? 1 : 0, first: first?.[0], hasFirst: first !== undefined && first.length > 0 };
  } finally {
    db.close();
  }
}

function describeSqlError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (isNetworkErrorCode(code)) return describeNetworkError(error);
  const message = errorMessage(error);
  // Postgres errors carry a SQLSTATE code (42P01 …); SQLite ones a name (SQLITE_ERROR).
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
