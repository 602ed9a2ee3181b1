import { configFailure, throwIfCancelled } from './activity';
import { errorMessage, formatMs, quote } from './text';
import type { Scrubber } from '../../src/secrets/scrubber';

/** HTTP for checks, actions and the webhook channel: targets from templates, bounded requests, readable failures. */

const SENSITIVE_HEADER = /auth|token|key|secret|cookie|signature|password/i;
/** A Retry-After further out than this is capped: the activity's own timeouts bound the wait anyway. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

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
    if (!headers.has('authorization')) headers.set('Authorization', basicAuthorization(user, password));
    url.username = '';
    url.password = '';
  }
  // The query is never shown; long values (tokens) are masked should an error message echo them.
  for (const [, value] of url.searchParams) if (value.length >= 8) secrets.add(value);
  return { url: url.toString(), display: displayUrl(url), headers };
}

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** `scheme://host[:port]/path` of a URL: no user, password, query or fragment (those may carry secrets). */
export function displayUrl(raw: URL | string): string {
  try {
    const u = typeof raw === 'string' ? new URL(raw) : raw;
    const host = u.host ? `//${u.host}` : '';
    return `${u.protocol}${host}${u.pathname}`;
  } catch {
    const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/?#]*@)?([^?#]*)/i.exec(raw as string);
    return m ? `${m[1]}${m[2]}` : '(unparseable URL)';
  }
}

export type Exchange<T> =
  | { answered: true; response: Response; body: T }
  /** `problem`: "no answer within 10s" or "failed: connection refused (ECONNREFUSED)". */
  | { answered: false; timedOut: boolean; problem: string };

/**
 * One fetch, its body read by `read`, both within `timeoutMs` and the activity's cancellation. Cancellation
 * throws; no answer (a timeout, a network error) is a result, for the caller to report or retry.
 */
export async function exchange<T>(
  url: string,
  init: RequestInit,
  bounds: { timeoutMs: number; cancel: AbortSignal | undefined },
  read: (response: Response) => Promise<T>,
): Promise<Exchange<T>> {
  const timeout = AbortSignal.timeout(bounds.timeoutMs);
  const signal = bounds.cancel ? AbortSignal.any([timeout, bounds.cancel]) : timeout;
  try {
    const response = await fetch(url, { ...init, signal });
    return { answered: true, response, body: await read(response) };
  } catch (error) {
    throwIfCancelled(bounds.cancel);
    if (timeout.aborted) return { answered: false, timedOut: true, problem: `no answer within ${formatMs(bounds.timeoutMs)}` };
    return { answered: false, timedOut: false, problem: `failed: ${describeNetworkError(error)}` };
  }
}

/** Lets go of a body nobody reads. */
export async function discardBody(response: Response): Promise<void> {
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

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
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

export function isNetworkErrorCode(code: unknown): boolean {
  return typeof code === 'string' && code in NETWORK_CODES;
}

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
