import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Keys for data Fireline seals at rest: Temporal payloads (src/temporal/codec.ts) and secret values in the
 * read model. The first key seals, every key opens, so a key is rotated by putting a new one first and
 * dropping the old one only once nothing sealed with it is still read (histories past retention).
 */
export interface KeyRing {
  /** The id new ciphertext is sealed with. */
  readonly currentId: string;
  readonly ids: readonly string[];
  seal(plain: Uint8Array): { keyId: string; sealed: Buffer };
  /** Throws KeyRingError naming the key id when the key is unknown or the ciphertext fails its tag. */
  open(keyId: string, sealed: Uint8Array): Buffer;
}

export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRingError';
  }
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The file embedded mode keeps its key in, beside the admin token's database. */
export const KEY_FILE = 'payload-keys';

export function createKeyRing(keys: ReadonlyArray<{ id: string; key: Uint8Array }>): KeyRing {
  if (keys.length === 0) throw new KeyRingError('a key ring needs at least one key');
  const byId = new Map<string, Buffer>();
  for (const { id, key } of keys) {
    if (!KEY_ID.test(id)) throw new KeyRingError(`key id "${id.slice(0, 64)}" must be 1-64 of A-Z a-z 0-9 . _ -`);
    if (key.length !== KEY_BYTES) throw new KeyRingError(`key "${id}" must be ${KEY_BYTES} bytes, got ${key.length}`);
    if (byId.has(id)) throw new KeyRingError(`key id "${id}" is listed twice`);
    byId.set(id, Buffer.from(key));
  }
  const currentId = keys[0]!.id;
  return {
    currentId,
    ids: [...byId.keys()],
    // Wire layout IV‖ciphertext‖tag, as Temporal's encryption samples use, so their codec servers interoperate.
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, byId.get(currentId)!, iv);
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { keyId: currentId, sealed };
    },
    open(keyId, sealed) {
      const key = byId.get(keyId);
      if (!key) throw new KeyRingError(`no key "${keyId}" in the key ring (keys: ${[...byId.keys()].join(', ')})`);
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new KeyRingError(`ciphertext under key "${keyId}" is too short`);
      const data = Buffer.from(sealed);
      const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new KeyRingError(`ciphertext under key "${keyId}" failed its integrity check`);
      }
    },
  };
}

/**
 * Parses `id=base64key,id2=base64key2` (the FIRELINE_PAYLOAD_KEYS format). Errors name the entry by position
 * and id, never the key material.
 */
export function parseKeyRing(text: string): KeyRing {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const keys = entries.map((entry, i) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new KeyRingError(`entry ${i + 1} must be id=base64key`);
    const id = entry.slice(0, eq).trim();
    const b64 = entry.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) throw new KeyRingError(`key "${id}" (entry ${i + 1}) is not base64`);
    return { id, key: Buffer.from(b64, 'base64') };
  });
  return createKeyRing(keys);
}

export function newKeyEntry(id: string): string {
  return `${id}=${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * Embedded mode: the key file in the data dir, made on first start with mode 0600. O_EXCL makes two processes
 * starting at once agree on one key: the loser reads the winner's file.
 */
export async function loadOrCreateKeyRing(dataDir: string, now: () => Date = () => new Date()): Promise<KeyRing> {
  const file = path.join(dataDir, KEY_FILE);
  await fs.mkdir(dataDir, { recursive: true });
  const id = `k${now().toISOString().slice(0, 10).replaceAll('-', '')}`;
  try {
    await fs.writeFile(file, `${newKeyEntry(id)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // A concurrent creator may not have written yet; an empty read means wait for it.
  for (let attempt = 0; ; attempt++) {
    const text = (await fs.readFile(file, 'utf8')).trim();
    if (text !== '') {
      try {
        return parseKeyRing(text);
      } catch (err) {
        throw new KeyRingError(`${file}: ${(err as Error).message}`);
      }
    }
    if (attempt >= 50) throw new KeyRingError(`${file} is empty; delete it only if nothing was ever sealed with it`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
