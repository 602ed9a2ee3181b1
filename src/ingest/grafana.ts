import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { AlertEvent } from '../domain/alert';
import { issuesFromZod, isPlainObject, fail } from './issues';
import type { Parsed } from './issues';
import { alertmanagerFingerprint, hexMacEqual, sha256Hex } from './keys';
import { cleanMap, IsoTimeSchema, LabelMapSchema, webhookAlertEvent } from './schema';

/** Both names Grafana's HMAC header is known by (docs/reference/integrations.md §0.12), lower case; accepted unless one is configured. */
export const GRAFANA_SIGNATURE_HEADERS = ['x-grafana-alerting-signature', 'x-grafana-alert-signature'];
export const GRAFANA_TIMESTAMP_TOLERANCE_SEC = 300;

/**
 * Grafana unified alerting webhook, version "1" (docs/reference/integrations.md §2): an Alertmanager v4 body plus extras.
 * Not strict; unknown keys are dropped.
 */
export const GrafanaAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: LabelMapSchema,
  annotations: LabelMapSchema.default({}),
  startsAt: IsoTimeSchema,
  endsAt: IsoTimeSchema.optional(),
  generatorURL: z
    .string()
    .max(16 * 1024)
    .optional(),
  /** Opaque: Grafana hashes the private labels too, so it cannot be recomputed from what arrives. */
  fingerprint: z.string().min(1).max(256).optional(),
  silenceURL: z
    .string()
    .max(16 * 1024)
    .optional(),
  dashboardURL: z
    .string()
    .max(16 * 1024)
    .optional(),
  panelURL: z
    .string()
    .max(16 * 1024)
    .optional(),
});

export const GrafanaMessageSchema = z.object({
  version: z.literal('1'),
  receiver: z.string().max(1024).default(''),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(GrafanaAlertSchema),
  groupLabels: LabelMapSchema.default({}),
  commonLabels: LabelMapSchema.default({}),
  commonAnnotations: LabelMapSchema.default({}),
  externalURL: z
    .string()
    .max(16 * 1024)
    .default(''),
  groupKey: z
    .string()
    .min(1)
    .max(64 * 1024),
  truncatedAlerts: z.number().int().min(0).default(0),
  orgId: z.number().int().optional(),
  title: z
    .string()
    .max(16 * 1024)
    .optional(),
  state: z.string().max(100).optional(),
});

export interface GrafanaMessage {
  receiver: string;
  status: 'firing' | 'resolved';
  groupKey: string;
  groupKeyHash: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  externalURL: string;
  orgId: number | null;
  title: string | null;
  truncatedAlerts: number;
  alerts: AlertEvent[];
}

/** `__alert_rule_uid__`, `__dashboardUid__`, `__values__`…: Grafana's private labels, not for routing or display. */
export function isPrivateLabel(name: string): boolean {
  return name.length >= 4 && name.startsWith('__') && name.endsWith('__');
}

const isPublic = (name: string) => !isPrivateLabel(name);

function formatProblem(body: unknown): Parsed<never> | undefined {
  if (!isPlainObject(body)) return fail('(body)', 'expected a Grafana alerting webhook message: a JSON object with version "1"');
  const version = body.version;
  if (version === undefined) {
    if ('ruleName' in body || 'evalMatches' in body || 'ruleId' in body || 'ruleUrl' in body) {
      return fail(
        'version',
        'missing: this is a legacy Grafana alerting message (ruleName, evalMatches), which is not supported; use a Grafana unified alerting webhook contact point (version "1")',
      );
    }
    return fail(
      'version',
      'missing: expected a Grafana unified alerting webhook message (version "1"); a templated payload replaces that message and is not accepted here',
    );
  }
  if (version === '4') return fail('version', 'this is an Alertmanager message (version "4"); send it to /api/v1/alerts/alertmanager');
  if (version !== '1')
    return fail('version', `expected "1" (Grafana unified alerting webhook), got ${JSON.stringify(version).slice(0, 40)}`);
  return undefined;
}

export function parseGrafana(body: unknown, ctx: { integration: string }): Parsed<GrafanaMessage> {
  const problem = formatProblem(body);
  if (problem) return problem;
  const parsed = GrafanaMessageSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error) };
  const m = parsed.data;
  const groupKeyHash = sha256Hex(m.groupKey);
  const alerts = m.alerts.map((a) => {
    const labels = cleanMap(a.labels, isPublic);
    const annotations = cleanMap(a.annotations, isPublic);
    // Links a responder wants next to the alert; only where the annotation name is still free.
    const links: [string, string | undefined][] = [
      ['dashboard_url', a.dashboardURL],
      ['panel_url', a.panelURL],
      ['silence_url', a.silenceURL],
    ];
    for (const [name, url] of links) {
      if (url && annotations[name] === undefined) annotations[name] = url;
    }
    return webhookAlertEvent('grafana', ctx.integration, groupKeyHash, {
      status: a.status,
      labels,
      annotations,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint ?? alertmanagerFingerprint(labels),
    });
  });
  return {
    ok: true,
    value: {
      receiver: m.receiver,
      status: m.status,
      groupKey: m.groupKey,
      groupKeyHash,
      groupLabels: cleanMap(m.groupLabels, isPublic),
      commonLabels: cleanMap(m.commonLabels, isPublic),
      externalURL: m.externalURL,
      orgId: m.orgId ?? null,
      title: m.title ?? null,
      truncatedAlerts: m.truncatedAlerts,
      alerts,
    },
  };
}

/** Lowercase hex HMAC-SHA256 as Grafana signs (§2.1): over the body, or `<timestamp>:<body>` with a timestamp header. */
export function grafanaSignature(secret: string, body: string | Uint8Array, timestamp?: string | number): string {
  const mac = createHmac('sha256', secret);
  if (timestamp !== undefined) mac.update(`${timestamp}:`);
  return mac.update(body).digest('hex');
}

export interface GrafanaSignatureInput {
  secret: string;
  body: Uint8Array | string;
  /** The signature header's value. */
  signature: string | undefined;
  /** Set when the integration configures a timestamp header: its value (unix seconds), or undefined if absent. */
  timestamp?: string | undefined;
  /** Whether a timestamp is part of the signature (the contact point sets `timestampHeader`). */
  timestamped: boolean;
  now?: number;
  toleranceSec?: number;
}

/**
 * Constant-time check of a Grafana HMAC. With a timestamp header configured, the timestamp must be present and
 * within `toleranceSec` (300 s) of now either way, so a captured request cannot be replayed later.
 */
export function verifyGrafanaSignature(input: GrafanaSignatureInput): boolean {
  const { secret, body, timestamped, toleranceSec = GRAFANA_TIMESTAMP_TOLERANCE_SEC } = input;
  const signature = input.signature?.trim().toLowerCase();
  if (!secret || !signature) return false;
  let timestamp: string | undefined;
  if (timestamped) {
    timestamp = input.timestamp?.trim();
    if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
    const nowMs = input.now ?? Date.now();
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSec) return false;
  }
  const mac = createHmac('sha256', secret);
  if (timestamp !== undefined) mac.update(`${timestamp}:`);
  return hexMacEqual(signature, mac.update(body).digest());
}
