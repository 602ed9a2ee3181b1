// TEMPORAL_* settings → the options both Temporal connections take, and the errors that stop a bad start-up.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { temporalConnectionOptions } from '../../src/temporal/connection-options';

const ADDRESS = 'payments.a1b2c.tmprl.cloud:7233';
let dir: string;
const pemFile = (name: string, label: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `-----BEGIN ${label}-----\n${Buffer.from(`${name} body`).toString('base64')}\n-----END ${label}-----\n`);
  return file;
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-temporal-tls-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const options = (env: Record<string, string>) => temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: ADDRESS, ...env }), ADDRESS);

describe('temporalConnectionOptions', () => {
  test('plain host:port without TLS settings', () => {
    expect(options({})).toEqual({ address: ADDRESS });
    expect(options({ TEMPORAL_TLS: 'off' })).toEqual({ address: ADDRESS });
  });

  test('TEMPORAL_TLS=on alone: TLS with the system trust store', () => {
    expect(options({ TEMPORAL_TLS: 'on' })).toEqual({ address: ADDRESS, tls: {} });
    expect(options({ TEMPORAL_TLS: 'TRUE' })).toEqual({ address: ADDRESS, tls: {} });
  });

  test('mTLS: the client pair, the CA and the server name, read from the files', () => {
    const crt = pemFile('client.pem', 'CERTIFICATE');
    const key = pemFile('client.key', 'PRIVATE KEY');
    const ca = pemFile('ca.pem', 'CERTIFICATE');
    const result = options({
      TEMPORAL_TLS_CERT_PATH: crt,
      TEMPORAL_TLS_KEY_PATH: key,
      TEMPORAL_TLS_CA_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(result).toEqual({
      address: ADDRESS,
      tls: {
        clientCertPair: { crt: fs.readFileSync(crt), key: fs.readFileSync(key) },
        serverRootCACertificate: fs.readFileSync(ca),
        serverNameOverride: 'temporal.internal',
      },
    });
    expect(result.apiKey).toBeUndefined();
  });

  test('an API key implies TLS and names the namespace for Temporal Cloud', () => {
    const result = options({ TEMPORAL_API_KEY: 'cloud-api-key-value', TEMPORAL_NAMESPACE: 'payments.a1b2c' });
    expect(result).toEqual({
      address: ADDRESS,
      tls: {},
      apiKey: 'cloud-api-key-value',
      metadata: { 'temporal-namespace': 'payments.a1b2c' },
    });
  });

  test('a missing, unreadable or non-PEM file names the variable and the path', () => {
    const missing = path.join(dir, 'nope.pem');
    const notPem = path.join(dir, 'client.der');
    fs.writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    const problems = problemsOf(() =>
      options({ TEMPORAL_TLS_CERT_PATH: missing, TEMPORAL_TLS_KEY_PATH: notPem, TEMPORAL_TLS_CA_PATH: dir }),
    );
    expect(problems).toEqual([
      `TEMPORAL_TLS_CERT_PATH: ${missing} does not exist`,
      `TEMPORAL_TLS_KEY_PATH: ${notPem} is not a PEM file (no -----BEGIN line)`,
      `TEMPORAL_TLS_CA_PATH: ${dir} cannot be read (EISDIR)`,
    ]);
  });
});

describe('TEMPORAL_* settings in loadConfig', () => {
  test('a certificate without its key names the missing one, and the other way round', () => {
    const crt = pemFile('client.pem', 'CERTIFICATE');
    expect(problemsOf(() => loadConfig({ TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_TLS_CERT_PATH: crt }))).toEqual([
      'TEMPORAL_TLS_KEY_PATH: an mTLS client certificate needs both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH',
    ]);
    expect(problemsOf(() => loadConfig({ TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_TLS_KEY_PATH: crt }))).toEqual([
      'TEMPORAL_TLS_CERT_PATH: an mTLS client certificate needs both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH',
    ]);
  });

  test('TLS off with an API key is refused without echoing the key', () => {
    const problems = problemsOf(() => loadConfig({ TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_TLS: 'off', TEMPORAL_API_KEY: 'secret-key-value' }));
    expect(problems).toEqual(['TEMPORAL_TLS: is off, but TEMPORAL_API_KEY needs TLS (an API key is never sent in clear text)']);
    expect(problems.join('\n')).not.toContain('secret-key-value');
  });

  test('TLS settings need TEMPORAL_ADDRESS: the embedded dev server has no TLS', () => {
    expect(problemsOf(() => loadConfig({ TEMPORAL_API_KEY: 'secret-key-value' }))).toEqual([
      'TEMPORAL_ADDRESS: required with TEMPORAL_API_KEY: the embedded dev server speaks no TLS',
    ]);
    expect(problemsOf(() => loadConfig({ TEMPORAL_TLS: 'on' }))).toEqual([
      'TEMPORAL_ADDRESS: required with TEMPORAL_TLS: the embedded dev server speaks no TLS',
    ]);
  });

  test('TEMPORAL_TLS takes on/off words only', () => {
    expect(problemsOf(() => loadConfig({ TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_TLS: 'maybe' }))).toEqual([
      'TEMPORAL_TLS: expected on or off',
    ]);
    expect(loadConfig({ TEMPORAL_TLS: 'no' }).TEMPORAL_TLS).toBe(false);
    expect(loadConfig({}).TEMPORAL_TLS).toBeUndefined();
  });
});
