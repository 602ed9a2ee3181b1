// The runbook catalogue over real HTTP: listing, reading, validating.
import fs from 'node:fs';
import path from 'node:path';
import type { RunbookSnapshot } from '../../src/domain/runbook';
import type { RunbookSummary } from '../../src/runbooks/catalog';
import { declareIncident, expectError, startApiHarness } from '../support/api';
import type { ApiHarness } from '../support/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-runbooks' });
});
afterAll(async () => {
  await api?.stop();
});

describe('runbooks', () => {
  test('GET /api/v1/runbooks lists every file, with problems for the broken one', async () => {
    const res = await api.get<{ items: RunbookSummary[] }>('/api/v1/runbooks', { as: 'viewer' });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.items.map((r) => [r.id, r]));
    expect(Object.keys(byId).sort()).toEqual(['ask-responder', 'broken', 'flow', 'hold', 'instant', 'quick']);
    expect(byId.flow).toMatchObject({
      title: 'Full flow',
      owner: 'team-test',
      service: 'orders-db',
      severity: 'SEV1',
      source: 'flow.yaml',
      problems: [],
    });
    expect(byId.flow!.version).toMatch(/^[0-9a-f]{64}$/);
    expect(byId.hold).toMatchObject({ severity: 'SEV2', problems: [] });
    expect(byId.quick).toMatchObject({ severity: null, problems: [] });
    expect(byId.broken!.problems.length).toBeGreaterThan(0);
    expect(JSON.stringify(byId.broken!.problems)).toContain('retrospective');
  });

  test('GET /api/v1/runbooks/:id returns the snapshot an incident would pin; 404 otherwise', async () => {
    const res = await api.get<RunbookSnapshot>('/api/v1/runbooks/flow', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'flow.yaml', runbook: { id: 'flow', autoResolve: true } });
    expect(res.body.runbook.phases.decide[0]).toMatchObject({ id: 'strategy', kind: 'decide', timeout: 600_000, approver: 'commander' });
    expect(res.body.version).toMatch(/^[0-9a-f]{64}$/);
    for (const id of ['no-such-runbook', 'broken', 'FLOW', 'flow.yaml', '..%2Fflow']) {
      expectError(await api.get(`/api/v1/runbooks/${id}`, { as: 'viewer' }), 404, 'not_found');
    }
  });

  test('a runbook file added while running is served and can be declared', async () => {
    fs.writeFileSync(
      path.join(api.runbooksDir, 'late.yaml'),
      'id: late\ntitle: Added later\nowner: team-test\nseverity: SEV1\nphases:\n  retrospective:\n    - { id: review, kind: notify, message: review }\n',
    );
    expect((await api.get('/api/v1/runbooks/late', { as: 'viewer' })).status).toBe(200);
    expect((await declareIncident(api, { title: 'Late runbook', runbook: 'late' })).severity).toBe('SEV1');
  });
});
