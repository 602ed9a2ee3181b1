import { z } from 'zod';
import type { AlertEvent } from '../domain/alert';
import { checkSignature } from '../targets/sign';
import type { SignatureCheck } from '../targets/sign';
import { issuesFromZod, isPlainObject, fail } from './issues';
import type { Parsed } from './issues';
import { alertmanagerFingerprint, sha256Hex } from './keys';
import { IsoTimeSchema, LabelMapSchema, MAX_SUMMARY, oneLine, toUtcIso } from './schema';

export { SIGNATURE_HEADER as GENERIC_SIGNATURE_HEADER, TIMESTAMP_HEADER as GENERIC_TIMESTAMP_HEADER } from '../targets/sign';
export const GENERIC_TOLERANCE_SEC = 300;
export const MAX_GENERIC_ALERTS = 1000;

/**
 * Fireline's own alert format, for scripts and tools without a native integration:
 *
 *   POST /api/v1/alerts/generic
 *   Content-Type: application/json
 *   X-Fireline-Timestamp: <unix seconds>
 *   X-Fireline-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 *   { "alerts": [ { "status": "firing", "summary": "Checkout 5xx above 5 %",
 *                   "labels": { "alertname": "CheckoutErrors", "service": "checkout", "severity": "critical" },
 *                   "annotations": { "runbook_url": "https://…" },
 *                   "startsAt": "2026-04-21T08:20:31Z", "group": "checkout-errors" } ] }
 *
 * - `fingerprint` names the alert; default: Alertmanager's fingerprint of `labels`, so the same labels are the
 *   same alert. `startsAt` (default: receive time) separates firing episodes: send it to make retries idempotent.
 * - `group` names the incident: alerts with the same group (in the same integration) feed one incident.
 *   Default: the alert's own fingerprint, i.e. one incident per distinct alert.
 * - `severity` (critical, error, warning, info, or SEV1…SEV4) defaults to the `severity` label.
 * - Resolve with `status: "resolved"` and the same fingerprint (or labels) and `startsAt`.
 * The signature is the same scheme Fireline uses for its own outgoing webhooks (src/targets/sign.ts); several
 * `v1=` signatures separated by commas are accepted during a secret rotation.
 */
export const GenericAlertSchema = z.object({
  fingerprint: z.string().min(1).max(256).optional(),
  status: z.enum(['firing', 'resolved']),
  summary: z.string().trim().min(1, 'must not be blank').max(MAX_SUMMARY, `must be at most ${MAX_SUMMARY} characters`),
  labels: LabelMapSchema,
  annotations: LabelMapSchema.default({}),
  startsAt: IsoTimeSchema.optional(),
  endsAt: IsoTimeSchema.optional(),
  group: z.string().min(1).max(1024).optional(),
  severity: z.string().min(1).max(64).optional(),
  generatorURL: z
    .string()
    .max(16 * 1024)
    .optional(),
});

export const GenericMessageSchema = z.object({
  alerts: z
    .array(GenericAlertSchema)
    .min(1, 'send at least one alert')
    .max(MAX_GENERIC_ALERTS, `at most ${MAX_GENERIC_ALERTS} alerts per request`),
});

export type GenericAlertInput = z.input<typeof GenericAlertSchema>;

/** The group key of a generic alert: sha256 hex of its group name (or of its fingerprint). */
export function genericGroupKey(group: string): string {
  return sha256Hex(`generic:${group}`);
}

export function parseGeneric(body: unknown, ctx: { integration: string; now: Date }): Parsed<AlertEvent[]> {
  if (!isPlainObject(body)) return fail('(body)', 'expected a JSON object {"alerts": [ … ]}');
  const parsed = GenericMessageSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error) };
  const received = ctx.now.toISOString();
  const problems: { path: string; message: string }[] = [];
  const alerts = parsed.data.alerts.map((a, index): AlertEvent => {
    if (!a.fingerprint && Object.keys(a.labels).length === 0)
      problems.push({ path: `alerts.${index}.labels`, message: 'give at least one label or a fingerprint' });
    const fingerprint = a.fingerprint ?? alertmanagerFingerprint(a.labels);
    const severity = a.severity ?? a.labels.severity;
    return {
      source: 'generic',
      integration: ctx.integration,
      groupKey: genericGroupKey(a.group ?? fingerprint),
      fingerprint,
      status: a.status,
      startsAt: a.startsAt ? toUtcIso(a.startsAt) : received,
      endsAt: a.status === 'resolved' ? (a.endsAt ? toUtcIso(a.endsAt) : received) : null,
      labels: a.labels,
      annotations: a.annotations,
      summary: oneLine(a.summary),
      senderSeverity: severity?.trim() ? severity.trim() : null,
      generatorUrl: a.generatorURL || null,
    };
  });
  if (problems.length > 0) return { ok: false, issues: problems.slice(0, 20) };
  return { ok: true, value: alerts };
}

/** The signature check (X-Fireline-Signature over `<timestamp>.<raw body>`, ±300 s), with the reason for logs. */
export function checkGenericSignature(input: {
  secret: string;
  body: Uint8Array | string;
  signature: string | undefined;
  timestamp: string | undefined;
  now?: number;
}): SignatureCheck {
  return checkSignature({
    secret: input.secret,
    header: input.signature,
    timestamp: input.timestamp,
    body: input.body,
    now: input.now,
    toleranceSec: GENERIC_TOLERANCE_SEC,
  });
}
