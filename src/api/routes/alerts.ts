import { Router } from 'express';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { AlertEvent } from '../../domain/alert';
import { parseAlertmanager } from '../../ingest/alertmanager';
import { authenticate } from '../../ingest/authenticate';
import type { AuthenticateOptions, Authenticated } from '../../ingest/authenticate';
import { discardUnreadBody, isJsonContentType, readRawBody, requireJsonContentType } from '../../ingest/body';
import { AuthenticationError, IngestError, invalidPayload } from '../../ingest/errors';
import { parseGeneric } from '../../ingest/generic';
import { parseGrafana } from '../../ingest/grafana';
import { Integrations } from '../../ingest/integrations';
import type { IntegrationType, ResolvedIntegration } from '../../ingest/integrations';
import { pagerDutyInvalid, pagerDutySuccess, parsePagerDutyEvent } from '../../ingest/pagerduty';
import type { AlertSink } from '../../ingest/sink';
import { ServiceError } from '../../services/errors';
import { ingestHttpError } from '../errors';
import { HttpError } from '../http-error';

/**
 * Monitoring ingestion (docs/reference/integrations.md §1–§3), as adapters: src/ingest authenticates the integration (401 before
 * the body is read where the credential is a header), reads at most 512 KB of raw bytes (for HMACs), refuses
 * hostile JSON and normalises to AlertEvents; the route answers 202 only once the sink has them durably. When
 * Temporal is unreachable the sink rejects and the sender gets 503 with Retry-After, so it retries instead of
 * losing alerts.
 */
export interface AlertRouteDeps {
  alertSink?: AlertSink;
  integrations?: Integrations;
  /** The receiver's clock for signature time windows (tests). */
  now?: () => Date;
}

const RETRY_AFTER_SEC = '5';

function notReady(): HttpError {
  return new HttpError(503, 'unavailable', 'alert ingestion is not ready; try again shortly', undefined, {
    'Retry-After': RETRY_AFTER_SEC,
  });
}

function authOptions(deps: AlertRouteDeps): AuthenticateOptions {
  return { integrations: deps.integrations ?? Integrations.none(), now: deps.now ?? (() => new Date()) };
}

/** Authenticates the request; its body is read, as JSON only, when authentication asks for it. */
async function authenticated(req: Request, type: IntegrationType, o: AuthenticateOptions): Promise<Authenticated> {
  const request = {
    headers: req.headers,
    body: async () => {
      requireJsonContentType(req.headers['content-type']);
      return readRawBody(req);
    },
  };
  try {
    return await authenticate(type, request, o);
  } catch (err) {
    if (err instanceof AuthenticationError)
      req.log.info({ integrationType: err.integrationType, reason: err.reason }, 'alert request refused');
    throw err;
  }
}

export function alertRoutes(deps: AlertRouteDeps): Router {
  const r = Router();
  const auth = authOptions(deps);

  async function deliver(
    req: Request,
    res: Response,
    integration: ResolvedIntegration,
    alerts: AlertEvent[],
    extra: Record<string, unknown> = {},
  ) {
    if (!deps.alertSink) throw notReady();
    const result = alerts.length > 0 ? await deps.alertSink.accept(alerts, { requestId: req.id }) : { incidents: [], silenced: 0 };
    req.log.info(
      { integration: integration.id, alerts: alerts.length, incidents: result.incidents.length, silenced: result.silenced, ...extra },
      'alerts accepted',
    );
    res.status(202).json({ status: 'accepted', alerts: alerts.length, incidents: result.incidents, silenced: result.silenced, ...extra });
  }

  r.post('/alertmanager', async (req, res) => {
    const { integration, payload } = await authenticated(req, 'alertmanager', auth);
    const parsed = parseAlertmanager(payload, { integration: integration.id });
    if (!parsed.ok) throw invalidPayload(parsed.issues);
    const message = parsed.value;
    if (message.truncatedAlerts > 0) {
      req.log.warn(
        { integration: integration.id, truncatedAlerts: message.truncatedAlerts },
        'Alertmanager dropped alerts (max_alerts): they never reach Fireline',
      );
    }
    await deliver(req, res, integration, message.alerts, message.truncatedAlerts > 0 ? { truncatedAlerts: message.truncatedAlerts } : {});
  });

  const grafana = async (req: Request, res: Response) => {
    const { integration, payload } = await authenticated(req, 'grafana', auth);
    const parsed = parseGrafana(payload, { integration: integration.id });
    if (!parsed.ok) throw invalidPayload(parsed.issues);
    const message = parsed.value;
    if (message.truncatedAlerts > 0)
      req.log.warn({ integration: integration.id, truncatedAlerts: message.truncatedAlerts }, 'Grafana dropped alerts (max_alerts)');
    await deliver(req, res, integration, message.alerts, message.truncatedAlerts > 0 ? { truncatedAlerts: message.truncatedAlerts } : {});
  };
  // Grafana's webhook contact point can be set to PUT.
  r.post('/grafana', grafana);
  r.put('/grafana', grafana);

  r.post('/generic', async (req, res) => {
    const { integration, payload } = await authenticated(req, 'generic', auth);
    const parsed = parseGeneric(payload, { integration: integration.id, now: auth.now() });
    if (!parsed.ok) throw invalidPayload(parsed.issues);
    await deliver(req, res, integration, parsed.value);
  });

  r.use(refusedBeforeReading);
  return r;
}

/** A refusal sent before the body was read (401, 415) stops the sender instead of reading on for as long as it sends. */
const refusedBeforeReading: ErrorRequestHandler = (err, req, _res, next) => {
  discardUnreadBody(req);
  next(err);
};

// --- PagerDuty Events API v2 (POST /v2/enqueue) -----------------------------------------------------------

class PagerDutyError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

const invalidEvent = (errors: string[]) => new PagerDutyError(400, pagerDutyInvalid(errors));

/** Every answer of /v2/enqueue has PagerDuty's shape (§3.3), errors included, so PagerDuty clients understand them. */
const pagerDutyErrors: ErrorRequestHandler = (thrown, req, res, next) => {
  discardUnreadBody(req);
  const err: unknown = thrown instanceof IngestError ? ingestHttpError(thrown) : thrown;
  let failure: PagerDutyError | undefined;
  if (err instanceof PagerDutyError) failure = err;
  else if (err instanceof HttpError) {
    if (err.status === 413)
      failure = new PagerDutyError(413, { status: 'invalid event', message: 'Request too large', errors: [err.message] });
    else if (err.status === 401)
      failure = new PagerDutyError(401, {
        status: 'unauthorized',
        message: 'Invalid routing key',
        errors: ['routing_key: not a valid integration key'],
      });
    else if (err.status === 503) failure = new PagerDutyError(503, { status: 'unavailable', message: err.message }, err.headers);
    else if (err.status >= 400 && err.status < 500) failure = new PagerDutyError(400, pagerDutyInvalid([err.message]));
  } else if (err instanceof ServiceError) {
    if (err.code === 'unavailable')
      failure = new PagerDutyError(503, { status: 'unavailable', message: 'Try again later' }, { 'Retry-After': RETRY_AFTER_SEC });
    else if (err.code === 'invalid') failure = new PagerDutyError(400, pagerDutyInvalid([err.message]));
  }
  if (!failure) return next(thrown);
  if (failure.status >= 500) req.log.warn({ status: failure.status }, failure.message);
  for (const [k, v] of Object.entries(failure.headers)) res.setHeader(k, v);
  res.status(failure.status).json(failure.body);
};

/** Mounted at `/v2`: `POST /v2/enqueue`. The `routing_key` in the body is the credential and picks the integration. */
export function pagerDutyRoutes(deps: AlertRouteDeps): Router {
  const r = Router();
  const auth = authOptions(deps);

  r.post('/enqueue', async (req, res) => {
    if (!isJsonContentType(req.headers['content-type'])) throw invalidEvent(['Content-Type must be application/json']);
    const { integration, payload } = await authenticated(req, 'pagerduty', auth);
    // The integration was found by this very key.
    const parsed = parsePagerDutyEvent(payload, { integration: integration.id, routingKey: integration.routingKey!, now: auth.now() });
    if (!parsed.ok) throw invalidEvent(parsed.issues.map((i) => `${i.path}: ${i.message}`));
    const event = parsed.value;
    if (!deps.alertSink) throw notReady();
    if (event.action === 'trigger') {
      const result = await deps.alertSink.accept([event.alert], { requestId: req.id });
      req.log.info(
        {
          integration: integration.id,
          action: event.action,
          generatedDedupKey: event.generated,
          incidents: result.incidents,
          silenced: result.silenced,
        },
        'event accepted',
      );
    } else {
      const result = await deps.alertSink.applyGroupAction(event.groupAction, { requestId: req.id });
      // A follow-up on an unknown or closed key is accepted and dropped, as PagerDuty does (§3.2).
      req.log.info({ integration: integration.id, action: event.action, incidentId: result.incidentId }, 'event accepted');
    }
    res.status(202).json(pagerDutySuccess(event.dedupKey));
  });

  r.use(pagerDutyErrors);
  return r;
}
