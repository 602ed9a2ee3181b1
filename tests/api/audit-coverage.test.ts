// Every mutating route of the real app's router stack is in the table below with the audit action it writes (or
// in the short allow-list, with the reason it writes none), so a new route without audit fails here. Then a
// representative set is called through HTTP and each call must leave an entry with its actor, action, target and the
// request id the response carried.
import type { Express } from 'express';
import { createApp } from '../../src/api/app';
import { verifyAuditChain } from '../../src/audit/verify';
import type { AuditRecord } from '../../src/store/store';
import { declareIncident, startApiHarness, TOKEN_NAMES, waitForOpenDecision } from '../support/api';
import type { ApiHarness } from '../support/api';

/** route → the audit action it writes, successful or refused. */
const AUDITED: Record<string, string> = {
  'POST /api/v1/session': 'session.sign-in',
  'DELETE /api/v1/session': 'session.sign-out',
  'POST /api/v1/incidents': 'incident.declare',
  'POST /api/v1/incidents/:id/acknowledge': 'incident.acknowledge',
  'POST /api/v1/incidents/:id/escalate': 'incident.escalate',
  'POST /api/v1/incidents/:id/resolve': 'incident.resolve',
  'POST /api/v1/incidents/:id/notes': 'incident.note',
  'POST /api/v1/incidents/:id/severity': 'incident.severity',
  'POST /api/v1/incidents/:id/decisions/:stepId': 'incident.decide',
  'POST /api/v1/incidents/:id/tasks/:stepId/complete': 'incident.task.complete',
  'POST /api/v1/incidents/:id/events/:name': 'incident.event',
  // Driven with its audit checked in tests/api/postmortems.test.ts (it needs a drafted post-mortem).
  'PUT /api/v1/incidents/:id/postmortem': 'postmortem.edit',
  // Driven with its audit checked in tests/api/oncall.test.ts (it needs a config/oncall.yaml).
  'POST /api/v1/oncall/:schedule/overrides': 'oncall.override.create',
  'DELETE /api/v1/oncall/:schedule/overrides/:id': 'oncall.override.delete',
  'POST /api/v1/silences': 'silence.create',
  'DELETE /api/v1/silences/:id': 'silence.expire',
  'POST /api/v1/tokens': 'token.create',
  'DELETE /api/v1/tokens/:id': 'token.revoke',
};

/** Mutating methods that change nothing, each with why. */
const NOT_AUDITED: Record<string, string> = {
  'POST /api/v1/runbooks/validate': 'checks the posted runbook text and answers its problems; stores nothing',
  'POST /codec/{*path}': 'the codec server seals or opens the payloads it is sent and answers them; stores and changes nothing',
};

/** The machine doors: alert receivers and Slack, authenticated by integration credentials and signatures. */
const MACHINE_DOORS = [/^\/api\/v1\/alerts\//, /^\/v2\//, /^\/slack\//];

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

interface Layer {
  rawPath?: string | string[];
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path` of every route in the stack, mount paths joined (express 5 keeps them as `rawPath`). */
function mutatingRoutes(stack: Layer[], prefix = ''): string[] {
  const join = (a: string, b: string) => (a + (b === '/' ? '' : b)).replace(/\/+/g, '/') || '/';
  return stack.flatMap((layer) => {
    if (layer.route) {
      const paths = ([] as string[]).concat(layer.route.path);
      return paths.flatMap((p) =>
        Object.keys(layer.route!.methods)
          .filter((m) => MUTATING.has(m) && layer.route!.methods[m])
          .map((m) => `${m.toUpperCase()} ${join(prefix, p)}`),
      );
    }
    if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === 'string' ? layer.rawPath : '/';
      return mutatingRoutes(layer.handle.stack, join(prefix, mount));
    }
    return [];
  });
}

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'audit-coverage' });
});
afterAll(async () => {
  await api?.stop();
});

test('every mutating route writes audit or is allowed not to, with a reason', () => {
  const app = createApp({ ...api.deps, slack: undefined }) as Express & { router: { stack: Layer[] } };
  const routes = [...new Set(mutatingRoutes(app.router.stack))];
  const human = routes.filter((r) => !MACHINE_DOORS.some((door) => door.test(r.split(' ')[1]!)));
  // The walk is not vacuous: it sees the receivers it leaves out, and the routes it checks.
  expect(routes).toEqual(expect.arrayContaining(['POST /api/v1/alerts/alertmanager', 'POST /v2/enqueue']));
  expect(human.length).toBeGreaterThan(15);
  const missing = human.filter((r) => !(r in AUDITED) && !(r in NOT_AUDITED));
  expect(missing).toEqual([]);
  // No stale rows: everything in the tables is still a route.
  expect([...Object.keys(AUDITED), ...Object.keys(NOT_AUDITED)].filter((r) => !human.includes(r))).toEqual([]);
});

describe('calling a route writes its entry: actor, action, target, request id, what changed', () => {
  let n = 0;
  async function call(
    method: string,
    path: string,
    opts: { as?: 'admin' | 'commander' | 'responder'; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; requestId: string; entry: AuditRecord | undefined; text: string; headers: Headers }> {
    const requestId = `coverage-${++n}`;
    const res = await api.request(method, path, { ...opts, headers: { 'x-request-id': requestId, ...opts.headers } });
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const entries = await api.store.listAudit({ limit: 20 });
    return { status: res.status, requestId, entry: entries.find((e) => e.requestId === requestId), text: res.text, headers: res.headers };
  }

  const actorOf = (role: 'admin' | 'commander' | 'responder') => ({
    id: `token:${api.tokenIds[role]}`,
    name: TOKEN_NAMES[role],
    role,
  });

  test('the incident routes, accepted or refused', async () => {
    const declared = await call('POST', '/api/v1/incidents', { as: 'commander', body: { title: 'Checkout 500s', runbook: 'hold' } });
    expect(declared.status).toBe(201);
    const id = (JSON.parse(declared.text) as { incident: { id: string } }).incident.id;
    expect(declared.entry).toMatchObject({
      action: AUDITED['POST /api/v1/incidents'],
      actor: actorOf('commander'),
      incidentId: id,
      method: 'POST',
      // baseUrl + path, as every API entry has it: the router's own root is `/`.
      path: '/api/v1/incidents/',
      outcome: 'ok',
      details: { runbook: 'hold', severity: 'SEV2' },
    });
    await waitForOpenDecision(api, id, 'go-ahead');

    const steps: [string, string, 'commander' | 'responder', unknown][] = [
      ['POST /api/v1/incidents/:id/acknowledge', `/api/v1/incidents/${id}/acknowledge`, 'responder', {}],
      ['POST /api/v1/incidents/:id/notes', `/api/v1/incidents/${id}/notes`, 'responder', { text: 'Looking at the gateway' }],
      ['POST /api/v1/incidents/:id/severity', `/api/v1/incidents/${id}/severity`, 'commander', { severity: 'SEV1', reason: 'worse' }],
      ['POST /api/v1/incidents/:id/escalate', `/api/v1/incidents/${id}/escalate`, 'responder', { reason: 'need DBA' }],
      ['POST /api/v1/incidents/:id/decisions/:stepId', `/api/v1/incidents/${id}/decisions/go-ahead`, 'commander', { option: 'proceed' }],
      // No such task or event in this runbook: the refusal is audited all the same.
      ['POST /api/v1/incidents/:id/tasks/:stepId/complete', `/api/v1/incidents/${id}/tasks/no-such-task/complete`, 'responder', {}],
      ['POST /api/v1/incidents/:id/events/:name', `/api/v1/incidents/${id}/events/no-such-event`, 'responder', { data: {} }],
      ['POST /api/v1/incidents/:id/resolve', `/api/v1/incidents/${id}/resolve`, 'commander', { summary: 'gateway rolled back' }],
    ];
    for (const [route, path, as, body] of steps) {
      const res = await call('POST', path, { as, body });
      expect({ route, status: res.status, entry: res.entry }).toMatchObject({
        route,
        entry: { action: AUDITED[route], actor: actorOf(as), incidentId: id, path, outcome: res.status < 300 ? 'ok' : 'rejected' },
      });
    }
    const severity = (await api.store.listAudit({ incidentId: id, action: 'incident.severity', limit: 1 }))[0];
    expect(severity?.details).toEqual({ severity: 'SEV1', reason: 'worse' });
  });

  test('silences', async () => {
    const created = await call('POST', '/api/v1/silences', {
      as: 'admin',
      body: {
        matchers: [{ name: 'service', value: 'orders' }],
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        comment: 'coverage',
      },
    });
    expect(created.status).toBe(201);
    const silenceId = (JSON.parse(created.text) as { silence: { id: string } }).silence.id;
    expect(created.entry).toMatchObject({ action: 'silence.create', actor: actorOf('admin'), outcome: 'ok' });
    const expired = await call('DELETE', `/api/v1/silences/${silenceId}`, { as: 'admin' });
    expect(expired.entry).toMatchObject({ action: 'silence.expire', actor: actorOf('admin'), outcome: 'ok' });
  });

  test('making and revoking a token, without the token in the entry', async () => {
    const created = await call('POST', '/api/v1/tokens', { as: 'admin', body: { name: 'audit coverage', role: 'viewer' } });
    expect(created.status).toBe(201);
    const { token, record } = JSON.parse(created.text) as { token: string; record: { id: string } };
    expect(created.entry).toMatchObject({
      action: 'token.create',
      actor: actorOf('admin'),
      details: { tokenId: record.id, role: 'viewer', name: 'audit coverage', via: 'api' },
    });
    expect(JSON.stringify(created.entry)).not.toContain(token);
    const revoked = await call('DELETE', `/api/v1/tokens/${record.id}`, { as: 'admin' });
    expect(revoked.entry).toMatchObject({ action: 'token.revoke', actor: actorOf('admin'), details: { tokenId: record.id } });
  });

  test('signing the page in and out, without the token or the session id in the entry', async () => {
    const signIn = await call('POST', '/api/v1/session', { body: { token: api.tokens.responder } });
    expect(signIn.status).toBe(201);
    expect(signIn.entry).toMatchObject({
      action: 'session.sign-in',
      actor: actorOf('responder'),
      path: '/api/v1/session/',
      details: { tokenId: api.tokenIds.responder },
    });
    const cookies = signIn.headers.getSetCookie().map((c) => c.split(';')[0]!);
    const session = cookies.find((c) => c.startsWith('fireline_session='))!;
    const csrf = decodeURIComponent(cookies.find((c) => c.startsWith('fireline_csrf='))!.split('=')[1]!);
    const signOut = await call('DELETE', '/api/v1/session', { headers: { cookie: cookies.join('; '), 'x-fireline-csrf': csrf } });
    expect(signOut.status).toBe(204);
    expect(signOut.entry).toMatchObject({ action: 'session.sign-out', actor: actorOf('responder') });
    for (const entry of [signIn.entry, signOut.entry]) {
      const text = JSON.stringify(entry);
      expect(text).not.toContain(api.tokens.responder);
      expect(text).not.toContain(session.split('=')[1]!);
    }
    // A wrong token and a sign-out without a session change nothing and write nothing.
    expect((await call('POST', '/api/v1/session', { body: { token: 'flt_wrong' } })).entry).toBeUndefined();
    expect((await call('DELETE', '/api/v1/session')).entry).toBeUndefined();
  });
});

test('every token the harness made is in the log, without the token', async () => {
  const made = (await api.store.listAudit({ action: 'token.create', limit: 20 })).filter((e) => e.details.via === 'cli');
  expect(made.map((e) => e.details.role).sort()).toEqual(['admin', 'commander', 'responder', 'viewer']);
  for (const role of ['admin', 'commander', 'responder', 'viewer'] as const) {
    expect(JSON.stringify(made)).not.toContain(api.tokens[role]);
  }
});

test('the audited API calls left a chain that verifies', async () => {
  expect(await verifyAuditChain(api.store)).toMatchObject({ ok: true });
  await declareIncident(api, { title: 'one more', runbook: 'instant' });
  expect(await verifyAuditChain(api.store)).toMatchObject({ ok: true });
});
