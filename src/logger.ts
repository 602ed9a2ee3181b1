import pino from 'pino';
import type { Logger } from 'pino';
import { processSecrets } from './secrets/scrubber';
import type { Scrubber } from './secrets/scrubber';

export type { Logger };

/** Paths that may carry secrets; pino replaces them before anything is written. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'req.headers["x-pagerduty-signature"]',
  'req.headers["x-grafana-alerting-signature"]',
  'req.headers["x-grafana-alert-signature"]',
  'req.headers["x-fireline-signature"]',
  'headers.authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'routing_key',
  '*.routing_key',
  'auth.pass',
  '*.auth.pass',
];

/**
 * Fields known to carry secrets are redacted by path; on top, every line is scrubbed of the secret VALUES the
 * process knows (`secrets`, by default processSecrets), wherever they turn up: in a URL, an upstream error message,
 * a stack trace.
 */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream; secrets?: Scrubber } = {}): Logger {
  const secrets = options.secrets ?? processSecrets;
  return pino(
    {
      name: 'fireline',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: (line) => (secrets.size > 0 ? secrets.scrub(line) : line) },
    },
    options.destination,
  );
}
