import { z } from 'zod';
import type { AlertEvent, AlertSource } from '../domain/alert';

/** More labels than this on one alert is a flood, not an alert. */
export const MAX_LABELS = 1000;
export const MAX_LABEL_NAME = 1024;
export const MAX_LABEL_VALUE = 64 * 1024;
/** Summaries are one line on a page, a Slack message, a timeline row (PagerDuty allows 1024). */
export const MAX_SUMMARY = 1024;

/** label/annotation maps: string → string, at most MAX_LABELS entries (inbound: unknown keys are the data). */
export const LabelMapSchema = z
  .record(z.string().min(1).max(MAX_LABEL_NAME), z.string().max(MAX_LABEL_VALUE))
  .refine((map) => Object.keys(map).length <= MAX_LABELS, { message: `at most ${MAX_LABELS} entries are accepted` });

/** RFC 3339 as Go writes it: any number of fractional digits (or none), `Z` or an offset. */
const Rfc3339 = z.iso.datetime({ offset: true });
export function isIsoTime(text: string): boolean {
  return Rfc3339.safeParse(text).success && Number.isFinite(Date.parse(text));
}
export const IsoTimeSchema = z
  .string()
  .max(64)
  .refine(isIsoTime, { message: 'expected an RFC 3339 date-time such as 2026-04-21T08:14:07.512Z' });

/** One instant, one spelling: UTC, milliseconds (the read model compares these as text). */
export function toUtcIso(text: string): string {
  return new Date(text).toISOString();
}

/** Go's zero time (`0001-01-01T00:00:00Z`) means "not ended". */
export function isZeroTime(text: string | undefined): boolean {
  return text === undefined || new Date(text).getUTCFullYear() <= 1;
}

/** One line, trimmed, at most MAX_SUMMARY characters. */
export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_SUMMARY ? `${flat.slice(0, MAX_SUMMARY - 1)}…` : flat;
}

/** The line an alert is known by: its summary annotation, else a description, else the alert name. */
export function summaryOf(labels: Record<string, string>, annotations: Record<string, string>): string {
  const candidates = [annotations.summary, annotations.title, annotations.message, annotations.description, labels.alertname];
  for (const candidate of candidates) {
    if (candidate && candidate.trim()) return oneLine(candidate);
  }
  return 'Alert';
}

/** Copies a string map onto a prototype-less object, so no key can ever mean anything but data. */
export function cleanMap(map: Record<string, string>, keep: (name: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    if (keep(k)) out[k] = v;
  }
  return out;
}

/** An alert as Alertmanager v4 and Grafana v1 send it, after schema checks. */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint: string;
}

/** The normalised event: deterministic in the input, so identical (HA duplicate) deliveries give equal events. */
export function webhookAlertEvent(source: AlertSource, integration: string, groupKey: string, alert: WebhookAlert): AlertEvent {
  const resolved = alert.status === 'resolved';
  return {
    source,
    integration,
    groupKey,
    fingerprint: alert.fingerprint,
    status: alert.status,
    startsAt: toUtcIso(alert.startsAt),
    endsAt: resolved && !isZeroTime(alert.endsAt) ? toUtcIso(alert.endsAt as string) : null,
    labels: alert.labels,
    annotations: alert.annotations,
    summary: summaryOf(alert.labels, alert.annotations),
    senderSeverity: alert.labels.severity?.trim() ? alert.labels.severity.trim() : null,
    generatorUrl: alert.generatorURL ? alert.generatorURL : null,
  };
}
