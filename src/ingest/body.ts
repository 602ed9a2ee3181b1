import type { IncomingMessage } from 'node:http';
import { IngestError } from './errors';

/** Webhook bodies above this are refused (docs/reference/integrations.md §3.1: PagerDuty's limit; Alertmanager trims to fit). */
export const MAX_BODY_BYTES = 512 * 1024;
/** Real payloads nest about five levels deep; a deeper body is an attack on the parser, not an alert. */
export const MAX_JSON_DEPTH = 64;

/** Keys that mean something to JavaScript objects; no sender needs them, so they are refused rather than copied. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** How long, and how much, an over-limit body is still drained after the 413 so the sender reads the answer. */
const DRAIN_AFTER_REFUSAL_MS = 2000;
const DRAIN_AFTER_REFUSAL_BYTES = 4 * 1024 * 1024;

function tooLarge(limit: number): IngestError {
  return new IngestError('payload_too_large', `the request body is larger than ${Math.round(limit / 1024)} KB`);
}

const draining = new WeakSet<IncomingMessage>();

/**
 * For a request refused before its body was read (401, 413, 415): gives the sender a short grace period to finish
 * writing, discarding what arrives, then cuts the connection. Closing a socket with unread bytes makes the kernel
 * answer with a reset, which can destroy the refusal before the sender reads it; draining without a bound (Node's
 * default for unread bodies) would let anyone keep the server busy.
 */
export function discardUnreadBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed || draining.has(req)) return;
  draining.add(req);
  let drained = 0;
  const socket = req.socket;
  const cut = () => {
    if (!req.complete) socket.destroy();
  };
  const timer = setTimeout(cut, DRAIN_AFTER_REFUSAL_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_AFTER_REFUSAL_BYTES) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/**
 * Reads the raw body bytes (needed as sent, for HMAC checks). A Content-Length above `limit` is refused before
 * a byte is read; a body without one (chunked) is refused as soon as it passes the limit, never read whole.
 */
export function readRawBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    return Promise.reject(
      new IngestError('unsupported_media_type', `Content-Encoding ${encoding.slice(0, 40)} is not supported; send the body uncompressed`),
    );
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    discardUnreadBody(req);
    return Promise.reject(tooLarge(limit));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const finish = (error: IngestError | undefined, body?: Buffer) => {
      if (settled) return;
      settled = true;
      cleanup();
      if (error) reject(error);
      else resolve(body ?? Buffer.alloc(0));
    };
    function onData(chunk: Buffer) {
      received += chunk.length;
      if (received > limit) {
        chunks.length = 0;
        finish(tooLarge(limit));
        discardUnreadBody(req);
        return;
      }
      chunks.push(chunk);
    }
    function onEnd() {
      finish(undefined, Buffer.concat(chunks, received));
    }
    function onError() {
      finish(new IngestError('request_aborted', 'the request body could not be read'));
    }
    function onAborted() {
      finish(new IngestError('request_aborted', 'the request was aborted'));
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** `application/json` or `application/<anything>+json`, any parameters; the header as sent. */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const mediaType = (header.split(';')[0] ?? '').trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(mediaType);
}

/** Refuses anything but JSON (415), and charsets other than UTF-8; `type` is the Content-Type header as sent. */
export function requireJsonContentType(type: string | undefined): void {
  if (!type) throw new IngestError('unsupported_media_type', 'Content-Type is missing; send the body as application/json');
  if (!isJsonContentType(type)) {
    throw new IngestError(
      'unsupported_media_type',
      `Content-Type ${JSON.stringify(type.slice(0, 80))} is not accepted; send the body as application/json`,
    );
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new IngestError('unsupported_media_type', `charset ${JSON.stringify(charset.slice(0, 40))} is not accepted; send UTF-8`);
  }
}

function invalidJson(message: string, details?: Record<string, unknown>): IngestError {
  return new IngestError('invalid_json', message, details);
}

/**
 * The deepest nesting of arrays and objects, found by one linear scan that skips strings, so a hostile
 * body is refused before JSON.parse (or any recursive walk) sees it. Stops counting at `stopAt`.
 */
export function jsonDepth(text: string, stopAt = MAX_JSON_DEPTH + 1): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max >= stopAt) return max;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return max;
}

/** `alerts[0].labels.__proto__` style paths for messages. */
function pathText(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(body)';
}

function findForbiddenKey(value: unknown, path: (string | number)[]): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenKey(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return pathText([...path, key]);
      const found = findForbiddenKey((value as Record<string, unknown>)[key], [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Untrusted JSON bytes → a value, or a 400 that says what is wrong: not UTF-8, not JSON (with the parser's
 * reason), nested deeper than MAX_JSON_DEPTH, or using a key that could reach an object's prototype.
 */
export function parseUntrustedJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw invalidJson('the request body is empty; send a JSON object');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidJson('the request body is not valid UTF-8');
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw invalidJson(`the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'unparseable';
    throw invalidJson(`the request body is not valid JSON: ${reason}`);
  }
  const forbidden = findForbiddenKey(value, []);
  if (forbidden)
    throw invalidJson(`${forbidden}: the keys __proto__, constructor and prototype are not accepted`, {
      issues: [{ path: forbidden, message: 'key not accepted' }],
    });
  return value;
}
