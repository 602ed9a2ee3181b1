// Milestones and the metrics summary: incidents spread over weeks (seeded into the read model the way the
// workflow writes it, with known durations), drills reported apart, grouping by week, month, severity, service
// and runbook; plus one real incident through the workflow for milestones read from real timeline events.
import type { MetricsSummary, IncidentMeasurements, GroupStats } from '../../src/services/metrics';
import { isoWeekKey, percentile } from '../../src/services/metrics';
import {
  declareIncident,
  expectError,
  expectFieldError,
  startApiHarness,
  timelineOf,
  waitForOpenDecision,
  waitForStatus,
} from '../support/api';
import type { ApiHarness } from '../support/api';
import { DAY, MINUTE, seedIncident } from '../support/browser';
import type { SeededIncident } from '../support/browser';

let api: ApiHarness;
/** Monday 2025-03-03 09:00 UTC, in ISO week 2025-W10. */
const BASE = Date.parse('2025-03-03T09:00:00.000Z');
const RANGE = 'from=2025-03-03T00:00:00Z&to=2025-04-07T00:00:00Z';
const seeded: SeededIncident[] = [];

/*
 * Ten real incidents, i = 1..10, three per week from W10 (the tenth in W13):
 *   acknowledged after i minutes; alerts started 2 minutes before the declaration when i is odd;
 *   alerts all resolved after 5·i minutes for i ≤ 8 (else mitigated by the recover phase at resolution);
 *   resolved after 10·i minutes; closed an hour later.
 * Plus one open incident in W13 (not acknowledged), two drills in W11 and one incident outside the range.
 */
beforeAll(async () => {
  api = await startApiHarness({ name: 'api-metrics' });
  for (let i = 1; i <= 10; i++) {
    const declaredAt = new Date(BASE + Math.floor((i - 1) / 3) * 7 * DAY + ((i - 1) % 3) * DAY);
    seeded.push(
      await seedIncident(api.store, {
        title: `Seeded incident ${i}`,
        declaredAt,
        severity: i <= 4 ? 'SEV1' : 'SEV2',
        service: i % 2 ? 'checkout' : 'payments',
        runbook: i <= 5 ? 'flow' : 'hold',
        alertLeadMs: i % 2 ? 2 * MINUTE : undefined,
        reportMs: 30_000,
        ackMs: i * MINUTE,
        clearMs: i <= 8 ? 5 * i * MINUTE : undefined,
        resolveMs: 10 * i * MINUTE,
        closeMs: 10 * i * MINUTE + 60 * MINUTE,
      }),
    );
  }
  seeded.push(
    await seedIncident(api.store, {
      title: 'Seeded open incident',
      declaredAt: new Date(BASE + 22 * DAY),
      severity: 'SEV2',
      service: 'search',
      runbook: 'flow',
    }),
  );
  for (const d of [0, 1]) {
    seeded.push(
      await seedIncident(api.store, {
        title: `Seeded drill ${d}`,
        declaredAt: new Date(BASE + 8 * DAY + d * DAY),
        drill: true,
        severity: 'SEV1',
        service: 'orders-db',
        runbook: 'flow',
        ackMs: 100 * MINUTE,
        resolveMs: 200 * MINUTE,
        closeMs: 300 * MINUTE,
      }),
    );
  }
  seeded.push(
    await seedIncident(api.store, {
      title: 'Seeded long before',
      declaredAt: new Date(BASE - 30 * DAY),
      ackMs: MINUTE,
      resolveMs: 2 * MINUTE,
      closeMs: 3 * MINUTE,
    }),
  );
});
afterAll(async () => {
  await api?.stop();
});

const min = (n: number) => n * MINUTE;

async function summary(query: string): Promise<MetricsSummary> {
  const res = await api.get<MetricsSummary>(`/api/v1/metrics/summary?${query}`, { as: 'viewer' });
  expect({ status: res.status, body: res.text }).toMatchObject({ status: 200 });
  return res.body;
}

test('percentiles interpolate between ranks; ISO weeks start on Monday and belong to the year of their Thursday', () => {
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(6); // 5.5 rounded
  expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9)).toBe(91);
  expect(percentile([7], 0.9)).toBe(7);
  expect(percentile([], 0.5)).toBeNull();
  expect(isoWeekKey(Date.parse('2025-03-03T00:00:00Z'))).toBe('2025-W10');
  expect(isoWeekKey(Date.parse('2025-03-09T23:59:59Z'))).toBe('2025-W10');
  expect(isoWeekKey(Date.parse('2024-12-30T12:00:00Z'))).toBe('2025-W01');
  expect(isoWeekKey(Date.parse('2027-01-01T12:00:00Z'))).toBe('2026-W53');
});

test('summary by week: counts, medians and p90 of each duration; quiet weeks are zero; drills apart', async () => {
  const s = await summary(`${RANGE}&groupBy=week`);
  expect(s).toMatchObject({ from: '2025-03-03T00:00:00.000Z', to: '2025-04-07T00:00:00.000Z', groupBy: 'week' });
  expect(s.total).toEqual<GroupStats>({
    count: 11,
    open: 1,
    // 0 ×6 (no earlier alert) and 2 min ×5.
    timeToDetect: { n: 11, medianMs: 0, p90Ms: min(2) },
    // 1..10 minutes.
    timeToAcknowledge: { n: 10, medianMs: min(5.5), p90Ms: min(9.1) },
    // 7, 10, 17, 20, 27, 30, 37, 40 (alerts cleared, + 2 min lead when odd), then 92 and 100 (recover done at resolution).
    timeToMitigate: { n: 10, medianMs: min(28.5), p90Ms: min(92.8) },
    // 12, 20, 32, 40, 52, 60, 72, 80, 92, 100 from impact start.
    timeToResolve: { n: 10, medianMs: min(56), p90Ms: min(92.8) },
  });
  expect(s.groups.map((g) => [g.key, g.start, g.count, g.open])).toEqual([
    ['2025-W10', '2025-03-03T00:00:00.000Z', 3, 0],
    ['2025-W11', '2025-03-10T00:00:00.000Z', 3, 0],
    ['2025-W12', '2025-03-17T00:00:00.000Z', 3, 0],
    ['2025-W13', '2025-03-24T00:00:00.000Z', 2, 1],
    ['2025-W14', '2025-03-31T00:00:00.000Z', 0, 0],
  ]);
  expect(s.groups[0]!.timeToAcknowledge).toEqual({ n: 3, medianMs: min(2), p90Ms: min(2.8) });
  expect(s.groups[3]!.timeToAcknowledge).toEqual({ n: 1, medianMs: min(10), p90Ms: min(10) });
  expect(s.groups[4]!.timeToResolve).toEqual({ n: 0, medianMs: null, p90Ms: null });

  // Drills: not in the figures above, reported apart in the same shape.
  expect(s.drills.total).toMatchObject({
    count: 2,
    open: 0,
    timeToAcknowledge: { n: 2, medianMs: min(100), p90Ms: min(100) },
    timeToResolve: { n: 2, medianMs: min(200) },
  });
  expect(s.drills.groups.map((g) => [g.key, g.count])).toEqual([
    ['2025-W10', 0],
    ['2025-W11', 2],
    ['2025-W12', 0],
    ['2025-W13', 0],
    ['2025-W14', 0],
  ]);
});

test('summary by month, severity, service and runbook', async () => {
  const month = await summary(`${RANGE}&groupBy=month`);
  expect(month.groups.map((g) => [g.key, g.count])).toEqual([
    ['2025-03', 11],
    ['2025-04', 0],
  ]);
  expect(month.groups[0]!.timeToResolve).toEqual(month.total.timeToResolve);

  const severity = await summary(`${RANGE}&groupBy=severity`);
  expect(severity.groups.map((g) => [g.key, g.count, g.timeToAcknowledge.medianMs])).toEqual([
    ['SEV1', 4, min(2.5)],
    ['SEV2', 7, min(7.5)],
  ]);
  expect(severity.drills.groups.map((g) => [g.key, g.count])).toEqual([['SEV1', 2]]);

  const service = await summary(`${RANGE}&groupBy=service`);
  // Most incidents first, ties by name.
  expect(service.groups.map((g) => [g.key, g.count])).toEqual([
    ['checkout', 5],
    ['payments', 5],
    ['search', 1],
  ]);
  expect(service.groups[0]!.timeToResolve).toEqual({ n: 5, medianMs: min(52), p90Ms: min(84) });

  const runbook = await summary(`${RANGE}&groupBy=runbook`);
  expect(runbook.groups.map((g) => [g.key, g.count, g.open])).toEqual([
    ['flow', 6, 1],
    ['hold', 5, 0],
  ]);

  // The default range is the last 90 days, which holds none of these.
  const recent = await summary('groupBy=severity');
  expect(recent.total.count).toBe(0);
});

test('cached milestones follow open incidents and stay put once closed', async () => {
  const open = seeded.find((s) => s.incident.title === 'Seeded open incident')!;
  const before = (await summary(`${RANGE}&groupBy=runbook`)).groups.find((g) => g.key === 'flow')!;
  expect(before.timeToAcknowledge.n).toBe(5);
  const closedRow = await api.store.getIncidentMetrics(seeded[0]!.incident.id);
  expect(closedRow).toMatchObject({
    final: true,
    timeToAcknowledgeMs: min(1),
    timeToResolveMs: min(12),
    reportedAt: new Date(BASE + 30_000).toISOString(),
  });
  expect((await api.store.getIncidentMetrics(open.incident.id))?.final).toBe(false);

  // The workflow acknowledges the open incident: a new timeline event and a patched row.
  const ackAt = new Date(Date.parse(open.incident.declaredAt) + 4 * MINUTE).toISOString();
  await api.store.appendTimeline([
    {
      id: `${open.incident.id}:99`,
      incidentId: open.incident.id,
      seq: 99,
      at: ackAt,
      type: 'incident.acknowledged',
      phase: 'decide',
      actor: { id: 'x', name: 'X', role: 'responder' },
      summary: 'Acknowledged',
      data: {},
    },
  ]);
  await api.store.updateIncident(open.incident.id, { status: 'acknowledged', acknowledgedAt: ackAt }, ackAt);
  const after = (await summary(`${RANGE}&groupBy=runbook`)).groups.find((g) => g.key === 'flow')!;
  expect(after.timeToAcknowledge.n).toBe(6);
  expect(await api.store.getIncidentMetrics(open.incident.id)).toMatchObject({
    acknowledgedAt: ackAt,
    timeToAcknowledgeMs: min(4),
    sourceSeq: 99,
  });
});

test('a real incident: milestones and phase spans from the timeline the workflow wrote', async () => {
  const incident = await declareIncident(api, { title: 'Orders DB failover', runbook: 'flow' });
  const id = incident.id;
  await waitForOpenDecision(api, id, 'strategy');
  expect((await api.post(`/api/v1/incidents/${id}/acknowledge`, { as: 'responder' })).status).toBe(200);

  const live = await api.get<IncidentMeasurements>(`/api/v1/incidents/${id}/metrics`, { as: 'viewer' });
  expect(live.status).toBe(200);
  expect(live.body.milestones.mitigatedAt).toBeNull();
  expect(live.body.phases.map((p) => [p.phase, p.completedAt === null])).toEqual([
    ['detect', false],
    ['report', false],
    ['decide', true],
  ]);

  expect((await api.post(`/api/v1/incidents/${id}/decisions/strategy`, { as: 'commander', body: { option: 'failover' } })).status).toBe(
    200,
  );
  const closed = await waitForStatus(api, id, 'closed');
  const { events } = await timelineOf(api, id);
  const first = (type: string, match: (e: (typeof events)[number]) => boolean = () => true) =>
    events.find((e) => e.type === type && match(e))?.at;

  const res = await api.get<IncidentMeasurements>(`/api/v1/incidents/${id}/metrics`, { as: 'viewer' });
  const m = res.body;
  expect(m.milestones).toEqual({
    impactStartedAt: closed.incident.declaredAt,
    detectedAt: closed.incident.declaredAt,
    reportedAt: first('notification.sent'),
    acknowledgedAt: closed.incident.acknowledgedAt,
    mitigatedAt: first('phase.completed', (e) => e.phase === 'recover'),
    resolvedAt: closed.incident.resolvedAt,
  });
  const gap = (a: string | null | undefined, b: string | null | undefined) => Date.parse(b!) - Date.parse(a!);
  expect(m.durations).toEqual({
    timeToDetectMs: 0,
    timeToAcknowledgeMs: gap(closed.incident.declaredAt, closed.incident.acknowledgedAt),
    timeToMitigateMs: gap(closed.incident.declaredAt, m.milestones.mitigatedAt),
    timeToResolveMs: gap(closed.incident.declaredAt, closed.incident.resolvedAt),
  });
  expect(m.phases.map((p) => p.phase)).toEqual(['detect', 'report', 'decide', 'execute', 'recover', 'retrospective']);
  for (const p of m.phases) {
    expect(p.completedAt).not.toBeNull();
    expect(p.durationMs).toBe(gap(p.enteredAt, p.completedAt));
  }
  expect(m.alerts).toEqual([]);

  const now = await summary(`from=${new Date(Date.now() - DAY).toISOString()}&groupBy=runbook`);
  expect(await api.store.getIncidentMetrics(id)).toMatchObject({ final: true, ...m.milestones, ...m.durations });
  expect(now.groups.find((g) => g.key === 'flow')).toMatchObject({
    count: 1,
    timeToAcknowledge: { n: 1, medianMs: m.durations.timeToAcknowledgeMs },
  });
  expectError(await api.get('/api/v1/incidents/INC-999999999999/metrics', { as: 'viewer' }), 404, 'not_found');
});

test('bad queries are 400 naming the field; the summary needs a token', async () => {
  expectFieldError(await api.get('/api/v1/metrics/summary?groupBy=year', { as: 'viewer' }), 'groupBy');
  expectFieldError(await api.get('/api/v1/metrics/summary?from=yesterday', { as: 'viewer' }), 'from');
  expectFieldError(await api.get('/api/v1/metrics/summary?from=2025-03-10T00:00:00Z&to=2025-03-01T00:00:00Z', { as: 'viewer' }), 'from');
  expectFieldError(await api.get('/api/v1/metrics/summary?from=2015-01-01T00:00:00Z&to=2025-03-01T00:00:00Z', { as: 'viewer' }), 'from');
  expectFieldError(await api.get('/api/v1/metrics/summary?drills=false', { as: 'viewer' }), 'drills');
  expectError(await api.get('/api/v1/metrics/summary'), 401, 'unauthorized');
  // Offsets are read as the instants they name.
  const shifted = await summary('from=2025-03-03T01:00:00%2B01:00&to=2025-03-10T01:00:00%2B01:00&groupBy=week');
  expect(shifted.from).toBe('2025-03-03T00:00:00.000Z');
  expect(shifted.total.count).toBe(3);
});
