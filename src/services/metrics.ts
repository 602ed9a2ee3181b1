import type { IncidentPhase, IncidentRecord } from '../domain/incident';
import { SEVERITIES } from '../domain/severity';
import type { TimelineEvent, TimelineEventType } from '../domain/timeline';
import type {
  AlertRecord,
  AlertStore,
  IncidentMetricsPoint,
  IncidentMetricsRecord,
  IncidentMilestones,
  IncidentStore,
  MetricsStore,
  TimelineStore,
} from '../store/store';
import { invalidField, notFound } from './errors';

/*
 * Milestones of one incident, from the read model (never from Temporal):
 *   impact start  earliest `startsAt` of the incident's alerts, or the declaration when none started earlier
 *   detected      the declaration (`declaredAt`)
 *   reported      the first `notification.sent` or `page.sent`
 *   acknowledged  `acknowledgedAt`
 *   mitigated     the first `alerts.all_resolved` or completed (not interrupted) recover phase; at the latest
 *                 the resolution, since a resolved incident is mitigated
 *   resolved      `resolvedAt`
 * Durations: detect = detected − impact start; acknowledge = acknowledged − detected (what on-call controls);
 * mitigate and resolve = milestone − impact start (what customers felt).
 */

/** The timeline events milestones are read from; everything else is left in the database. */
export const MILESTONE_EVENT_TYPES = [
  'notification.sent',
  'page.sent',
  'alerts.all_resolved',
  'phase.completed',
] as const satisfies readonly TimelineEventType[];

export const GROUP_BY = ['week', 'month', 'severity', 'service', 'runbook'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface DurationStats {
  /** How many incidents reached the milestone. */
  n: number;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface GroupStats {
  count: number;
  /** Not resolved yet. */
  open: number;
  timeToDetect: DurationStats;
  timeToAcknowledge: DurationStats;
  timeToMitigate: DurationStats;
  timeToResolve: DurationStats;
}

export interface MetricsGroup extends GroupStats {
  key: string;
  /** Start of the period (week or month groups). */
  start?: string;
}

export interface MetricsSummary {
  from: string;
  to: string;
  groupBy: GroupBy;
  total: GroupStats;
  groups: MetricsGroup[];
  /** Drills never count in the figures above; here they are, grouped the same way. */
  drills: { total: GroupStats; groups: MetricsGroup[] };
}

export interface PhaseSpan {
  phase: IncidentPhase;
  enteredAt: string;
  completedAt: string | null;
  /** Until completion, or until `now` while the phase runs. */
  durationMs: number;
  interrupted: boolean;
}

export interface IncidentMeasurements {
  incidentId: string;
  milestones: IncidentMilestones;
  durations: Pick<IncidentMetricsRecord, 'timeToDetectMs' | 'timeToAcknowledgeMs' | 'timeToMitigateMs' | 'timeToResolveMs'>;
  phases: PhaseSpan[];
  alerts: AlertRecord[];
}

const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 5 * 366 * DAY_MS;
const DEFAULT_RANGE_MS = 90 * DAY_MS;
const REFRESH_BATCH = 500;
const NO_SERVICE = '(none)';

function ms(text: string): number {
  return Date.parse(text);
}

function between(from: string | null, to: string | null): number | null {
  if (from === null || to === null) return null;
  return Math.max(0, ms(to) - ms(from));
}

function earliest(...values: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  for (const v of values) {
    if (v && (best === null || ms(v) < ms(best))) best = v;
  }
  return best;
}

/** Milestones from the incident row, its milestone events (any order) and its alerts. */
export function milestonesOf(
  incident: IncidentRecord,
  events: readonly TimelineEvent[],
  alerts: readonly AlertRecord[],
): IncidentMilestones {
  const firstOf = (match: (e: TimelineEvent) => boolean) => earliest(...events.filter(match).map((e) => e.at));
  const reportedAt = firstOf((e) => e.type === 'notification.sent' || e.type === 'page.sent');
  const recovered = firstOf((e) => e.type === 'phase.completed' && e.data.phase === 'recover' && e.data.interrupted !== true);
  const cleared = firstOf((e) => e.type === 'alerts.all_resolved');
  return {
    impactStartedAt: earliest(incident.declaredAt, ...alerts.map((a) => a.startsAt))!,
    detectedAt: incident.declaredAt,
    reportedAt,
    acknowledgedAt: incident.acknowledgedAt,
    mitigatedAt: earliest(recovered, cleared) ?? incident.resolvedAt,
    resolvedAt: incident.resolvedAt,
  };
}

export function durationsOf(m: IncidentMilestones): IncidentMeasurements['durations'] {
  return {
    timeToDetectMs: between(m.impactStartedAt, m.detectedAt) ?? 0,
    timeToAcknowledgeMs: between(m.detectedAt, m.acknowledgedAt),
    timeToMitigateMs: between(m.impactStartedAt, m.mitigatedAt),
    timeToResolveMs: between(m.impactStartedAt, m.resolvedAt),
  };
}

/** How long each phase took, from `phase.entered` / `phase.completed`; a running phase counts up to `now`. */
export function phaseSpansOf(events: readonly TimelineEvent[], now: Date): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  for (const e of events) {
    if (e.type === 'phase.entered') {
      spans.push({ phase: e.phase, enteredAt: e.at, completedAt: null, durationMs: 0, interrupted: false });
    } else if (e.type === 'phase.completed') {
      const open = [...spans].reverse().find((s) => s.phase === e.phase && s.completedAt === null);
      if (open) {
        open.completedAt = e.at;
        open.interrupted = e.data.interrupted === true;
      }
    }
  }
  for (const s of spans) s.durationMs = Math.max(0, (s.completedAt ? ms(s.completedAt) : now.getTime()) - ms(s.enteredAt));
  return spans;
}

/**
 * The p-th percentile by linear interpolation between the closest ranks (numpy's default; the median of an
 * even count is the mean of the middle two). Rounded to whole milliseconds.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return Math.round(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (h - lo));
}

function statsOf(values: (number | null)[]): DurationStats {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return { n: present.length, medianMs: percentile(present, 0.5), p90Ms: percentile(present, 0.9) };
}

function groupStats(rows: readonly IncidentMetricsPoint[]): GroupStats {
  return {
    count: rows.length,
    open: rows.filter((r) => r.resolvedAt === null).length,
    timeToDetect: statsOf(rows.map((r) => r.timeToDetectMs)),
    timeToAcknowledge: statsOf(rows.map((r) => r.timeToAcknowledgeMs)),
    timeToMitigate: statsOf(rows.map((r) => r.timeToMitigateMs)),
    timeToResolve: statsOf(rows.map((r) => r.timeToResolveMs)),
  };
}

/** 1970-01-05 was a Monday. */
const FIRST_MONDAY_MS = 4 * DAY_MS;
const WEEK_MS = 7 * DAY_MS;

/** Monday 00:00 UTC of the week holding `t`. */
export function weekStart(t: number): number {
  return Math.floor((t - FIRST_MONDAY_MS) / WEEK_MS) * WEEK_MS + FIRST_MONDAY_MS;
}

/** ISO 8601 week name, e.g. 2026-W09 (the week belongs to the year of its Thursday). */
export function isoWeekKey(t: number): string {
  const monday = weekStart(t);
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / WEEK_MS) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function monthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function monthKey(t: number): string {
  return new Date(t).toISOString().slice(0, 7);
}

interface Period {
  key: string;
  start: number;
}

/** Every week or month overlapping [from, to), so a chart shows quiet periods as zero rather than skipping them. */
function periods(groupBy: 'week' | 'month', from: number, to: number): Period[] {
  const out: Period[] = [];
  if (groupBy === 'week') {
    for (let t = weekStart(from); t < to; t += WEEK_MS) out.push({ key: isoWeekKey(t), start: t });
  } else {
    for (let t = monthStart(from); t < to;) {
      out.push({ key: monthKey(t), start: t });
      const d = new Date(t);
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
  return out;
}

function keyOf(row: IncidentMetricsPoint, groupBy: GroupBy, weekKeys: Map<number, string>): string {
  switch (groupBy) {
    case 'week': {
      const start = weekStart(ms(row.declaredAt));
      let key = weekKeys.get(start);
      if (key === undefined) weekKeys.set(start, (key = isoWeekKey(start)));
      return key;
    }
    case 'month':
      return row.declaredAt.slice(0, 7);
    case 'severity':
      return row.severity;
    case 'service':
      return row.service ?? NO_SERVICE;
    case 'runbook':
      return row.runbookId;
    default: {
      const unknown: never = groupBy;
      throw new Error(`unknown groupBy ${String(unknown)}`);
    }
  }
}

function groupRows(rows: readonly IncidentMetricsPoint[], groupBy: GroupBy, from: number, to: number): MetricsGroup[] {
  const buckets = new Map<string, IncidentMetricsPoint[]>();
  const weekKeys = new Map<number, string>();
  for (const row of rows) {
    const key = keyOf(row, groupBy, weekKeys);
    const bucket = buckets.get(key);
    if (bucket) bucket.push(row);
    else buckets.set(key, [row]);
  }
  if (groupBy === 'week' || groupBy === 'month') {
    return periods(groupBy, from, to).map((p) => ({
      key: p.key,
      start: new Date(p.start).toISOString(),
      ...groupStats(buckets.get(p.key) ?? []),
    }));
  }
  const groups = [...buckets.entries()].map(([key, bucket]) => ({ key, ...groupStats(bucket) }));
  if (groupBy === 'severity') {
    const order = (k: string) => SEVERITIES.indexOf(k as (typeof SEVERITIES)[number]);
    return groups.sort((a, b) => order(a.key) - order(b.key));
  }
  return groups.sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

export interface SummaryQuery {
  from?: string;
  to?: string;
  groupBy: GroupBy;
}

/**
 * Incident metrics for the API and the page. Milestones are cached per incident in `incident_metrics`: a read
 * first recomputes the rows that are missing or whose incident moved on (open incidents only; a closed
 * incident's row is final), then aggregates one row per incident. At 10,000 closed incidents a summary is
 * one staleness scan plus one range read; the first read after an upgrade fills the table once.
 */
export function createMetricsService(deps: { store: AlertStore & IncidentStore & MetricsStore & TimelineStore; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  let refreshing: Promise<number> | null = null;

  async function compute(
    incident: IncidentRecord,
    maxSeq: number,
  ): Promise<{ record: IncidentMetricsRecord; events: TimelineEvent[]; alerts: AlertRecord[] }> {
    const [events, alerts] = await Promise.all([
      deps.store.listTimelineByType(incident.id, MILESTONE_EVENT_TYPES),
      deps.store.listAlerts(incident.id),
    ]);
    const milestones = milestonesOf(incident, events, alerts);
    const record: IncidentMetricsRecord = {
      incidentId: incident.id,
      declaredAt: incident.declaredAt,
      severity: incident.severity,
      service: incident.service,
      runbookId: incident.runbookId,
      drill: incident.drill,
      ...milestones,
      ...durationsOf(milestones),
      final: incident.status === 'closed',
      sourceUpdatedAt: incident.updatedAt,
      sourceSeq: maxSeq,
      computedAt: now().toISOString(),
    };
    return { record, events, alerts };
  }

  async function refreshOnce(): Promise<number> {
    let done = 0;
    const seen = new Set<string>();
    for (;;) {
      const stale = await deps.store.listStaleIncidentMetrics(REFRESH_BATCH);
      // Rows another writer keeps moving would come back at once; each is computed once per refresh.
      const fresh = stale.filter((s) => !seen.has(s.incident.id));
      if (fresh.length === 0) return done;
      const records: IncidentMetricsRecord[] = [];
      for (const { incident, maxSeq } of fresh) {
        seen.add(incident.id);
        records.push((await compute(incident, maxSeq)).record);
      }
      await deps.store.upsertIncidentMetrics(records);
      done += records.length;
      if (stale.length < REFRESH_BATCH) return done;
    }
  }

  /** Brings the cache up to date; concurrent callers share one pass. Returns how many rows were recomputed. */
  function refresh(): Promise<number> {
    refreshing ??= refreshOnce().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  return {
    refresh,

    async summary(q: SummaryQuery): Promise<MetricsSummary> {
      const toMs = q.to ? ms(q.to) : now().getTime();
      const fromMs = q.from ? ms(q.from) : toMs - DEFAULT_RANGE_MS;
      if (fromMs >= toMs) throw invalidField('from', 'must be before to');
      if (toMs - fromMs > MAX_RANGE_MS) throw invalidField('from', 'the range may span at most five years');
      const from = new Date(fromMs).toISOString();
      const to = new Date(toMs).toISOString();
      await refresh();
      const rows = await deps.store.listIncidentMetrics({ from, to });
      const real = rows.filter((r) => !r.drill);
      const drills = rows.filter((r) => r.drill);
      return {
        from,
        to,
        groupBy: q.groupBy,
        total: groupStats(real),
        groups: groupRows(real, q.groupBy, fromMs, toMs),
        drills: { total: groupStats(drills), groups: groupRows(drills, q.groupBy, fromMs, toMs) },
      };
    },

    /** One incident's milestones, durations, phase spans and alerts, fresh from the read model. */
    async incident(id: string): Promise<IncidentMeasurements> {
      const incident = await deps.store.getIncident(id);
      if (!incident) throw notFound(`no incident ${id}`);
      const head = await deps.store.timelineHead(id);
      // Computed afresh and not stored: a GET stays a read; summaries refresh the cache themselves.
      const { record, alerts } = await compute(incident, head?.maxSeq ?? 0);
      const phaseEvents = await deps.store.listTimelineByType(id, ['phase.entered', 'phase.completed']);
      const { incidentId, impactStartedAt, detectedAt, reportedAt, acknowledgedAt, mitigatedAt, resolvedAt } = record;
      return {
        incidentId,
        milestones: { impactStartedAt, detectedAt, reportedAt, acknowledgedAt, mitigatedAt, resolvedAt },
        durations: durationsOf(record),
        phases: phaseSpansOf(phaseEvents, now()),
        alerts,
      };
    },
  };
}

export type MetricsService = ReturnType<typeof createMetricsService>;
