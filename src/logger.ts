import pino from 'pino';
import type { Logger } from 'pino';

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

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'fireline',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}
