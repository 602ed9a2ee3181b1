import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_TARGETS } from '../../src/domain/targets';
import { formatTargetsProblem, loadTargets, parseTargets, type TargetsProblem } from '../../src/targets/load';
import { checkSignature, signPayload, verifySignature } from '../../src/targets/sign';

const EXAMPLE = join(__dirname, '..', '..', 'config', 'targets.yaml');

/** A valid file; tests break one line at a time, so line numbers below refer to this text. */
const VALID = `databases:
  orders:
    driver: postgres
    url: \${ORDERS_DATABASE_URL}
backups:
  orders-db:
    provider: postgres
    url: \${ORDERS_DATABASE_URL}
commands:
  flush:
    argv: ["/usr/bin/env", "true", "\${incident.id}"]
    timeout: 30s
secrets:
  failover-hmac:
    env: FAILOVER_HMAC_SECRET
`;

function replaceLine(text: string, line: number, replacement: string): string {
  const lines = text.split('\n');
  lines[line - 1] = replacement;
  return lines.join('\n');
}

function problemsOf(text: string): TargetsProblem[] {
  const result = parseTargets(text, 'config/targets.yaml');
  if (result.ok) throw new Error('expected problems, the file parsed');
  return result.problems;
}

function onlyProblem(text: string): TargetsProblem {
  const problems = problemsOf(text);
  expect(problems).toHaveLength(1);
  return problems[0] as TargetsProblem;
}

/** The 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index === -1) throw new Error(`"${needle}" not found`);
  return index + 1;
}

describe('loadTargets: the example config/targets.yaml', () => {
  test('is valid and means what its comments say', () => {
    const result = loadTargets(EXAMPLE);
    if (!result.ok) throw new Error(result.problems.map(formatTargetsProblem).join('\n'));
    const { targets } = result;
    expect(targets.databases.orders).toEqual({
      driver: 'postgres',
      url: '${ORDERS_DATABASE_URL}',
      drill: { driver: 'postgres', url: '${ORDERS_DRILL_DATABASE_URL}' },
    });
    expect(targets.databases['read-model']).toEqual({ driver: 'sqlite', url: '${FIRELINE_DATA_DIR}/fireline.db' });
    expect(targets.backups['orders-db']).toMatchObject({
      provider: 'postgres',
      url: '${ORDERS_DATABASE_URL}',
      drill: { url: '${ORDERS_DRILL_DATABASE_URL}' },
    });
    expect(targets.backups['read-model']).toMatchObject({ provider: 'sqlite' });
    expect(targets.backups['payments-ledger']).toMatchObject({
      provider: 'http',
      pollInterval: 10_000,
      start: { url: '${LEDGER_BACKUP_URL}/snapshots' },
    });
    expect(targets.commands['flush-checkout-cache']).toMatchObject({ argv: ['/usr/bin/env', 'true'], timeout: 30_000 });
    expect(targets.commands['pause-order-queue-consumers']?.drill).toBeDefined();
    expect(targets.secrets).toMatchObject({
      'failover-hmac': { env: 'FAILOVER_HMAC_SECRET' },
      'payments-hmac': { env: 'PAYMENTS_HMAC_SECRET' },
    });
    expect(Object.values(targets.secrets).every((s) => /^[A-Z][A-Z0-9_]*$/.test(s.env))).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  test('with an environment, unset variables are warnings at their lines', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const env = {
      ORDERS_DATABASE_URL: 'postgres://x',
      ORDERS_DRILL_DATABASE_URL: 'postgres://y',
      FIRELINE_DATA_DIR: '/data',
      LEDGER_BACKUP_URL: 'https://ledger',
      LEDGER_BACKUP_TOKEN: 't',
      ORDERS_KUBE_CONTEXT: 'prod',
      ORDERS_DRILL_KUBE_CONTEXT: 'staging',
      FAILOVER_HMAC_SECRET: 's',
      AUDIT_LOG_SNAPSHOT_URL: 'https://audit',
      AUDIT_LOG_TOKEN: 't',
      ...Object.fromEntries(
        ['DEPLOY', 'EDGE', 'IAM', 'CUSTOMER_API', 'FRAUD', 'INVENTORY', 'FEATURE_FLAGS'].map((n) => [`${n}_HMAC_SECRET`, 's']),
      ),
    };
    const result = loadTargets(EXAMPLE, env);
    if (!result.ok) throw new Error('expected the example to load');
    expect(result.warnings).toEqual([
      {
        file: EXAMPLE,
        line: lineOf(text, 'env: PAYMENTS_HMAC_SECRET'),
        col: 10,
        path: 'secrets.payments-hmac.env',
        message: 'PAYMENTS_HMAC_SECRET is not set: actions signed with "payments-hmac" will fail until it is',
      },
    ]);
    const bare = loadTargets(EXAMPLE, {});
    expect(bare.ok && bare.warnings.map((w) => w.message)).toContain(
      'ORDERS_DATABASE_URL is not set: steps using this target will fail until it is',
    );
  });
});

describe('loadTargets: files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fireline-targets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing file is no targets', () => {
    expect(loadTargets(join(dir, 'absent.yaml'))).toEqual({ ok: true, targets: EMPTY_TARGETS, warnings: [] });
  });

  test('an empty file (or only comments) is no targets', () => {
    const file = join(dir, 'empty.yaml');
    writeFileSync(file, '# nothing configured yet\n');
    expect(loadTargets(file)).toEqual({ ok: true, targets: EMPTY_TARGETS, warnings: [] });
  });

  test('a directory is a problem, not a crash', () => {
    expect(loadTargets(dir)).toMatchObject({
      ok: false,
      problems: [{ file: dir, line: 1, col: 1, message: 'cannot read the file (EISDIR)' }],
    });
  });

  test('problems carry the file name', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, replaceLine(VALID, 3, '    driver: mysql'));
    const result = loadTargets(file);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(formatTargetsProblem(result.problems[0] as TargetsProblem)).toBe(
        `${file}:3:13: databases.orders.driver: text "mysql" is not one of: postgres, sqlite`,
      );
  });
});

describe('parseTargets: problems with line numbers', () => {
  test('the base text is valid', () => {
    expect(parseTargets(VALID, 'config/targets.yaml')).toMatchObject({ ok: true });
  });

  test('a value not in an enum', () => {
    expect(onlyProblem(replaceLine(VALID, 3, '    driver: mysql'))).toEqual({
      file: 'config/targets.yaml',
      line: 3,
      col: 13,
      path: 'databases.orders.driver',
      message: 'text "mysql" is not one of: postgres, sqlite',
    });
  });

  test('a typo in a key: did you mean, at the key; the missing key at its mapping', () => {
    const problems = problemsOf(replaceLine(VALID, 4, '    urls: ${ORDERS_DATABASE_URL}'));
    expect(problems).toEqual([
      { file: 'config/targets.yaml', line: 3, col: 5, path: 'databases.orders.url', message: 'missing required key "url"' },
      { file: 'config/targets.yaml', line: 4, col: 5, path: 'databases.orders.urls', message: 'unknown key "urls" (did you mean "url"?)' },
    ]);
    expect(problemsOf(replaceLine(VALID, 3, '    engine: postgres'))[1]).toMatchObject({
      line: 3,
      message: 'unknown key "engine" (expected one of driver, url, drill)',
    });
    expect(problemsOf(replaceLine(VALID, 15, '    environment: FAILOVER_HMAC_SECRET'))).toEqual([
      { file: 'config/targets.yaml', line: 15, col: 5, path: 'secrets.failover-hmac.env', message: 'missing required key "env"' },
      {
        file: 'config/targets.yaml',
        line: 15,
        col: 5,
        path: 'secrets.failover-hmac.environment',
        message: 'unknown key "environment" (expected one of env)',
      },
    ]);
  });

  test('an unknown top-level section', () => {
    expect(onlyProblem(`${VALID}webhooks: {}\n`)).toMatchObject({
      line: 16,
      col: 1,
      message: 'unknown key "webhooks" (expected one of databases, backups, commands, secrets)',
    });
  });

  test('a name that is not lowercase-with-dashes', () => {
    expect(onlyProblem(replaceLine(VALID, 2, '  Orders_DB:'))).toMatchObject({
      line: 2,
      col: 3,
      path: 'databases.Orders_DB',
      message: 'name "Orders_DB": use lowercase letters, digits and dashes',
    });
  });

  test('a bad duration, an empty argv, a bad variable name', () => {
    expect(onlyProblem(replaceLine(VALID, 12, '    timeout: soon'))).toMatchObject({
      line: 12,
      col: 14,
      message: '"soon" is not a duration (use e.g. 30s, 15m, 2h, 5d)',
    });
    expect(onlyProblem(replaceLine(VALID, 11, '    argv: []'))).toMatchObject({
      line: 11,
      col: 11,
      path: 'commands.flush.argv',
      message: 'needs at least 1 item',
    });
    expect(onlyProblem(replaceLine(VALID, 15, '    env: failover_secret'))).toMatchObject({
      line: 15,
      col: 10,
      message: 'an environment variable name',
    });
  });

  test('an unknown backup provider and an unknown key in a backup', () => {
    expect(onlyProblem(replaceLine(VALID, 7, '    provider: mysqldump'))).toMatchObject({
      line: 7,
      col: 15,
      message: 'unknown provider "mysqldump" (expected one of sqlite, postgres, http)',
    });
    // Backup entries are strict per provider: a typo is an error, not a silently ignored key.
    expect(onlyProblem(replaceLine(VALID, 8, '    uri: ${ORDERS_DATABASE_URL}\n    url: x'))).toMatchObject({
      line: 8,
      col: 5,
      path: 'backups.orders-db.uri',
      message: expect.stringMatching(/^unknown key "uri"/),
    });
  });

  test('only ${ENV_VAR} references are resolved; commands may also use runbook placeholders', () => {
    expect(onlyProblem(replaceLine(VALID, 4, '    url: ${orders_url}'))).toMatchObject({
      line: 4,
      col: 10,
      message: '${orders_url} is not a reference Fireline resolves here (use ${ENV_VAR} (upper case))',
    });
    expect(onlyProblem(replaceLine(VALID, 8, '    url: postgres://${incident.service}'))).toMatchObject({ line: 8 });
    expect(
      onlyProblem(replaceLine(VALID, 11, '    argv: ["/bin/echo", "${incident.id}", "${params.region}", "${incident}"]')),
    ).toMatchObject({
      line: 11,
      col: 63,
      path: 'commands.flush.argv[3]',
      message:
        '${incident} is not a reference Fireline resolves here (use ${ENV_VAR}, ${incident.field}, ${decision.step} or ${params.name})',
    });
  });

  test('a YAML syntax error is reported once, at its line', () => {
    const problem = onlyProblem(replaceLine(VALID, 11, '    argv: ["/usr/bin/env", "true"'));
    expect(problem.line).toBeGreaterThanOrEqual(11);
    expect(problem.path).toBe('');
  });

  test('a file that is not a mapping', () => {
    expect(onlyProblem('- just\n- a list\n')).toMatchObject({
      line: 1,
      col: 1,
      message: 'the file must be a mapping with databases, backups, commands and secrets, got a list',
    });
  });

  test('bytes that are not UTF-8', () => {
    const result = parseTargets(Uint8Array.from([0xff, 0xfe, 0x00]), 'config/targets.yaml');
    expect(result).toMatchObject({ ok: false, problems: [{ line: 1, col: 1, message: 'the file is not valid UTF-8 text' }] });
  });
});

describe('signPayload / verifySignature', () => {
  const secret = 'whsec-test-secret';
  const ts = 1_700_000_000;
  const body = '{"incident":"inc-42","action":"failover"}';
  const now = (offsetSec: number) => (ts + offsetSec) * 1000;

  test('known vectors (computed independently with openssl dgst -sha256 -hmac)', () => {
    expect(signPayload(secret, ts, body)).toBe('v1=9236b4ac3aa8e03960ed32651817fb309f33af8e0a2f7494d5161fff3343ee82');
    expect(signPayload(secret, ts, '')).toBe('v1=2c556430d3c792ad19259f8f9b90bab73c764f230a9da158ad7b4346318773b6');
    expect(signPayload(secret, ts, Buffer.from(body))).toBe(signPayload(secret, ts, body));
  });

  test('a fresh, untampered request verifies (timestamp as text or number, now as ms or Date)', () => {
    const header = signPayload(secret, ts, body);
    expect(verifySignature({ secret, header, timestamp: String(ts), body, now: now(10) })).toBe(true);
    expect(verifySignature({ secret, header, timestamp: ts, body: Buffer.from(body), now: new Date(now(-10)) })).toBe(true);
    expect(verifySignature({ secret, header: header.toUpperCase().replace('V1=', 'v1='), timestamp: ts, body, now: now(0) })).toBe(true);
  });

  test('stale or future timestamps are rejected (default tolerance 300 s)', () => {
    const header = signPayload(secret, ts, body);
    expect(verifySignature({ secret, header, timestamp: ts, body, now: now(300) })).toBe(true);
    expect(checkSignature({ secret, header, timestamp: ts, body, now: now(301) })).toEqual({ ok: false, reason: 'stale' });
    expect(checkSignature({ secret, header, timestamp: ts, body, now: now(-301) })).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature({ secret, header, timestamp: ts, body, now: now(3600), toleranceSec: 7200 })).toBe(true);
  });

  test('a tampered body, timestamp or secret is rejected', () => {
    const header = signPayload(secret, ts, body);
    expect(checkSignature({ secret, header, timestamp: ts, body: body.replace('failover', 'restore'), now: now(0) })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(checkSignature({ secret, header, timestamp: ts + 1, body, now: now(0) })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature({ secret: 'other-secret', header, timestamp: ts, body, now: now(0) })).toBe(false);
  });

  test('malformed headers are rejected; any one of several signatures may match (secret rotation)', () => {
    const header = signPayload(secret, ts, body);
    for (const bad of ['', 'v1=', 'v1=zz', header.replace('v1=', 'v0='), header.slice(0, -2), 'sha256=abc']) {
      expect(checkSignature({ secret, header: bad, timestamp: ts, body, now: now(0) })).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(checkSignature({ secret, header: undefined, timestamp: ts, body, now: now(0) })).toEqual({ ok: false, reason: 'malformed' });
    expect(checkSignature({ secret, header, timestamp: '17e8', body, now: now(0) })).toEqual({ ok: false, reason: 'malformed' });
    const rotated = `${signPayload('old-secret', ts, body)}, ${header}`;
    expect(verifySignature({ secret, header: rotated, timestamp: ts, body, now: now(0) })).toBe(true);
  });

  test('signing refuses an empty secret or a fractional timestamp', () => {
    expect(() => signPayload('', ts, body)).toThrow('the secret is empty');
    expect(() => signPayload(secret, 1.5, body)).toThrow('whole unix seconds');
  });
});
