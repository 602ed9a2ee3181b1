import { parseUntrustedJson } from './body';
import { AuthenticationError, IngestError } from './errors';
import { checkGenericSignature, GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER } from './generic';
import { verifyGrafanaSignature } from './grafana';
import type { Integrations, IntegrationType, ResolvedIntegration } from './integrations';
import { isPlainObject } from './issues';
import { routingKeyOf } from './pagerduty';

/** What authentication needs of an HTTP request, whatever server received it. */
export interface IngestRequest {
  /** Header names in lower case, as Node gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The raw bytes as sent (signatures are over them). Asked for only once the header credential has passed, so a
   * wrong one is refused before a byte of the body is read.
   */
  body(): Promise<Uint8Array>;
}

export interface Authenticated {
  integration: ResolvedIntegration;
  /** The body as untrusted JSON, parsed once (refused with invalid_json when it is not). */
  payload: unknown;
}

export interface AuthenticateOptions {
  integrations: Integrations;
  /** The clock for signature time windows. */
  now: () => Date;
}

/**
 * Which configured integration of `type` sent the request, and its body (docs/reference/integrations.md §1–§3): a Bearer or
 * Basic credential (Alertmanager, Grafana), a Grafana HMAC, a Fireline signature (generic), or the PagerDuty
 * routing key inside the body. Every candidate is checked, in file order; the first that matches wins. Refusals
 * are AuthenticationErrors that all read the same.
 */
export async function authenticate(type: IntegrationType, request: IngestRequest, o: AuthenticateOptions): Promise<Authenticated> {
  switch (type) {
    case 'alertmanager': {
      const integration = o.integrations.headerCandidates('alertmanager', header(request, 'authorization'))[0];
      if (!integration) throw new AuthenticationError(type, 'credential');
      return { integration, payload: parseUntrustedJson(await request.body()) };
    }
    case 'grafana':
      return grafana(request, o);
    case 'generic':
      return generic(request, o);
    case 'pagerduty':
      return pagerDuty(request, o);
  }
}

async function grafana(request: IngestRequest, o: AuthenticateOptions): Promise<Authenticated> {
  const candidates = o.integrations.headerCandidates('grafana', header(request, 'authorization'));
  if (candidates.length === 0) throw new AuthenticationError('grafana', 'credential');
  const bytes = await request.body();
  const now = o.now().getTime();
  let integration: ResolvedIntegration | undefined;
  for (const candidate of candidates) {
    const hmac = candidate.hmac;
    const ok =
      !hmac ||
      verifyGrafanaSignature({
        secret: hmac.secret,
        body: bytes,
        signature: hmac.signatureHeaders.map((name) => header(request, name)).find((value) => value !== undefined),
        timestamped: hmac.timestampHeader !== undefined,
        timestamp: hmac.timestampHeader ? header(request, hmac.timestampHeader) : undefined,
        now,
      });
    if (ok && !integration) integration = candidate;
  }
  if (!integration) throw new AuthenticationError('grafana', 'signature');
  return { integration, payload: parseUntrustedJson(bytes) };
}

async function generic(request: IngestRequest, o: AuthenticateOptions): Promise<Authenticated> {
  const candidates = o.integrations.ofType('generic');
  const signature = header(request, GENERIC_SIGNATURE_HEADER);
  const timestamp = header(request, GENERIC_TIMESTAMP_HEADER);
  if (candidates.length === 0 || !signature || !timestamp) {
    throw new AuthenticationError('generic', candidates.length === 0 ? 'no generic integration' : 'signature headers missing');
  }
  const bytes = await request.body();
  const now = o.now().getTime();
  let integration: ResolvedIntegration | undefined;
  let reason = 'mismatch';
  for (const candidate of candidates) {
    const check = checkGenericSignature({ secret: candidate.hmac?.secret ?? '', body: bytes, signature, timestamp, now });
    if (check.ok && !integration) integration = candidate;
    else if (!check.ok) reason = check.reason;
  }
  if (!integration) throw new AuthenticationError('generic', reason);
  return { integration, payload: parseUntrustedJson(bytes) };
}

/** The routing key is in the body, so the body is read and parsed before anything is known about the sender. */
async function pagerDuty(request: IngestRequest, o: AuthenticateOptions): Promise<Authenticated> {
  const payload = parseUntrustedJson(await request.body());
  const routingKey = routingKeyOf(payload);
  if (!routingKey)
    throw new IngestError(
      'invalid_request',
      isPlainObject(payload) ? 'routing_key: missing or not a non-empty string' : '(body): expected a JSON object',
    );
  const integration = o.integrations.byRoutingKey(routingKey);
  if (!integration) throw new AuthenticationError('pagerduty', 'routing key');
  return { integration, payload };
}

function header(request: IngestRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
