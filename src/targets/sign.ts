import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed webhooks (action steps with `secret:`). The sender adds two headers:
 *
 *   X-Fireline-Timestamp: <unix seconds>
 *   X-Fireline-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * A receiver recomputes the HMAC over the raw body bytes exactly as received and rejects stale timestamps, so a
 * captured request cannot be replayed later. During a secret rotation a receiver may send several signatures
 * separated by commas (`v1=…,v1=…`); any one matching is enough.
 */
export const TIMESTAMP_HEADER = 'X-Fireline-Timestamp';
export const SIGNATURE_HEADER = 'X-Fireline-Signature';
export const SIGNATURE_VERSION = 'v1';
export const DEFAULT_TOLERANCE_SEC = 300;

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

function hmacHex(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The `X-Fireline-Signature` header value for a body sent at `timestamp` (unix seconds): `v1=<hex>`. */
export function signPayload(secret: string, timestamp: number, body: string | Uint8Array): string {
  if (!secret) throw new Error('signPayload: the secret is empty');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error('signPayload: the timestamp must be whole unix seconds');
  return `${SIGNATURE_VERSION}=${hmacHex(secret, timestamp, body)}`;
}

export interface VerifyOptions {
  secret: string;
  /** The X-Fireline-Signature header value (`v1=<hex>`, possibly several separated by commas). */
  header: string | null | undefined;
  /** The X-Fireline-Timestamp header value, unix seconds. */
  timestamp: string | number | null | undefined;
  /** The raw request body, exactly as received (not re-serialized JSON). */
  body: string | Uint8Array;
  /** The receiver's clock: a Date or milliseconds since the epoch (like Date.now()). Defaults to now. */
  now?: Date | number;
  /** How far the timestamp may be from `now`, either way. */
  toleranceSec?: number;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/** Like verifySignature, with the reason a signature was rejected (for a receiver's logs). */
export function checkSignature(options: VerifyOptions): SignatureCheck {
  const { secret, header, timestamp, body, toleranceSec = DEFAULT_TOLERANCE_SEC } = options;
  if (!secret || typeof header !== 'string' || timestamp === null || timestamp === undefined) return { ok: false, reason: 'malformed' };
  const tsText = String(timestamp).trim();
  if (!UNIX_SECONDS.test(tsText)) return { ok: false, reason: 'malformed' };
  const candidates = header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${SIGNATURE_VERSION}=`))
    .map((part) => part.slice(SIGNATURE_VERSION.length + 1).toLowerCase())
    .filter((hex) => HEX_SHA256.test(hex));
  if (candidates.length === 0) return { ok: false, reason: 'malformed' };

  const nowMs = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();
  if (Math.abs(nowMs / 1000 - Number(tsText)) > toleranceSec) return { ok: false, reason: 'stale' };

  const expected = Buffer.from(hmacHex(secret, tsText, body), 'hex');
  // Compare against every candidate, without stopping early, in constant time per comparison.
  let matched = false;
  for (const hex of candidates) {
    const given = Buffer.from(hex, 'hex');
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** True when the signature matches the body and the timestamp is within `toleranceSec` (default 300) of `now`. */
export function verifySignature(options: VerifyOptions): boolean {
  return checkSignature(options).ok;
}
