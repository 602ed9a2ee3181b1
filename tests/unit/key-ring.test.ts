import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createKeyRing, KeyRingError, loadOrCreateKeyRing, newKeyEntry, parseKeyRing } from '../../src/crypto/key-ring';

const fixedNow = () => new Date('2026-01-02T03:04:05Z');

describe('key ring', () => {
  it('seals with the first key and opens with any listed key', () => {
    const old = parseKeyRing(newKeyEntry('old'));
    const oldEntry = newKeyEntry('old');
    const ringOld = parseKeyRing(oldEntry);
    const rotated = parseKeyRing(`${newKeyEntry('new')},${oldEntry}`);
    const { keyId, sealed } = ringOld.seal(Buffer.from('hello'));
    expect(keyId).toBe('old');
    expect(rotated.open('old', sealed).toString()).toBe('hello');
    expect(rotated.seal(Buffer.from('x')).keyId).toBe('new');
    expect(() => old.open('old', sealed)).toThrow(/integrity/);
    expect(() => ringOld.open('new', sealed)).toThrow(/no key "new"/);
  });

  it('detects a flipped bit', () => {
    const ring = parseKeyRing(newKeyEntry('a'));
    const { sealed } = ring.seal(Buffer.from('payload'));
    sealed[14] = sealed[14]! ^ 1;
    expect(() => ring.open('a', sealed)).toThrow(KeyRingError);
  });

  it('refuses bad key rings without echoing key material', () => {
    expect(() => parseKeyRing('')).toThrow(/at least one key/);
    expect(() => parseKeyRing('nokey')).toThrow(/entry 1 must be id=base64key/);
    expect(() => parseKeyRing(`a=${Buffer.alloc(16).toString('base64')}`)).toThrow(/32 bytes, got 16/);
    const entry = newKeyEntry('a');
    expect(() => parseKeyRing(`${entry},${entry}`)).toThrow(/listed twice/);
    expect(() => parseKeyRing('a=%%%secret%%%')).toThrow(/^key "a" \(entry 1\) is not base64$/);
    expect(() => createKeyRing([{ id: 'bad id', key: Buffer.alloc(32) }])).toThrow(/key id/);
  });

  it('embedded mode makes one key file, 0600, and concurrent first starts agree on it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fireline-keys-'));
    const rings = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyRing(dir, fixedNow)));
    const { sealed } = rings[0]!.seal(Buffer.from('same key'));
    for (const ring of rings) expect(ring.open(ring.currentId, sealed).toString()).toBe('same key');
    expect(rings[0]!.currentId).toBe('k20260102');
    const stat = await fs.stat(path.join(dir, 'payload-keys'));
    expect(stat.mode & 0o777).toBe(0o600);
    const again = await loadOrCreateKeyRing(dir, () => new Date('2027-01-01T00:00:00Z'));
    expect(again.currentId).toBe('k20260102');
  });
});
