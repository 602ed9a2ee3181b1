// Authentication and roles over real HTTP.
import type { IncidentDetail } from '../../src/services/incidents';
import { declareIncident, expectError, startApiHarness, waitForOpenDecision } from '../support/api';
import type { ApiHarness } from '../support/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-auth' });
});
afterAll(async () => {
  await api?.stop();
});

describe('authentication', () => {
  const routes: [string, string][] = [
    ['GET', '/api/v1/incidents'],
    ['POST', '/api/v1/incidents'],
    ['GET', '/api/v1/incidents/INC-1'],
    ['GET', '/api/v1/incidents/INC-1/timeline'],
    ['POST', '/api/v1/incidents/INC-1/acknowledge'],
    ['POST', '/api/v1/incidents/INC-1/decisions/strategy'],
    ['GET', '/api/v1/runbooks'],
    ['GET', '/api/v1/runbooks/flow'],
    ['GET', '/api/v1/outbox'],
  ];
  const badHeaders: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['a Basic credential', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['"Bearer" without a token', { authorization: 'Bearer' }],
    ['two words after Bearer', { authorization: 'Bearer abc def' }],
    ['a token without the scheme', { authorization: 'flt_abcdef' }],
    ['an unknown token', { authorization: 'Bearer flt_not-a-real-token' }],
    ['an oversized token', { authorization: `Bearer ${'x'.repeat(600)}` }],
  ];

  test.each(badHeaders)('401 with WWW-Authenticate for %s, on every route', async (_what, headers) => {
    for (const [method, route] of routes) {
      const res = await api.request(method, route, { headers });
      expectError(res, 401, 'unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fireline"');
    }
  });

  test('the scheme is case-insensitive and the token is never echoed back', async () => {
    const res = await api.get('/api/v1/incidents', { headers: { authorization: `bearer ${api.tokens.viewer}` } });
    expect(res.status).toBe(200);
    const refused = await api.get('/api/v1/incidents', { headers: { authorization: 'Bearer flt_secret-guess' } });
    expect(refused.text).not.toContain('flt_secret-guess');
  });

  test('every role can read', async () => {
    for (const role of ['viewer', 'responder', 'commander', 'admin'] as const) {
      expect((await api.get('/api/v1/incidents', { as: role })).status).toBe(200);
      expect((await api.get('/api/v1/runbooks', { as: role })).status).toBe(200);
      expect((await api.get('/api/v1/outbox', { as: role })).status).toBe(200);
    }
  });
});

describe('roles', () => {
  test('a viewer or responder cannot declare; a commander and an admin can', async () => {
    const body = { title: 'Role check', runbook: 'instant' };
    const viewer = expectError(await api.post('/api/v1/incidents', { as: 'viewer', body }), 403, 'forbidden');
    expect(viewer.message).toContain('commander');
    expectError(await api.post('/api/v1/incidents', { as: 'responder', body }), 403, 'forbidden');
    expect((await api.post('/api/v1/incidents', { as: 'admin', body })).status).toBe(201);
    expect((await api.post('/api/v1/incidents', { as: 'commander', body })).status).toBe(201);
  });

  test('a viewer cannot steer; a responder cannot decide, resolve or change severity', async () => {
    const incident = await declareIncident(api, { title: 'Steering roles', runbook: 'hold' });
    const base = `/api/v1/incidents/${incident.id}`;
    for (const action of ['acknowledge', 'escalate', 'resolve', 'severity', 'decisions/go-ahead']) {
      expectError(await api.post(`${base}/${action}`, { as: 'viewer', body: {} }), 403, 'forbidden');
    }
    expectError(await api.post(`${base}/notes`, { as: 'viewer', body: { text: 'hi' } }), 403, 'forbidden');
    expectError(await api.post(`${base}/resolve`, { as: 'responder', body: {} }), 403, 'forbidden');
    expectError(await api.post(`${base}/severity`, { as: 'responder', body: { severity: 'SEV1' } }), 403, 'forbidden');
    // The role check comes first: an unknown incident does not leak through a 404.
    expectError(await api.post('/api/v1/incidents/INC-999999/resolve', { as: 'responder', body: {} }), 403, 'forbidden');
    // Nothing of that reached the workflow or the audit log.
    expect((await api.store.listAudit({ incidentId: incident.id, limit: 50 })).map((a) => a.action)).toEqual(['incident.declare']);
    // Responders reach the workflow for decisions; its validator refuses a commander-only step, and that is audited.
    await waitForOpenDecision(api, incident.id, 'go-ahead');
    expectError(await api.post(`${base}/decisions/go-ahead`, { as: 'responder', body: { option: 'proceed' } }), 403, 'forbidden');
    const audit = await api.store.listAudit({ incidentId: incident.id, limit: 50 });
    expect(audit.find((a) => a.action === 'incident.decide')).toMatchObject({ outcome: 'rejected', actor: { role: 'responder' } });
    const viewer = await api.get<IncidentDetail>(base, { as: 'viewer' });
    expect(viewer.status).toBe(200);
    expect(viewer.body.incident).toMatchObject({ id: incident.id, status: 'open' });
  });
});
