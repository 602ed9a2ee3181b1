// Declaring over real HTTP: validation, body limits, and never a 500 for bad input.
import type { IncidentRecord } from '../../src/domain/incident';
import type { IncidentDetail } from '../../src/services/incidents';
import { TOKEN_NAMES, declareIncident, expectError, expectFieldError, startApiHarness } from '../support/api';
import type { ApiHarness } from '../support/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-declare' });
});
afterAll(async () => {
  await api?.stop();
});

describe('declare', () => {
  test('201 with Location, the stored record, and the runbook defaults', async () => {
    const res = await api.post<{ incident: IncidentRecord }>('/api/v1/incidents', {
      as: 'commander',
      body: { title: '  Catalog search slow  ', runbook: 'instant', summary: 'p99 at 4s', drill: true },
    });
    expect(res.status).toBe(201);
    const incident = res.body.incident;
    expect(incident.id).toMatch(/^INC-\d+$/);
    expect(res.headers.get('location')).toBe(`/api/v1/incidents/${incident.id}`);
    expect(incident).toMatchObject({
      title: 'Catalog search slow',
      runbookId: 'instant',
      service: 'catalog',
      // unlikely × minor scores 4 on the risk matrix.
      severity: 'SEV4',
      summary: 'p99 at 4s',
      drill: true,
      status: 'open',
      phase: 'detect',
      trigger: { kind: 'manual', by: { id: `token:${api.tokenIds.commander}`, name: TOKEN_NAMES.commander, role: 'commander' } },
    });
    expect(incident.runbookVersion).toMatch(/^[0-9a-f]{64}$/);
    const got = await api.get<IncidentDetail>(res.headers.get('location')!, { as: 'viewer' });
    expect(got.status).toBe(200);
    expect(got.body.incident).toMatchObject({ id: incident.id, title: incident.title, declaredAt: incident.declaredAt });
  });

  test.each([
    ['likely', 'severe', 'SEV1'],
    ['almost-certain', 'major', 'SEV1'],
    ['possible', 'major', 'SEV2'],
    ['rare', 'severe', 'SEV2'],
    ['unlikely', 'major', 'SEV3'],
    ['almost-certain', 'negligible', 'SEV3'],
    ['rare', 'minor', 'SEV4'],
  ])('likelihood %s × impact %s → %s', async (likelihood, impact, severity) => {
    const incident = await declareIncident(api, { title: 'Risk matrix', runbook: 'instant', likelihood, impact });
    expect(incident.severity).toBe(severity);
  });

  test('an explicit severity wins over the runbook; service may be given', async () => {
    expect(await declareIncident(api, { title: 'Explicit', runbook: 'instant', severity: 'SEV1', service: 'search' })).toMatchObject({
      severity: 'SEV1',
      service: 'search',
    });
    // A runbook with an explicit severity, and one with neither severity nor risk (the SEV3 fallback).
    expect((await declareIncident(api, { title: 'Hold default', runbook: 'hold' })).severity).toBe('SEV2');
    expect((await declareIncident(api, { title: 'Quick default', runbook: 'quick' })).severity).toBe('SEV3');
  });

  const ok = { title: 'Valid title', runbook: 'instant' };
  test.each<[string, Record<string, unknown>, string]>([
    ['missing title', { runbook: 'instant' }, 'title'],
    ['a title too short', { ...ok, title: ' ab ' }, 'title'],
    ['a title too long', { ...ok, title: 'x'.repeat(201) }, 'title'],
    ['a title that is a number', { ...ok, title: 42 }, 'title'],
    ['a null title', { ...ok, title: null }, 'title'],
    ['missing runbook', { title: 'Valid title' }, 'runbook'],
    ['an unknown runbook', { ...ok, runbook: 'no-such-runbook' }, 'runbook'],
    ['a runbook that does not pass its checks', { ...ok, runbook: 'broken' }, 'runbook'],
    ['a path as runbook', { ...ok, runbook: '../flow' }, 'runbook'],
    ['a runbook that is an array', { ...ok, runbook: ['flow'] }, 'runbook'],
    ['an unknown extra field', { ...ok, priority: 'high' }, 'priority'],
    ['severity together with likelihood', { ...ok, severity: 'SEV1', likelihood: 'likely', impact: 'severe' }, 'severity'],
    ['likelihood without impact', { ...ok, likelihood: 'likely' }, 'impact'],
    ['impact without likelihood', { ...ok, impact: 'severe' }, 'likelihood'],
    ['an unknown severity', { ...ok, severity: 'SEV0' }, 'severity'],
    ['a lowercase severity', { ...ok, severity: 'sev1' }, 'severity'],
    ['an unknown likelihood', { ...ok, likelihood: 'often', impact: 'minor' }, 'likelihood'],
    ['drill as a string', { ...ok, drill: 'yes' }, 'drill'],
    ['an empty service', { ...ok, service: '  ' }, 'service'],
    ['a summary that is an object', { ...ok, summary: { text: 'x' } }, 'summary'],
  ])('400 naming the field for %s', async (_what, body, field) => {
    const before = (await api.store.listIncidents({ limit: 200 })).items.length;
    expectFieldError(await api.post('/api/v1/incidents', { as: 'commander', body }), field);
    expect((await api.store.listIncidents({ limit: 200 })).items).toHaveLength(before);
  });

  test('malformed JSON → 400 invalid_json; JSON that is not an object → 400', async () => {
    const json = { 'content-type': 'application/json' };
    for (const raw of ['{"title": "x", ', '{title: "unquoted"}', "{'a': 1}", 'null', '"a string"', '42', 'true']) {
      expectError(await api.post('/api/v1/incidents', { as: 'commander', raw, headers: json }), 400, 'invalid_json');
    }
    for (const body of [[], [{ title: 'Valid title', runbook: 'instant' }]]) {
      expectError(await api.post('/api/v1/incidents', { as: 'commander', body }), 400, 'invalid_request');
    }
  });

  test('a body over 512 KB → 413; one just under is read and judged', async () => {
    const big = JSON.stringify({ title: 'Big', runbook: 'instant', summary: 'x'.repeat(600 * 1024) });
    expectError(
      await api.post('/api/v1/incidents', { as: 'commander', raw: big, headers: { 'content-type': 'application/json' } }),
      413,
      'payload_too_large',
    );
    const under = JSON.stringify({ title: 'Big', runbook: 'instant', summary: 'x'.repeat(500 * 1024) });
    // Read in full, then refused by the schema (summary is at most 4000 characters), not by the size limit.
    expectFieldError(
      await api.post('/api/v1/incidents', { as: 'commander', raw: under, headers: { 'content-type': 'application/json' } }),
      'summary',
    );
  });

  test('a body that is not JSON → 415; an unsupported charset → 415', async () => {
    const raw = JSON.stringify({ title: 'Valid title', runbook: 'instant' });
    expectError(await api.post('/api/v1/incidents', { as: 'commander', raw, headers: { 'content-type': 'text/plain' } }), 415);
    expectError(
      await api.post('/api/v1/incidents', { as: 'commander', raw, headers: { 'content-type': 'application/json; charset=koi8-r' } }),
      415,
    );
  });
});

describe('never a 500 for bad input', () => {
  const json = { 'content-type': 'application/json' };
  const cases: [string, string, string, { body?: unknown; raw?: string; headers?: Record<string, string> }][] = [
    ['a body whose prototype is set', 'POST', '/api/v1/incidents', { body: { __proto__: { title: 'x' } } }],
    [
      'a __proto__ key',
      'POST',
      '/api/v1/incidents',
      { raw: '{"__proto__": {"title": "Valid title"}, "runbook": "instant"}', headers: json },
    ],
    [
      'a constructor.prototype key',
      'POST',
      '/api/v1/incidents',
      { raw: '{"constructor": {"prototype": {"polluted": true}}}', headers: json },
    ],
    ['100 000 nested arrays', 'POST', '/api/v1/incidents', { raw: '['.repeat(100_000) + ']'.repeat(100_000), headers: json }],
    [
      'a lone surrogate and a number as runbook',
      'POST',
      '/api/v1/incidents',
      { raw: '{"title": "\uD800 lone surrogate", "runbook": 7}', headers: json },
    ],
    ['gzip that is not gzip', 'POST', '/api/v1/incidents', { raw: 'not gzip at all', headers: { ...json, 'content-encoding': 'gzip' } }],
    ['an unknown content encoding', 'POST', '/api/v1/incidents', { raw: '{}', headers: { ...json, 'content-encoding': 'x-unknown' } }],
    ['an +json media type', 'POST', '/api/v1/incidents', { raw: '{}', headers: { 'content-type': 'application/merge-patch+json' } }],
    ['/api/v1/incidents/%E0%A4%A', 'GET', '/api/v1/incidents/%E0%A4%A', {}],
    ['/api/v1/incidents/INC-1%00', 'GET', '/api/v1/incidents/INC-1%00', {}],
    ['/api/v1/incidents/INC-1234567890123', 'GET', '/api/v1/incidents/INC-1234567890123', {}],
    ['/api/v1/incidents/INC-1/timeline?format=xml', 'GET', '/api/v1/incidents/INC-1/timeline?format=xml', {}],
    ['/api/v1/incidents/INC-1/timeline?after=-1', 'GET', '/api/v1/incidents/INC-1/timeline?after=-1', {}],
    ['/api/v1/incidents/INC-1/timeline?limit=0', 'GET', '/api/v1/incidents/INC-1/timeline?limit=0', {}],
    ['/api/v1/incidents/INC-1/timeline?format=csv&format=md', 'GET', '/api/v1/incidents/INC-1/timeline?format=csv&format=md', {}],
    ['/api/v1/incidents?limit=1e400', 'GET', '/api/v1/incidents?limit=1e400', {}],
    ['/api/v1/incidents?status[]=open', 'GET', '/api/v1/incidents?status[]=open', {}],
    ['/api/v1/incidents?status=open&status=closed', 'GET', '/api/v1/incidents?status=open&status=closed', {}],
    ['/api/v1/incidents?cursor=<600 characters>', 'GET', `/api/v1/incidents?cursor=${'A'.repeat(600)}`, {}],
    ['/api/v1/outbox?incident=../../etc', 'GET', '/api/v1/outbox?incident=../../etc', {}],
    ['/api/v1/runbooks/..%2F..%2Fetc%2Fpasswd', 'GET', '/api/v1/runbooks/..%2F..%2Fetc%2Fpasswd', {}],
    ['/api/v1/runbooks/%2e%2e', 'GET', '/api/v1/runbooks/%2e%2e', {}],
    [
      '/api/v1/incidents/INC-999999/decisions/strategy with a number as option',
      'POST',
      '/api/v1/incidents/INC-999999/decisions/strategy',
      { body: { option: 5 } },
    ],
    [
      '/api/v1/incidents/INC-999999/decisions/strategy with an empty body',
      'POST',
      '/api/v1/incidents/INC-999999/decisions/strategy',
      { body: {} },
    ],
    [
      '/api/v1/incidents/INC-999999/decisions/Not_A_Step with a malformed step id',
      'POST',
      '/api/v1/incidents/INC-999999/decisions/Not_A_Step',
      { body: { option: 'x' } },
    ],
    [
      '/api/v1/incidents/INC-999999/acknowledge with an unknown field',
      'POST',
      '/api/v1/incidents/INC-999999/acknowledge',
      { body: { force: true } },
    ],
    [
      '/api/v1/incidents/INC-999999/acknowledge with a malformed Idempotency-Key',
      'POST',
      '/api/v1/incidents/INC-999999/acknowledge',
      { headers: { 'idempotency-key': 'has spaces in it' } },
    ],
    [
      '/api/v1/incidents/INC-999999/acknowledge with an overlong Idempotency-Key',
      'POST',
      '/api/v1/incidents/INC-999999/acknowledge',
      { headers: { 'idempotency-key': 'k'.repeat(200) } },
    ],
    [
      '/api/v1/incidents/INC-999999/severity with an extra field',
      'POST',
      '/api/v1/incidents/INC-999999/severity',
      { body: { severity: 'SEV1', extra: 1 } },
    ],
    [
      '/api/v1/incidents/INC-999999/notes with an overlong note',
      'POST',
      '/api/v1/incidents/INC-999999/notes',
      { body: { text: 'x'.repeat(4001) } },
    ],
    [
      '/api/v1/incidents/INC-999999/notes as a form',
      'POST',
      '/api/v1/incidents/INC-999999/notes',
      { raw: 'text=hello', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    ],
    ['/api/v1/incidents/INC-1', 'DELETE', '/api/v1/incidents/INC-1', {}],
    ['/api/v1/incidents with an empty body', 'PUT', '/api/v1/incidents', { body: {} }],
    ['/api/v1/nothing-here', 'GET', '/api/v1/nothing-here', {}],
    ['/nothing-here', 'GET', '/nothing-here', {}],
  ];

  test.each(cases)('%s (%s)', async (_what, method, route, opts) => {
    const res = await api.request(method, route, { as: 'admin', ...opts });
    expect({ status: res.status, body: res.text }).toMatchObject({ status: expect.any(Number) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectError(res, res.status);
  });

  test('a prototype-polluting body does not pollute', async () => {
    await api.post('/api/v1/incidents', {
      as: 'commander',
      raw: '{"title": "Valid title", "runbook": "instant", "__proto__": {"polluted": true}}',
      headers: json,
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('unknown routes answer 404 in the error shape', async () => {
    expectError(await api.get('/api/v1/nothing-here', { as: 'viewer' }), 404, 'not_found');
  });

  test('X-Request-Id is echoed when well-formed and replaced otherwise', async () => {
    const given = await api.get('/healthz', { headers: { 'x-request-id': 'abc-123.DEF_4' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123.DEF_4');
    const replaced = await api.get('/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
