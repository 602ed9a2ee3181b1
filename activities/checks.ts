import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import Database from 'better-sqlite3';
import { Client as PgClient } from 'pg';
import { FAILURE } from '../src/domain/failure-types';
import type { Check } from '../src/domain/runbook';
import type { DatabaseTarget, Targets } from '../src/domain/targets';
import { MissingEnvError, renderTarget, resolveEnvRefs } from './template';
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
const SENSITIVE_HEADER = /auth|token|key|secret|cookie|signature|password/i;
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
  const expected = typeof check.expect === 'number' ? { status: check.expect, body: undefined } : (check.expect ?? { status: 200, body: undefined });
  const expectedStatus = expected.status ?? 200;
  const expectedBody = expected.body === undefined ? undefined : render(expected.body);
  if (expectedBody !== undefined && expectedBody !== expected.body) secrets.add(expectedBody);
  const label = `${method} ${target.display}`;

  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
  try {
    const response = await fetch(target.url, { method, headers: target.headers, signal });
    const status = response.status;
    if (status !== expectedStatus) {
      await discardBody(response);
      return { healthy: false, detail: `HTTP ${status} from ${label}, expected ${expectedStatus}` };
    }
    if (expectedBody === undefined || method === 'HEAD') {
      await discardBody(response);
      return { healthy: true, detail: `HTTP ${status} from ${label}` };
    }
    const body = await readText(response, MAX_BODY_BYTES);
    return body.includes(expectedBody)
      ? { healthy: true, detail: `HTTP ${status} from ${label}, body contains ${quote(expected.body ?? '')}` }
      : { healthy: false, detail: `HTTP ${status} from ${label}, but the body does not contain ${quote(expected.body ?? '')}` };
  } catch (error) {
    throwIfCancelled(cancel);
    if (timeout.aborted) return { healthy: false, detail: `${label}: no answer within ${formatMs(timeoutMs)}` };
    return { healthy: false, detail: `${label} failed: ${describeNetworkError(error)}` };
  }
}

export interface HttpTarget {
  /** The resolved URL to call (credentials moved into an Authorization header). */
  url: string;
  /** The URL as shown in details and errors: scheme, host and path only. */
  display: string;
  headers: Headers;
}

/**
 * Renders a URL and headers from a runbook, checks the URL is http(s), moves `user:pass@` into a Basic
 * Authorization header (fetch refuses URLs with credentials) and records what must never be shown.
 */
export function prepareHttpTarget(
  urlTemplate: string,
  headerTemplates: Record<string, string> | undefined,
  render: (template: string) => string,
  secrets: Scrubber,
  what: string,
): HttpTarget {
  const rendered = render(urlTemplate);
  let url: URL;
  try {
    url = new URL(rendered);
  } catch {
    secrets.add(rendered);
    throw configFailure(`the ${what} URL ${quote(urlTemplate)} does not render to a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw configFailure(`the ${what} URL ${quote(urlTemplate)} must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  const headers = new Headers();
  for (const [name, template] of Object.entries(headerTemplates ?? {})) {
    const value = render(template);
    // Templated and credential-like header values are where tokens live: never shown, even when echoed back.
    if (value !== template || SENSITIVE_HEADER.test(name)) secrets.add(value);
    try {
      headers.set(name, value);
    } catch {
      throw configFailure(`the ${what} header ${quote(name)} is not a valid header name or value`);
    }
  }
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    secrets.add(user, password, url.username, url.password);
    if (!headers.has('authorization')) headers.set('Authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
    url.username = '';
    url.password = '';
  }
  // The query is never shown; long values (tokens) are masked should an error message echo them.
  for (const [, value] of url.searchParams) if (value.length >= 8) secrets.add(value);
  return { url: url.toString(), display: redactUrl(url), headers };
}

/** Scheme, host and path: no userinfo, query or fragment. */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return '(invalid URL)';
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to clean up.
  }
}

/** The body as text, at most `maxBytes` of it. */
export async function readText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - bytes;
      const chunk = value.byteLength > room ? value.subarray(0, room) : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
      if (bytes >= maxBytes) {
        await reader.cancel();
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return text + decoder.decode();
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
};

/** "connection refused (ECONNREFUSED)" from fetch's `TypeError: fetch failed` and its cause, or a socket error. */
export function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  // fetch wraps the socket error in `cause`; happy eyeballs wraps several in an AggregateError.
  for (let depth = 0; depth < 4; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  const inner = (current as { errors?: unknown } | null)?.errors;
  if (Array.isArray(inner) && inner.length > 0) current = inner[0];
  const code = (current as { code?: unknown } | null)?.code;
  const message = errorMessage(current);
  if (typeof code === 'string') {
    const friendly = NETWORK_CODES[code];
    if (friendly) return `${friendly} (${code})`;
    return message && !message.includes(code) ? `${message} (${code})` : message || code;
  }
  return message;
}

/**
 * An error's message without relying on `instanceof Error`: errors from Node's own modules come from another
 * realm under jest, and libraries sometimes throw plain objects.
 */
export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
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
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw configFailure(`the TCP port ${quote(template)} is not a port number (1-65535)`);
  return port;
}

function tcpConnect(host: string, port: number, timeoutMs: number, cancel: AbortSignal | undefined): Promise<'connected' | 'timeout' | Error> {
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

async function sqlCheck(check: SqlCheck, req: CheckRequest, deps: CheckDeps, { render, secrets, timeoutMs, cancel }: RunOptions): Promise<Outcome> {
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
    rows = target.driver === 'postgres'
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
  for (let i = 0; i < query.length; ) {
    const ch = query[i] as string;
    if (query.startsWith('${', i)) {
      const end = query.indexOf('}', i);
      if (end === -1) {
        text += query.slice(i);
        break;
      }
      if (quoteChar) throw configFailure(`the query placeholder ${query.slice(i, end + 1)} is inside a quoted string or name; write it unquoted, it is bound as a parameter`);
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
  if (typeof code === 'string' && code in NETWORK_CODES) return describeNetworkError(error);
  const message = errorMessage(error);
  // Postgres errors carry a SQLSTATE code (42P01 …); SQLite ones a name (SQLITE_ERROR).
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

// --- Shared by checks and actions ------------------------------------------------------------------------

/** Remembers resolved values that must not appear in a detail or error message, and masks them. */
export class Scrubber {
  private readonly values = new Set<string>();

  add(...values: (string | undefined)[]): void {
    for (const value of values) {
      // Very short values ("1", "on") would mask ordinary words; they are not secrets worth the noise.
      if (value && value.length >= 4) {
        this.values.add(value);
        const encoded = encodeURIComponent(value);
        if (encoded !== value) this.values.add(encoded);
      }
    }
  }

  scrub(text: string): string {
    let out = text;
    // Longest first, so a value containing another is masked whole.
    for (const value of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(value).join('***');
    return out;
  }
}

/** Renders runbook placeholders and `${ENV}` refs; an unset variable is a non-retryable failure naming it. */
export function renderer(context: TemplateContext, env: Record<string, string | undefined>, where: string): (template: string) => string {
  return (template) => {
    try {
      return renderTarget(template, context, env);
    } catch (error) {
      throw asMissingEnvFailure(error, where);
    }
  };
}

/** `${ENV}` refs in a config/targets.yaml value; an unset variable is a non-retryable failure naming it. */
export function resolveTargetValue(text: string, env: Record<string, string | undefined>, where: string): string {
  try {
    return resolveEnvRefs(text, env);
  } catch (error) {
    throw asMissingEnvFailure(error, where);
  }
}

function asMissingEnvFailure(error: unknown, where: string): unknown {
  if (error instanceof MissingEnvError) {
    return ApplicationFailure.nonRetryable(`${error.variable} is not set in Fireline's environment (needed by ${where})`, FAILURE.missingEnv, {
      variable: error.variable,
    });
  }
  return error;
}

/** A mistake in a runbook or config/targets.yaml: retrying cannot help. */
export function configFailure(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FAILURE.configError);
}

/** The running activity's cancellation signal; undefined when called outside an activity (unit tests, CLI). */
export function activityCancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/** Cancellation is not an answer: the activity ends with the SDK's CancelledFailure. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function quote(text: string): string {
  return JSON.stringify(text);
}

/** Timeline details are one line, of bounded length. */
export function oneLine(text: string, max = 500): string {
  return truncate(text.replace(/\s*\n\s*/g, ' ').trim(), max);
}
