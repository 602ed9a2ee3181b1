import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Express, RequestHandler } from 'express';
import { EMPTY_ONCALL } from '../domain/oncall';
import type { OnCallConfig } from '../domain/oncall';
import type { Logger } from '../logger';
import { createMetrics } from '../observability/metrics';
import type { Metrics } from '../observability/metrics';
import { createAuthThrottle } from '../services/auth-throttle';
import type { AuthThrottle } from '../services/auth-throttle';
import type { Integrations } from '../ingest/integrations';
import type { AlertSink } from '../ingest/sink';
import type { ParseOptions } from '../runbooks/load';
import type { IncidentService } from '../services/incidents';
import { createMetricsService } from '../services/metrics';
import type { MetricsService } from '../services/metrics';
import { createOnCallService } from '../services/oncall';
import { createOutboxService } from '../services/outbox';
import { createPostmortemService } from '../services/postmortems';
import type { PostmortemService } from '../services/postmortems';
import type { OidcService } from '../services/oidc';
import { createSessionService } from '../services/sessions';
import { createSilenceService } from '../services/silences';
import type { TokenService } from '../services/tokens';
import type { Store } from '../store/store';
import { createSessionAuth } from './auth';
import { authThrottleGuard } from './auth-throttle';
import { alertRoutes, pagerDutyRoutes } from './routes/alerts';
import { silenceRoutes } from './routes/silences';
import { errorHandler, notFoundHandler } from './errors';
import { incidentRoutes } from './routes/incidents';
import { oncallRoutes } from './routes/oncall';
import { outboxRoutes } from './routes/outbox';
import { runbookRoutes } from './routes/runbooks';
import { metricsRoutes } from './routes/metrics';
import { postmortemRoutes } from './routes/postmortems';
import { oidcRoutes } from './routes/oidc';
import { sessionRoutes } from './routes/session';
import { StreamHub, streamRoutes } from './routes/stream';
import { webRoutes } from './web';
import { codecRoutes } from './routes/codec';
import { auditRoutes } from './routes/audit';
import { tokenRoutes } from './routes/tokens';
import { incidentSearchRoutes } from './web/search';
import type { RunbookListing } from './routes/runbooks';

export interface AppDeps {
  logger: Logger;
  store: Store;
  incidents: IncidentService;
  tokens: TokenService;
  runbooks: RunbookListing;
  /** What POST /runbooks/validate checks names against (targets, escalation policies). */
  parseOptions?: ParseOptions;
  /** Resolves when Temporal answers; rejects otherwise. */
  checkTemporal: () => Promise<void>;
  /** The current config/oncall.yaml (reloadable, e.g. createOnCallSource(file).current); none = empty. */
  oncall?: () => OnCallConfig;
  /** The clock the on-call routes read "now" from and page sessions expire by (tests move it); the system clock when absent. */
  now?: () => Date;
  /** Where receivers hand alerts; without it the receivers answer 503. */
  alertSink?: AlertSink;
  /** config/integrations.yaml, resolved; without it every receiver answers 401. */
  integrations?: Integrations;
  /** The sink's view of silences; refreshed when the silences API changes one. */
  silenceCache?: { refresh(): Promise<void> };
  /** FIRELINE_PUBLIC_URL: when https, the page's cookies are `Secure`. */
  publicUrl?: string;
  /** Post-mortem editing; made from store and incidents when absent. */
  postmortems?: PostmortemService;
  /** Milestones and summaries; made from the store when absent. */
  metrics?: MetricsService;
  /** How often live updates poll the read model (default 1 s). */
  streamIntervalMs?: number;
  /** The Slack receiver (src/slack): mounted before anything reads the body, since Bolt verifies the raw bytes. */
  slack?: { router: RequestHandler };
  /** FIRELINE_TRUST_PROXY: which hops may name the client address (off: the peer is the client). */
  trustProxy?: boolean | number | string[];
  /** Slows credential guessing per client address; one backed by the store is made when absent. */
  authThrottle?: AuthThrottle;
  /** Fireline's Prometheus metrics; a registry of this app's own when absent. */
  telemetry?: Metrics;
  /** The Temporal codec server at /codec (payload encryption for the Web UI and CLI); absent: not mounted. */
  codec?: Omit<Parameters<typeof codecRoutes>[0], 'tokens' | 'sessions'>;
  /** Single sign-on for the page (/auth/oidc/*, docs/sso.md); absent: off, the page signs in by token only. */
  oidc?: OidcService;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

const requestContext =
  (logger: Logger): RequestHandler =>
  (req, res, next) => {
    const given = req.get('x-request-id');
    req.id = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    req.log = logger.child({ requestId: req.id });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      req.log.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };

async function probe(check: () => Promise<void>): Promise<'ok' | 'unreachable'> {
  try {
    await check();
    return 'ok';
  } catch {
    return 'unreachable';
  }
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(requestContext(deps.logger));
  app.use(
    authThrottleGuard({
      throttle:
        deps.authThrottle ??
        createAuthThrottle({ store: deps.store, onError: (err) => deps.logger.warn({ err }, 'auth throttle: the store missed a count') }),
      metrics: deps.telemetry ?? createMetrics(),
    }),
  );
  if (deps.slack) app.use(deps.slack.router);

  app.get('/healthz', async (_req, res) => {
    const [temporal, store] = await Promise.all([probe(deps.checkTemporal), probe(() => deps.store.ping())]);
    const ok = temporal === 'ok' && store === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', temporal, store });
  });

  const sessions = createSessionAuth({
    sessions: createSessionService({ store: deps.store, tokens: deps.tokens, now: deps.now }),
    publicUrl: deps.publicUrl,
  });
  const postmortems = postmortemRoutes({
    tokens: deps.tokens,
    postmortems: deps.postmortems ?? createPostmortemService({ store: deps.store, incidents: deps.incidents }),
  });
  const metrics = metricsRoutes({ tokens: deps.tokens, metrics: deps.metrics ?? createMetricsService({ store: deps.store }) });
  const hub = new StreamHub({ store: deps.store, logger: deps.logger, intervalMs: deps.streamIntervalMs });

  const api = express.Router();
  api.use(sessions.middleware);
  api.use('/session', sessionRoutes({ tokens: deps.tokens, sessions, oidc: deps.oidc }));
  api.use('/incidents', incidentSearchRoutes(deps), postmortems.incidents, metrics.incidents);
  api.use('/incidents', incidentRoutes(deps));
  api.use('/action-items', postmortems.actionItems);
  api.use('/metrics', metrics.summary);
  api.use('/stream', streamRoutes({ tokens: deps.tokens, store: deps.store, hub }));
  api.use('/runbooks', runbookRoutes({ tokens: deps.tokens, runbooks: deps.runbooks, parseOptions: deps.parseOptions }));
  api.use('/outbox', outboxRoutes({ tokens: deps.tokens, outbox: createOutboxService(deps) }));
  api.use(
    '/oncall',
    oncallRoutes({
      tokens: deps.tokens,
      oncall: createOnCallService({ store: deps.store, oncall: deps.oncall ?? (() => EMPTY_ONCALL), now: deps.now }),
    }),
  );
  api.use('/alerts', alertRoutes(deps));
  api.use('/silences', silenceRoutes({ tokens: deps.tokens, silences: createSilenceService(deps) }));
  api.use('/audit', auditRoutes(deps));
  api.use('/tokens', tokenRoutes({ tokens: deps.tokens }));
  app.use('/api/v1', api);
  if (deps.oidc) app.use('/auth/oidc', oidcRoutes({ oidc: deps.oidc, sessions }));
  app.use('/v2', pagerDutyRoutes(deps));
  if (deps.codec) app.use('/codec', codecRoutes({ ...deps.codec, tokens: deps.tokens, sessions }));
  app.use(webRoutes());

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
