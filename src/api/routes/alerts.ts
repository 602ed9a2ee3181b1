import { Router } from 'express';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { AlertEvent } from '../../domain/alert';
import { parseAlertmanager } from '../../ingest/alertmanager';
import { discardUnreadBody, isJsonContentType, parseUntrustedJson, readRawBody, requireJsonContentType } from '../../ingest/body';
import { checkGenericSignature, GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER, parseGeneric } from '../../ingest/generic';
import { parseGrafana, verifyGrafanaSignature } from '../../ingest/grafana';
import { Integrations } from '../../ingest/integrations';
import type { ResolvedIntegration } from '../../ingest/integrations';
import { describeIssues } from '../../ingest/issues';
import type { PayloadIssue } from '../../ingest/issues';
import { pagerDutyInvalid, pagerDutySuccess, parsePagerDutyEvent, routingKeyOf } from '../../ingest/pagerduty';
import type { AlertSink } from '../../ingest/sink';
import { ServiceError } from '../../services/errors';
import { HttpError } from '../http-error';

/**
 * Monitoring ingestion (integrations.md §1–§3). Each receiver authenticates the integration first (401 before
 * the body is read where the credential is a header), reads at most 512 KB of raw bytes (for HMACs), refuses
 * hostile JSON, normalises to AlertEvents and answers 202 only once the sink has them durably; when Temporal is
 * unreachable the sink rejects and the sender gets 503 with Retry-After, so it retries instead of losing alerts.
 */
export interface AlertRouteDeps {
  alertSink?: AlertSink;
  integrations?: Integrations;
  /** The receiver's clock for signature time windows (tests). */
  now?: () => Date;
}

const RETRY_AFTER_SEC = '5';

/** One answer for every authentication failure: which part was wrong is nobody's business but the log's. */
function unauthorized(): HttpError {
  return new HttpError(401, 'unauthorized', 'the credential or signature is not valid for any configured integration', undefined, {
    'WWW-Authenticate': 'Bearer realm="fireline-alerts"',
  });
}

function invalidPayload(issues: PayloadIssue[]): HttpError {
  return new HttpError(400, 'invalid_request', describeIssues(issues), { issues });
}

function notReady(): HttpError {
  return new HttpError(503, 'unavailable', 'alert ingestion is not ready; try again shortly', undefined, { 'Retry-After': RETRY_AFTER_SEC });
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function logRefusal(req: Request, integrationType: string, reason: string): void {
  req.log.info({ integrationType, reason }, 'alert request refused');
}

export function alertRoutes(deps: AlertRouteDeps): Router {
  const r = Router();
  const integrations = deps.integrations ?? Integrations.none();
  const now = deps.now ?? (() => new Date());

  async function deliver(req: Request, res: Response, integration: ResolvedIntegration, alerts: AlertEvent[], extra: Record<string, unknown> = {}) {
    if (!deps.alertSink) throw notReady();
    const result = alerts.length > 0 ? await deps.alertSink.accept(alerts, { requestId: req.id }) : { incidents: [], silenced: 0 };
    req.log.info({ integration: integration.id, alerts: alerts.length, incidents: result.incidents.length, silenced: result.silenced, ...extra }, 'alerts accepted');
    res.status(202).json({ status: 'accepted', alerts: alerts.length, incidents: result.incidents, silenced: result.silenced, ...extra });
  }

  r.post('/alertmanager', async (req, res) => {
    const candidates = integrations.headerCandidates('alertmanager', req.get('authorization'));
    const integration = candidates[0];
    if (!integration) {
      logRefusal(req, 'alertmanager', 'credential');
      throw unauthorized();
    }
    requireJsonContentType(req);
    const body = parseUntrustedJson(await readRawBody(req));
    const parsed = parseAlertmanager(body, { integration: integration.id });
    if (!parsed.ok) throw invalidPayload(parsed.issues);
    const message = parsed.value;
    if (message.truncatedAlerts > 0) {
      req.log.warn({ integration: integration.id, truncatedAlerts: message.truncatedAlerts }, 'Alertmanager dropped alerts (max_alerts): they never reach Fireline');
    }
    await deliver(req, res, integration, message.alerts, message.truncatedAlerts > 0 ? { truncatedAlerts: message.truncatedAlerts } : {});
  });

  const grafana = async (req: Request, res: Response) => {
    const candidates = integrations.headerCandidates('grafana', req.get('authorization'));
    if (candidates.length === 0) {
      logRefusal(req, 'grafana', 'credential');
      throw unauthorized();
    }
    requireJsonContentType(req);
    const bytes = await readRawBody(req);
    let integration: ResolvedIntegration | undefined;
    for (const candidate of candidates) {
      const hmac = candidate.hmac;
      const ok =
        !hmac ||
        verifyGrafanaSignature({
          secret: hmac.secret,
          body: bytes,
          signature: hmac.signatureHeaders.map((name) => header(req, name)).find((value) => value !== undefined),
          timestamped: hmac.timestampHeader !== undefined,
          timestamp: hmac.timestampHeader ? header(req, hmac.timestampHeader) : undefined,
          now: now().getTime(),
        });
      if (ok && !integration) integration = candidate;
    }
    if (!integration) {
      logRefusal(req, 'grafana', 'signature');
      throw unauthorized();
    }
    const parsed = parseGrafana(parseUntrustedJson(bytes), { integration: integration.id });
    if (!parsed.ok) throw invalidPayload(parsed.issues);
    const message = parsed.value;
    if (message.truncatedAlerts > 0) req.log.warn({ integration: integration.id, truncatedAlerts: message.truncatedAlerts }, 'Grafana dropped alerts (max_alerts)');
    await deliver(req, res, integration, message.alerts, message.truncatedAlerts > 0 ? { truncatedAlerts: message.truncatedAlerts } : {});
  };
  // Grafana's webhook contact point can be set to PUT.
  r.post('/grafana', grafana);
  r.put('/grafana', grafana);

  r.post('/generic', async (req, res) => {
    const candidates = integrations.ofType('generic');
    const signature = header(req, GENERIC_SIGNATURE_HEADER);
    const timestamp = header(req, GENERIC_TIMESTAMP_HEADER);
    if (candidates.length === 0 || !signature || !timestamp) {
      logRefusal(req, 'generic', candidates.length === 0 ? 'no generic integration' : 'signature headers missing');
      throw unauthorized();
    }
    requireJsonContentType(req);
    const bytes = await readRawBody(req);
    let integration: ResolvedIntegration | undefined;
    let reason = 'mismatch';
    for (const candidate of candidates) {
      const check = checkGenericSignature({ secret: candidate.hmac?.secret ?? '', body: bytes, signature, timestamp, now: now().getTime() });
      if (check.ok && !integration) integration = candidate;
      else if (!check.ok) reason = check.reason;
    }
    if (!integration) {
      logRefusal(req, 'generic', reason);
      throw unauthorized();
    }
    const parsed = parseGeneric(parseUntrustedJson(bytes), { integration: integration.id, now: now() });
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
const pagerDutyErrors: ErrorRequestHandler = (err, req, res, next) => {
  discardUnreadBody(req);
  let failure: PagerDutyError | undefined;
  if (err instanceof PagerDutyError) failure = err;
  else if (err instanceof HttpError) {
    if (err.status === 413) failure = new PagerDutyError(413, { status: 'invalid event', message: 'Request too large', errors: [err.message] });
    else if (err.status === 401) failure = new PagerDutyError(401, { status: 'unauthorized', message: 'Invalid routing key', errors: ['routing_key: not a valid integration key'] });
    else if (err.status === 503) failure = new PagerDutyError(503, { status: 'unavailable', message: err.message }, err.headers);
    else if (err.status >= 400 && err.status < 500) failure = new PagerDutyError(400, pagerDutyInvalid([err.message]));
  } else if (err instanceof ServiceError) {
    if (err.code === 'unavailable') failure = new PagerDutyError(503, { status: 'unavailable', message: 'Try again later' }, { 'Retry-After': RETRY_AFTER_SEC });
    else if (err.code === 'invalid') failure = new PagerDutyError(400, pagerDutyInvalid([err.message]));
  }
  if (!failure) return next(err);
  if (failure.status >= 500) req.log.warn({ status: failure.status }, failure.message);
  for (const [k, v] of Object.entries(failure.headers)) res.setHeader(k, v);
  res.status(failure.status).json(failure.body);
};

/** Mounted at `/v2`: `POST /v2/enqueue`. The `routing_key` in the body is the credential and picks the integration. */
export function pagerDutyRoutes(deps: AlertRouteDeps): Router {
  const r = Router();
  const integrations = deps.integrations ?? Integrations.none();
  const now = deps.now ?? (() => new Date());

  r.post('/enqueue', async (req, res) => {
    if (!isJsonContentType(req.headers['content-type'])) throw invalidEvent(['Content-Type must be application/json']);
    requireJsonContentType(req);
    const body = parseUntrustedJson(await readRawBody(req));
    const routingKey = routingKeyOf(body);
    if (!routingKey) {
      throw invalidEvent([typeof body === 'object' && body !== null && !Array.isArray(body) ? 'routing_key: missing or not a non-empty string' : '(body): expected a JSON object']);
    }
    const integration = integrations.byRoutingKey(routingKey);
    if (!integration) {
      logRefusal(req, 'pagerduty', 'routing key');
      throw unauthorized();
    }
    const parsed = parsePagerDutyEvent(body, { integration: integration.id, routingKey, now: now() });
    if (!parsed.ok) throw invalidEvent(parsed.issues.map((i) => `${i.path}: ${i.message}`));
    const event = parsed.value;
    if (!deps.alertSink) throw notReady();
    if (event.action === 'trigger') {
      const result = await deps.alertSink.accept([event.alert], { requestId: req.id });
      req.log.info({ integration: integration.id, action: event.action, generatedDedupKey: event.generated, incidents: result.incidents, silenced: result.silenced }, 'event accepted');
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
