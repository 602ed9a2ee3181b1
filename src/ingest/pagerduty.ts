import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AlertEvent, GroupAction } from '../domain/alert';
import { issuesFromZod, isPlainObject } from './issues';
import type { Parsed, PayloadIssue } from './issues';
import { sha256Hex } from './keys';
import { isIsoTime, MAX_SUMMARY, oneLine, toUtcIso } from './schema';

/** PagerDuty Events API v2 (docs/reference/integrations.md §3): the limits PagerDuty itself enforces. */
export const MAX_DEDUP_KEY = 255;
export const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export const PAGERDUTY_ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;

/** Custom details become labels (for routing and silences) only when small and simply named. */
const MAX_DETAIL_LABELS = 100;
const MAX_DETAIL_LABEL_VALUE = 256;
const DETAIL_LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_JSON_ANNOTATION = 16 * 1024;

/** `2015-07-17T08:42:58.315+0000` (PagerDuty's own examples) → with the colon RFC 3339 wants. */
function normaliseOffset(text: string): string {
  return text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}

const TimestampSchema = z
  .string()
  .max(64)
  .transform(normaliseOffset)
  .refine(isIsoTime, { message: 'expected an ISO 8601 date-time such as 2026-04-21T09:02:45.118Z' });

const OptionalText = z.string().max(1024).optional();

export const PagerDutyPayloadSchema = z.object({
  summary: z.string().trim().min(1, 'must not be blank').max(MAX_SUMMARY, `must be at most ${MAX_SUMMARY} characters`),
  source: z.string().trim().min(1, 'must not be blank').max(1024),
  severity: z.enum(PAGERDUTY_SEVERITIES, { error: `expected one of ${PAGERDUTY_SEVERITIES.join(', ')}` }),
  timestamp: TimestampSchema.optional(),
  component: OptionalText,
  group: OptionalText,
  class: OptionalText,
  custom_details: z.unknown().optional(),
});

const LinkSchema = z.object({ href: z.string().min(1).max(4096), text: z.string().max(1024).optional() });
const ImageSchema = z.object({
  src: z.string().min(1).max(4096),
  href: z.string().max(4096).optional(),
  alt: z.string().max(1024).optional(),
});

export const PagerDutyEventSchema = z.object({
  routing_key: z.string().min(1).max(1024),
  event_action: z.enum(PAGERDUTY_ACTIONS, { error: `expected one of ${PAGERDUTY_ACTIONS.join(', ')}` }),
  dedup_key: z.string().max(MAX_DEDUP_KEY, `must be at most ${MAX_DEDUP_KEY} characters`).optional(),
  payload: z.unknown().optional(),
  images: z.array(ImageSchema).max(100).optional(),
  links: z.array(LinkSchema).max(100).optional(),
  client: OptionalText,
  client_url: z.string().max(4096).optional(),
});

export type PagerDutyEvent =
  | {
      action: 'trigger';
      dedupKey: string;
      /** True when the sender gave no dedup_key and Fireline made one up (it is returned in the response). */
      generated: boolean;
      alert: AlertEvent;
    }
  | { action: 'acknowledge' | 'resolve'; dedupKey: string; groupAction: GroupAction };

/**
 * The incident a dedup_key names, scoped by the routing key (follow-ups count only with the same key, §3.2):
 * sha256 hex of `<routing_key>\n<dedup_key>`. Routing keys never contain a line break (the loader refuses
 * them), so the split is unambiguous.
 */
export function pagerDutyGroupKey(routingKey: string, dedupKey: string): string {
  return sha256Hex(`${routingKey}\n${dedupKey}`);
}

/** The routing key, if the body has a usable one: it is the credential, checked before anything else. */
export function routingKeyOf(body: unknown): string | undefined {
  if (!isPlainObject(body)) return undefined;
  const key = body.routing_key;
  return typeof key === 'string' && key.length > 0 && key.length <= 1024 ? key : undefined;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function jsonAnnotation(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text.length > MAX_JSON_ANNOTATION ? `${text.slice(0, MAX_JSON_ANNOTATION - 1)}…` : text;
}

type Payload = z.infer<typeof PagerDutyPayloadSchema>;

function labelsOf(payload: Payload): Record<string, string> {
  const labels: Record<string, string> = { source: payload.source, severity: payload.severity };
  if (payload.component) labels.component = payload.component;
  if (payload.group) labels.group = payload.group;
  if (payload.class) labels.class = payload.class;
  if (isPlainObject(payload.custom_details)) {
    let added = 0;
    for (const [name, value] of Object.entries(payload.custom_details)) {
      if (added >= MAX_DETAIL_LABELS) break;
      const text = scalarText(value);
      if (text === undefined || text.length > MAX_DETAIL_LABEL_VALUE || !DETAIL_LABEL_NAME.test(name) || labels[name] !== undefined)
        continue;
      labels[name] = text;
      added++;
    }
  }
  return labels;
}

function prefixed(prefix: string, issues: PayloadIssue[]): PayloadIssue[] {
  return issues.map((i) => ({ path: i.path === '(body)' ? prefix : `${prefix}.${i.path}`, message: i.message }));
}

/**
 * An Events API v2 body → a trigger (an alert) or a follow-up on the incident its dedup_key named. The caller
 * has already authenticated `routingKey`.
 */
export function parsePagerDutyEvent(
  body: unknown,
  ctx: { integration: string; routingKey: string; now: Date; newDedupKey?: () => string },
): Parsed<PagerDutyEvent> {
  const parsed = PagerDutyEventSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error) };
  const event = parsed.data;
  const at = ctx.now.toISOString();
  const given = event.dedup_key && event.dedup_key.length > 0 ? event.dedup_key : undefined;

  if (event.event_action !== 'trigger') {
    if (!given) return { ok: false, issues: [{ path: 'dedup_key', message: `is required for ${event.event_action}` }] };
    return {
      ok: true,
      value: {
        action: event.event_action,
        dedupKey: given,
        groupAction: {
          source: 'pagerduty',
          integration: ctx.integration,
          groupKey: pagerDutyGroupKey(ctx.routingKey, given),
          action: event.event_action,
          at,
        },
      },
    };
  }

  if (event.payload === undefined) return { ok: false, issues: [{ path: 'payload', message: 'is required for trigger' }] };
  const payloadResult = PagerDutyPayloadSchema.safeParse(event.payload);
  if (!payloadResult.success) return { ok: false, issues: prefixed('payload', issuesFromZod(payloadResult.error)) };
  const payload = payloadResult.data;

  const dedupKey = given ?? (ctx.newDedupKey ?? randomUUID)();
  const groupKey = pagerDutyGroupKey(ctx.routingKey, dedupKey);
  const annotations: Record<string, string> = { summary: payload.summary };
  if (event.client) annotations.client = event.client;
  if (event.client_url) annotations.client_url = event.client_url;
  const details = jsonAnnotation(payload.custom_details);
  if (details) annotations.custom_details = details;
  const links = jsonAnnotation(event.links?.length ? event.links : undefined);
  if (links) annotations.links = links;

  const alert: AlertEvent = {
    source: 'pagerduty',
    integration: ctx.integration,
    groupKey,
    // One alert per dedup_key: repeated triggers append to it (§3.2).
    fingerprint: groupKey.slice(0, 16),
    status: 'firing',
    startsAt: payload.timestamp ? toUtcIso(payload.timestamp) : at,
    endsAt: null,
    labels: labelsOf(payload),
    annotations,
    summary: oneLine(payload.summary),
    senderSeverity: payload.severity,
    generatorUrl: event.client_url || event.links?.[0]?.href || null,
  };
  return { ok: true, value: { action: 'trigger', dedupKey, generated: given === undefined, alert } };
}

/** §3.3 response bodies, byte for byte in key order. */
export function pagerDutySuccess(dedupKey: string): { status: 'success'; message: 'Event processed'; dedup_key: string } {
  return { status: 'success', message: 'Event processed', dedup_key: dedupKey };
}

export function pagerDutyInvalid(errors: string[]): { status: 'invalid event'; message: 'Event object is invalid'; errors: string[] } {
  return { status: 'invalid event', message: 'Event object is invalid', errors };
}
