import { z } from 'zod';
import type { AlertEvent } from '../domain/alert';
import { issuesFromZod, isPlainObject, fail } from './issues';
import type { Parsed } from './issues';
import { alertmanagerFingerprint, sha256Hex } from './keys';
import { IsoTimeSchema, LabelMapSchema, webhookAlertEvent } from './schema';

export { alertmanagerFingerprint } from './keys';

/**
 * Prometheus Alertmanager webhook, version "4" (docs/reference/integrations.md §1). Objects are not strict: newer releases add
 * fields (`notification_reason` in v0.32, `routeLabels` in v0.34) and unknown keys are dropped, never refused.
 */
export const AlertmanagerAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: LabelMapSchema,
  annotations: LabelMapSchema.default({}),
  startsAt: IsoTimeSchema,
  endsAt: IsoTimeSchema.optional(),
  generatorURL: z
    .string()
    .max(16 * 1024)
    .optional(),
  /** Versions before v0.19 had none; it is then computed from the labels the same way. */
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{16}$/, 'expected 16 lowercase hex digits')
    .optional(),
});

export const AlertmanagerMessageSchema = z.object({
  version: z.literal('4'),
  receiver: z.string().max(1024).default(''),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(AlertmanagerAlertSchema),
  notification_reason: z.string().max(200).optional(),
  groupLabels: LabelMapSchema.default({}),
  commonLabels: LabelMapSchema.default({}),
  commonAnnotations: LabelMapSchema.default({}),
  routeLabels: LabelMapSchema.optional(),
  externalURL: z
    .string()
    .max(16 * 1024)
    .default(''),
  groupKey: z
    .string()
    .min(1)
    .max(64 * 1024),
  truncatedAlerts: z.number().int().min(0).default(0),
});

/** A message after checks: what Fireline keeps of it. */
export interface AlertmanagerMessage {
  /** The receiver name with Alertmanager's regex escaping undone (`team\.web` → `team.web`). */
  receiver: string;
  status: 'firing' | 'resolved';
  /** As sent: `<routeKey>:<groupLabels>`. */
  groupKey: string;
  /** sha256 hex of `groupKey`: the incident's name within the integration. */
  groupKeyHash: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  /** From the matched route's `labels:` (v0.34+); hints such as an escalation policy. */
  routeLabels: Record<string, string>;
  externalURL: string;
  notificationReason: string | null;
  /** Alerts Alertmanager dropped because of `max_alerts`: they never reach Fireline. */
  truncatedAlerts: number;
  alerts: AlertEvent[];
}

/** Undoes Go's `regexp.QuoteMeta`, which Alertmanager applies to receiver names (docs/reference/integrations.md §0.11). */
export function unescapeReceiver(name: string): string {
  return name.replace(/\\([\\.+*?()|[\]{}^$])/g, '$1');
}

/**
 * Checks a templated `payload:` body or another sender's format would otherwise fail with a list of zod
 * issues; a message that says what arrived helps more.
 */
function formatProblem(body: unknown): Parsed<never> | undefined {
  if (!isPlainObject(body)) {
    return fail('(body)', 'expected an Alertmanager webhook message: a JSON object with version "4"');
  }
  const version = body.version;
  if (version === undefined) {
    return fail(
      'version',
      'missing: this is not an Alertmanager webhook v4 message. A webhook_config with a templated `payload:` replaces the standard message; remove `payload:` or send that body to /api/v1/alerts/generic',
    );
  }
  if (version === '1') return fail('version', 'this is a Grafana alerting message (version "1"); send it to /api/v1/alerts/grafana');
  if (version !== '4') return fail('version', `expected "4" (Alertmanager webhook v4), got ${JSON.stringify(version).slice(0, 40)}`);
  return undefined;
}

export function parseAlertmanager(body: unknown, ctx: { integration: string }): Parsed<AlertmanagerMessage> {
  const problem = formatProblem(body);
  if (problem) return problem;
  const parsed = AlertmanagerMessageSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error) };
  const m = parsed.data;
  const groupKeyHash = sha256Hex(m.groupKey);
  const alerts = m.alerts.map((a) =>
    webhookAlertEvent('alertmanager', ctx.integration, groupKeyHash, {
      ...a,
      fingerprint: a.fingerprint ?? alertmanagerFingerprint(a.labels),
    }),
  );
  return {
    ok: true,
    value: {
      receiver: unescapeReceiver(m.receiver),
      status: m.status,
      groupKey: m.groupKey,
      groupKeyHash,
      groupLabels: m.groupLabels,
      commonLabels: m.commonLabels,
      routeLabels: m.routeLabels ?? {},
      externalURL: m.externalURL,
      notificationReason: m.notification_reason ?? null,
      truncatedAlerts: m.truncatedAlerts,
      alerts,
    },
  };
}

/** What a test (or a benchmark) needs to build an alert of a message. */
export interface AlertmanagerAlertInput {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  status?: 'firing' | 'resolved';
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

/**
 * Renders a groupKey the way Alertmanager does (§1.4): route matcher sets from the root, then the group
 * labels sorted by name, `name="value"` joined by `, `.
 */
export function alertmanagerGroupKey(routeMatchers: readonly string[], groupLabels: Record<string, string>): string {
  const route = ['{}', ...routeMatchers.map((m) => `{${m}}`)].join('/');
  const labels = Object.keys(groupLabels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(groupLabels[name])}`)
    .join(', ');
  return `${route}:{${labels}}`;
}

/**
 * A webhook v4 body as Alertmanager would send it for one group: fingerprints and common labels computed,
 * endsAt zeroed for firing alerts, `status` resolved only when every alert is. For tests and benchmarks.
 */
export function buildAlertmanagerMessage(input: {
  groupLabels: Record<string, string>;
  routeMatchers?: string[];
  alerts: AlertmanagerAlertInput[];
  receiver?: string;
  routeLabels?: Record<string, string>;
  truncatedAlerts?: number;
}): z.input<typeof AlertmanagerMessageSchema> {
  const alerts = input.alerts.map((a) => {
    const status = a.status ?? 'firing';
    return {
      status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt,
      endsAt: status === 'resolved' ? (a.endsAt ?? a.startsAt) : '0001-01-01T00:00:00Z',
      generatorURL: a.generatorURL ?? '',
      fingerprint: alertmanagerFingerprint(a.labels),
    };
  });
  const common = (maps: Record<string, string>[]): Record<string, string> => {
    const [first, ...rest] = maps;
    if (!first) return {};
    return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((m) => m[k] === v)));
  };
  return {
    receiver: input.receiver ?? 'fireline',
    status: alerts.every((a) => a.status === 'resolved') ? 'resolved' : 'firing',
    alerts,
    groupLabels: input.groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    routeLabels: input.routeLabels ?? {},
    externalURL: 'http://alertmanager.example.com',
    version: '4',
    groupKey: alertmanagerGroupKey(input.routeMatchers ?? [], input.groupLabels),
    truncatedAlerts: input.truncatedAlerts ?? 0,
  };
}
