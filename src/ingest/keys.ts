import { createHash, timingSafeEqual } from 'node:crypto';

/** Lowercase hex SHA-256 of the UTF-8 text: how group keys and dedup keys are named (docs/reference/integrations.md §1.7). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Digests are compared, not the secrets themselves, so lengths never leak and every comparison costs the same. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time equality of two secrets (of any length). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Constant-time comparison of a lowercase-hex MAC someone sent with the one computed here. */
export function hexMacEqual(givenHex: string, expected: Buffer): boolean {
  if (!/^[0-9a-f]+$/i.test(givenHex) || givenHex.length !== expected.length * 2) {
    // Still spend one comparison so a malformed header takes as long as a wrong one.
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(Buffer.from(givenHex, 'hex'), expected);
}

/** FNV-1a 64 offset basis 0xcbf29ce484222325 and prime 0x100000001b3, in 32-bit halves: no BigInt per byte. */
const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;
const FNV_PRIME_LO = 0x1b3;
const TWO_32 = 0x1_0000_0000;
const SEPARATOR = 0xff;

/** Go sorts label names by their bytes; JavaScript's default sort compares UTF-16 units, which differs beyond the BMP. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Alertmanager's alert fingerprint (docs/reference/integrations.md §1.5): FNV-1a 64 over the labels sorted by name, each as
 * name bytes, 0xff, value bytes, 0xff; 16 lowercase hex digits. It depends on the labels only.
 */
export function alertmanagerFingerprint(labels: Readonly<Record<string, string>>): string {
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  // (hi·2³² + lo) · (2⁴⁰ + 0x1b3) mod 2⁶⁴, with every intermediate below 2⁵³ so doubles stay exact.
  const feed = (byte: number) => {
    lo = (lo ^ byte) >>> 0;
    const low = lo * FNV_PRIME_LO;
    const carry = Math.floor(low / TWO_32);
    hi = (hi * FNV_PRIME_LO + carry + ((lo * 256) >>> 0)) >>> 0;
    lo = low >>> 0;
  };
  for (const name of Object.keys(labels).sort(byUtf8)) {
    for (const byte of Buffer.from(name, 'utf8')) feed(byte);
    feed(SEPARATOR);
    for (const byte of Buffer.from(labels[name] ?? '', 'utf8')) feed(byte);
    feed(SEPARATOR);
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
