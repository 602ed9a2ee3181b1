// `fireline token create|list|revoke` as a real process against a data dir's read model.
import { openSqliteStore } from '../../src/store/sqlite';
import { killAllTracked, spawnFireline } from '../support/processes';
import { tempDir } from '../support/temporal';

jest.setTimeout(60_000);

afterAll(() => killAllTracked());

async function tokenCommand(dataDir: string, args: string[]) {
  const child = spawnFireline('token', ['token', ...args], { FIRELINE_DATA_DIR: dataDir });
  const exit = await child.exited;
  return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() };
}

test('make a token with an expiry, list it without its hash, revoke it (audited), list it revoked', async () => {
  const dataDir = tempDir();
  const made = await tokenCommand(dataDir, ['create', '--role', 'responder', '--name', 'nightly job', '--expires', '30d']);
  expect(made.code).toBe(0);
  const [header, token] = made.stdout.trim().split('\n');
  expect(token).toMatch(/^flt_/);
  const id = /id ([0-9a-f-]{36})/.exec(header!)![1]!;
  expect(header).toMatch(/expires \d{4}-\d{2}-\d{2}T/);

  const listed = await tokenCommand(dataDir, ['list']);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/^ID\s+NAME\s+ROLE\s+STATE\s+CREATED\s+EXPIRES\s+LAST USED/);
  expect(listed.stdout).toMatch(new RegExp(`${id}\\s+nightly job\\s+responder\\s+active`));
  expect(listed.stdout).not.toContain(token!);

  const revoked = await tokenCommand(dataDir, ['revoke', id]);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toContain('Revoked responder token "nightly job"');
  const json = await tokenCommand(dataDir, ['list', '--json']);
  const tokens = JSON.parse(json.stdout) as { id: string; state: string; revokedAt: string | null }[];
  expect(tokens.find((t) => t.id === id)).toMatchObject({ state: 'revoked', revokedAt: expect.any(String) });
  expect((await tokenCommand(dataDir, ['revoke', id])).stdout).toContain('was revoked already');

  const store = openSqliteStore(`${dataDir}/fireline.db`);
  try {
    const entries = await store.listAudit({ limit: 10 });
    expect(entries.map((e) => e.action)).toEqual(['token.revoke', 'token.create']);
    expect(entries[0]).toMatchObject({ actor: { role: 'admin' }, path: 'token revoke', details: { tokenId: id } });
  } finally {
    await store.close();
  }
});

test.each([
  [['revoke'], 'fireline token revoke <id>'],
  [['revoke', 'no-such-id'], 'no token no-such-id'],
  [['create', '--role', 'viewer', '--name', 'x', '--expires', 'someday'], '--expires: "someday"'],
  [['create', '--role', 'viewer', '--name', 'x', '--expires', '2001-01-01'], 'expiresAt: must be a time in the future'],
  [['rotate'], 'token list'],
])('`fireline token %j` fails with a clear message', async (args, message) => {
  const res = await tokenCommand(tempDir(), args);
  expect(res.code).not.toBe(0);
  expect(res.stderr).toContain(message);
});
