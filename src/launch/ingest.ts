import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { ConfigError } from '../config';
import { AlertCoalescer } from '../ingest/coalescer';
import { formatConfigProblem, loadIntegrations } from '../ingest/integrations';
import type { Integrations } from '../ingest/integrations';
import { loadRouting, routeAlert } from '../ingest/routing';
import { SilenceCache } from '../ingest/silences';
import type { Logger } from '../logger';
import type { RunbookCatalog } from '../runbooks/catalog';
import { createAlertService } from '../services/alerts';
import type { IncidentService } from '../services/incidents';
import type { Store } from '../store/store';
import { warnOnce } from './warnings';

export interface Ingestion {
  integrations: Integrations;
  sink: AlertCoalescer;
  silences: SilenceCache;
  stop(): void;
}

/**
 * Monitoring ingestion: integrations (credentials) and routing from config, checked at start (file:line
 * errors stop start-up), silences kept in memory and refreshed, and the coalescer that paces alerts into the
 * alert service, which opens and signals incidents.
 */
export async function startIngestion(opts: {
  config: Config;
  env: Record<string, string | undefined>;
  logger: Logger;
  client: Client;
  store: Store;
  runbooks: RunbookCatalog;
  incidents: IncidentService;
}): Promise<Ingestion> {
  const { config, logger } = opts;
  const integrationsResult = loadIntegrations(path.join(config.configDir, 'integrations.yaml'), opts.env);
  if (!integrationsResult.ok) throw new ConfigError(integrationsResult.problems.map(formatConfigProblem));
  warnOnce(logger, 'config/integrations.yaml', integrationsResult.warnings.map(formatConfigProblem));
  // Runbook names are checked only when alerts can arrive: without integrations routing is never used.
  const runbookIds = integrationsResult.integrations.list().length
    ? (await opts.runbooks.list()).filter((r) => r.problems.length === 0).map((r) => r.id)
    : undefined;
  const routing = loadRouting(path.join(config.configDir, 'routing.yaml'), { runbookIds });
  if (!routing.ok) throw new ConfigError(routing.problems.map(formatConfigProblem));
  warnOnce(logger, 'config/routing.yaml', routing.warnings.map(formatConfigProblem));
  const rules = routing.rules;

  const silences = new SilenceCache(opts.store, {
    onError: (err) => logger.warn({ err: (err as Error).message }, 'silences not refreshed'),
  });
  await silences.start();
  const alerts = createAlertService({
    client: opts.client,
    store: opts.store,
    runbooks: opts.runbooks,
    incidents: opts.incidents,
    taskQueue: config.FIRELINE_TASK_QUEUE,
    logger,
    route: (alert) => routeAlert(rules, alert),
  });
  const sink = new AlertCoalescer({ store: opts.store, alerts, logger, isSilenced: silences.isSilenced });
  await sink.resume();
  logger.info({ integrations: integrationsResult.integrations.list(), rules: rules.length }, 'alert ingestion ready');
  return {
    integrations: integrationsResult.integrations,
    sink,
    silences,
    stop: () => {
      silences.stop();
      sink.stop();
    },
  };
}
