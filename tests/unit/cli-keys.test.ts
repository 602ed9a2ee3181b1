import { parseKeyRing } from '../../src/crypto/key-ring';
import { TEST_PAYLOAD_KEYS } from '../support/keys';
import { killAllTracked, spawnFireline } from '../support/processes';
import { tempDir } from '../support/temporal';

jest.setTimeout(60_000);

afterAll(() => killAllTracked());

async function keysCommand(args: string[], vars: Record<string, string> = {}) {
  const child = spawnFireline('keys', ['keys', ...args], { FIRELINE_DATA_DIR: tempDir(), ...vars });
  const exit = await child.exited;
  return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() };
}

test('`fireline keys new <id>` prints one entry that, prepended to the ring, seals while the old keys still open', async () => {
  const { code, stdout, stderr } = await keysCommand(['new', 'k2'], { FIRELINE_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS });
  expect(code).toBe(0);
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^k2=[A-Za-z0-9+/]{43}=$/);
  expect(stderr).toContain('prepend it to FIRELINE_PAYLOAD_KEYS');
  // Only the new entry is ever printed, never the ring already configured.
  expect(stdout + stderr).not.toContain(TEST_PAYLOAD_KEYS.split('=')[1]!);

  const old = parseKeyRing(TEST_PAYLOAD_KEYS);
  const rotated = parseKeyRing(`${lines[0]},${TEST_PAYLOAD_KEYS}`);
  expect(rotated.currentId).toBe('k2');
  const before = old.seal(Buffer.from('sealed before the rotation'));
  expect(rotated.open(before.keyId, before.sealed).toString()).toBe('sealed before the rotation');
  const after = rotated.seal(Buffer.from('sealed after'));
  expect(after.keyId).toBe('k2');
  expect(() => old.open(after.keyId, after.sealed)).toThrow('no key "k2"');
});

test('two runs make two different keys, and without an id one is made up', async () => {
  const [a, b] = await Promise.all([keysCommand(['new']), keysCommand(['new'])]);
  expect(a.code).toBe(0);
  expect(b.code).toBe(0);
  expect(() => parseKeyRing(a.stdout.trim())).not.toThrow();
  expect(a.stdout.trim().split('=').slice(1).join('=')).not.toBe(b.stdout.trim().split('=').slice(1).join('='));
});

test('a bad id or one already in the ring is refused by name, with nothing on stdout', async () => {
  const [bad, taken, usage] = await Promise.all([
    keysCommand(['new', 'no spaces']),
    keysCommand(['new', 'test-k1'], { FIRELINE_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS }),
    keysCommand(['old']),
  ]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('key id "no spaces"');
  expect(bad.stdout).toBe('');
  expect(taken.code).toBe(2);
  expect(taken.stderr).toContain('"test-k1" is already in FIRELINE_PAYLOAD_KEYS');
  expect(taken.stdout).toBe('');
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('fireline keys new [id]');
});
