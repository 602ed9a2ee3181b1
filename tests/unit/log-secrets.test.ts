// Secrets are masked by value in every log line, wherever they turn up: a message, a nested field, an error's
// message and stack, a URL (percent-encoded), a JSON string (escaped).
import { Writable } from 'node:stream';
import { loadConfig, secretSettingValues } from '../../src/config';
import { createLogger } from '../../src/logger';
import { Scrubber } from '../../src/secrets/scrubber';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, destination };
}

test('every log line is scrubbed of the secret values the process knows', () => {
  const secrets = new Scrubber();
  const token = 'canary-token-7f3a9c';
  const quoted = 'pa"ss\\word-canary';
  secrets.add(token, quoted, 'p@ss/w0rd canary');
  const { lines, destination } = capture();
  const logger = createLogger({ level: 'info', destination, secrets });
  logger.info(`calling with ${token}`);
  logger.warn({ upstream: { detail: `refused ${token}`, list: [token] } }, 'nested');
  logger.error({ err: new Error(`401 for Bearer ${token}`) }, 'failed');
  logger.info({ url: `smtp://user:${encodeURIComponent('p@ss/w0rd canary')}@mail.example:587` }, 'smtp');
  logger.info({ text: quoted }, 'escaped');
  const all = lines.join('');
  expect(lines).toHaveLength(5);
  for (const secret of [token, quoted, JSON.stringify(quoted).slice(1, -1), encodeURIComponent('p@ss/w0rd canary')]) {
    expect(all).not.toContain(secret);
  }
  expect(all.match(/\*\*\*/g)?.length).toBeGreaterThanOrEqual(6);
  // Lines stay JSON a machine can read.
  for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
});

test('the secret settings: whole values, each payload key, and passwords inside URLs', () => {
  const config = loadConfig({
    FIRELINE_ADMIN_TOKEN: 'admin-canary-0123456789abcdef',
    FIRELINE_PAYLOAD_KEYS: 'k2=AAAAcanarykeyB,k1=AAAAcanarykeyA',
    SLACK_BOT_TOKEN: 'xoxb-canary',
    SLACK_SIGNING_SECRET: 'signing-canary',
    SMTP_URL: 'smtp://fireline:smtp%40canary@127.0.0.1:2525',
    FIRELINE_MAIL_FROM: 'fireline@example.com',
    DATABASE_URL: 'postgres://fireline:db-canary@127.0.0.1:5432/fireline',
    FIRELINE_PORT: '3000',
  });
  const values = secretSettingValues(config);
  for (const v of [
    'admin-canary-0123456789abcdef',
    'AAAAcanarykeyB',
    'AAAAcanarykeyA',
    'xoxb-canary',
    'signing-canary',
    'smtp@canary',
    'smtp%40canary',
    'db-canary',
  ]) {
    expect(values).toContain(v);
  }
  expect(values).not.toContain('3000');
});
