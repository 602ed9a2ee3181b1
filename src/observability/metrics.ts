import { Counter, Registry } from 'prom-client';

/**
 * Fireline's own Prometheus metrics, in one registry of its own (not prom-client's global one, so tests and
 * several apps in one process never share counters by accident). Issue 14 serves it at /metrics.
 */
export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    /** Label `door`: bearer, session, integration, slack (a fixed set, never user input). */
    authFailures: new Counter({
      name: 'fireline_auth_failures_total',
      help: 'Failed authentication attempts, by door.',
      labelNames: ['door'] as const,
      registers: [registry],
    }),
    authThrottled: new Counter({
      name: 'fireline_auth_throttled_total',
      help: 'Requests refused with 429 because their client address failed authentication too often, by door.',
      labelNames: ['door'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
