// Post-mortems through the API: the retrospective's draft read as sections, edited by commanders with
// optimistic concurrency, every edit audited; action items across incidents; marking the review done closes
// the incident through the workflow. Also the page's session cookie and its CSRF check, since those guard the
// same edits. Real app, real worker on the shared dev server, real SQLite.
import { createHash } from 'node:crypto';
import { createApp } from '../../src/api/app';
import type { IncidentRecord } from '../../src/domain/incident';
import type { PostmortemView } from '../../src/services/postmortems';
import type { ActionItemListing, Page } from '../../src/store/store';
import {
  API_RUNBOOKS,
  declareIncident,
  expectError,
  expectFieldError,
  getIncident,
  listen,
  send,
  startApiHarness,
  timelineOf,
  waitForOpenDecision,
  waitForStatus,
} from '../support/api';
import type { ApiHarness, ApiResponse, RequestOptions } from '../support/api';
import { DAY, HOUR, MINUTE, seedIncident } from '../support/browser';
import { eventually } from '../support/temporal';

const REVIEW_RUNBOOK = `
id: review
title: Post-mortem with a review
owner: team-test
service: payments
severity: SEV2
phases:
  detect:
    - { id: opened, kind: notify, message: "Opened \${incident.id}" }
  retrospective:
    - { id: pm, kind: postmortem, due: 5d }
`;

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-postmortems', runbooks: { ...API_RUNBOOKS, 'review.yaml': REVIEW_RUNBOOK } });
});
afterAll(async () => {
  await api?.stop();
});

const pmPath = (id: string) => `/api/v1/incidents/${id}/postmortem`;

function put(id: string, body: unknown, opts: RequestOptions & { version?: number | string } = {}): Promise<ApiResponse<PostmortemView>> {
  const headers = { ...opts.headers };
  if (opts.version !== undefined) headers['if-match'] = typeof opts.version === 'number' ? `"${opts.version}"` : opts.version;
  return api.request<PostmortemView>('PUT', pmPath(id), { as: 'as' in opts ? opts.as : 'commander', body, headers });
}

async function getPm(id: string): Promise<PostmortemView> {
  const res = await api.get<PostmortemView>(pmPath(id), { as: 'viewer' });
  expect({ status: res.status, body: res.text }).toMatchObject({ status: 200 });
  expect(res.headers.get('etag')).toBe(`"${res.body.version}"`);
  return res.body;
}

/** An incident of the review runbook, resolved by its runbook, with its draft waiting for the review. */
async function incidentAwaitingReview(title: string): Promise<IncidentRecord> {
  const incident = await declareIncident(api, { title, runbook: 'review' });
  await eventually(
    async () => ((await getIncident(api, incident.id)).live?.awaitingReview ? true : undefined),
    `${incident.id} waiting for its review`,
  );
  return incident;
}

async function insertDraft(
  incidentId: string,
  body = '## Summary\n\nDrafted by hand.\n\n## Action items\n\n| action | owner | due | status |\n| --- | --- | --- | --- |\n',
) {
  const at = new Date().toISOString();
  await api.store.insertPostmortem({
    incidentId,
    template: 'default',
    status: 'draft',
    dueAt: new Date(Date.now() + 5 * DAY).toISOString(),
    body,
    createdAt: at,
    updatedAt: at,
  });
}

test('the draft is read as sections; commanders edit with If-Match; stale saves get 409; every edit is audited', async () => {
  const incident = await incidentAwaitingReview('Payment gateway timeouts');
  const id = incident.id;

  const draft = await getPm(id);
  expect(draft).toMatchObject({ incidentId: id, status: 'draft', version: 1, template: 'default', actionItems: [] });
  expect(draft.sections.summary).toContain(`${id}: Payment gateway timeouts`);
  expect(draft.sections.timeline).toContain('Declared "Payment gateway timeouts"');
  expect(draft.sections.rootCause).toBe('_What caused it._');
  expect(draft.body).toMatch(/^## Summary\n/);

  // Roles: viewers read, commanders edit.
  expectError(await put(id, { sections: { rootCause: 'x' } }, { as: 'viewer', version: 1 }), 403, 'forbidden');
  expectError(await put(id, { sections: { rootCause: 'x' } }, { as: 'responder', version: 1 }), 403, 'forbidden');
  expectError(await api.request('PUT', pmPath(id), { body: { sections: { rootCause: 'x' } } }), 401, 'unauthorized');

  // A save must say which version it edits.
  const missing = expectError(await put(id, { sections: { rootCause: 'x' } }), 428, 'precondition_required');
  expect(missing.message).toContain('If-Match');
  expectFieldError(await put(id, { sections: { rootCause: 'x' } }, { version: 'abc' }), 'If-Match');
  expectFieldError(await put(id, { version: 2, sections: { rootCause: 'x' } }, { version: 1 }), 'version');
  expectFieldError(await put(id, { body: '## Summary\n\nx', sections: { rootCause: 'x' } }, { version: 1 }), 'sections');
  expectFieldError(await put(id, { sections: { cause: 'x' } }, { version: 1 }), 'sections.cause');
  expectFieldError(await put(id, { actionItems: [{ title: '' }] }, { version: 1 }), 'actionItems.0.title');
  expectFieldError(await put(id, { actionItems: [{ title: 'x', due: '12/10/2026' }] }, { version: 1 }), 'actionItems.0.due');
  expectFieldError(await put(id, { status: 'published' }, { version: 1 }), 'status');
  expectError(await put(id, { status: 'done' }, { version: 1 }), 409, 'conflict');

  const edited = await put(
    id,
    {
      sections: {
        rootCause: 'A client library upgrade halved the gateway timeout.',
        impact: '12% of card payments failed for 25 minutes.',
      },
      actionItems: [
        { title: 'Pin the gateway client timeout', owner: 'dana', due: '2026-12-01' },
        { title: 'Alert on payment error rate per provider', owner: null },
      ],
      status: 'in-review',
    },
    { version: 1 },
  );
  expect({ status: edited.status, body: edited.text }).toMatchObject({ status: 200 });
  expect(edited.headers.get('etag')).toBe('"2"');
  expect(edited.body).toMatchObject({ version: 2, status: 'in-review' });
  expect(edited.body.sections.rootCause).toBe('A client library upgrade halved the gateway timeout.');
  expect(edited.body.sections.timeline).toBe(draft.sections.timeline);
  expect(edited.body.actionItems).toEqual([
    expect.objectContaining({
      title: 'Pin the gateway client timeout',
      owner: 'dana',
      due: '2026-12-01',
      status: 'open',
      completedAt: null,
    }),
    expect.objectContaining({ title: 'Alert on payment error rate per provider', owner: null, due: null, status: 'open' }),
  ]);
  for (const item of edited.body.actionItems) expect(item.id).toMatch(/^ai_[0-9a-f]{12}$/);
  // The Markdown keeps the draft's shape; the action items section is rendered from the rows.
  const headings = edited.body.body.split('\n').filter((l) => l.startsWith('## '));
  expect(headings).toEqual([
    '## Summary',
    '## Impact',
    '## Timeline',
    '## Root cause',
    '## Contributing factors',
    '## What went well',
    '## What went badly',
    '## Action items',
  ]);
  expect(edited.body.body).toContain('| Pin the gateway client timeout | dana | 2026-12-01 | open |');
  expect(edited.body.body).toContain('| Alert on payment error rate per provider |  |  | open |');

  // Someone saving over version 1 now loses, and is told the current version.
  const stale = expectError(await put(id, { sections: { rootCause: 'a different theory' } }, { version: 1 }), 409, 'conflict');
  expect(stale.details).toMatchObject({ currentVersion: 2, expectedVersion: 1 });
  expect((await getPm(id)).sections.rootCause).toBe('A client library upgrade halved the gateway timeout.');

  // `version` in the body works like If-Match; W/ ETags are accepted too.
  const [pin, alert] = edited.body.actionItems;
  const completed = await put(id, { version: 2, actionItems: [{ ...pick(pin!), status: 'done' }, pick(alert!)] });
  expect(completed.status).toBe(200);
  expect(completed.body.version).toBe(3);
  expect(completed.body.actionItems[0]).toMatchObject({ id: pin!.id, status: 'done' });
  expect(completed.body.actionItems[0]!.completedAt).not.toBeNull();
  const unknown = await put(id, { actionItems: [{ id: 'ai_000000000000', title: 'ghost' }] }, { version: 'W/"3"' });
  expectFieldError(unknown, 'actionItems.0.id');

  // Saving what is already there changes nothing, not even the version.
  const same = await put(id, { sections: { rootCause: 'A client library upgrade halved the gateway timeout.' } }, { version: 3 });
  expect(same.body.version).toBe(3);

  const audit = (await api.store.listAudit({ incidentId: id, limit: 100 })).filter((a) => a.action === 'postmortem.edit');
  const ok = audit.filter((a) => a.outcome === 'ok').reverse();
  expect(ok.map((a) => [a.details.fromVersion, a.details.toVersion])).toEqual([
    [1, 2],
    [2, 3],
  ]);
  expect(ok[0]!.details.summary).toBe('status draft → in-review; Impact +1/−1 lines; Root cause +1/−1 lines; action items: 2 added');
  expect(ok[0]!.details.actionItems).toMatchObject({
    added: ['Pin the gateway client timeout', 'Alert on payment error rate per provider'],
  });
  expect(ok[0]!.actor).toMatchObject({ id: `token:${api.tokenIds.commander}`, role: 'commander' });
  expect(ok[1]!.details.summary).toBe('action items: 1 completed');
  const rejected = audit.filter((a) => a.outcome === 'rejected');
  expect(rejected.map((a) => a.details)).toEqual(
    expect.arrayContaining([expect.objectContaining({ expectedVersion: 1, currentVersion: 2, error: 'version conflict' })]),
  );
});

test('marking the review done closes the incident; afterwards only action items change; open ones are listed across incidents', async () => {
  const incident = await incidentAwaitingReview('Checkout latency after deploy');
  const id = incident.id;
  const first = await put(
    id,
    {
      sections: { summary: 'Checkout p99 latency tripled after the 14:00 deploy.\nRolled back at 14:40.' },
      actionItems: [{ title: 'Load-test checkout before deploys', owner: 'lee', due: '2026-12-15' }],
      status: 'in-review',
    },
    { version: 1 },
  );
  expect(first.status).toBe(200);

  const done = await put(id, { status: 'done' }, { version: first.body.version });
  expect({ status: done.status, body: done.text }).toMatchObject({ status: 200 });
  expect(done.body.status).toBe('done');
  const closed = await waitForStatus(api, id, 'closed');
  expect(closed.incident.phase).toBe('closed');
  const { events } = await timelineOf(api, id);
  expect(events.filter((e) => e.type === 'postmortem.reviewed')).toEqual([
    expect.objectContaining({
      summary: expect.stringContaining('Checkout p99 latency tripled after the 14:00 deploy.'),
      actor: expect.objectContaining({ role: 'commander' }),
    }),
  ]);
  expect(events.at(-1)?.type).toBe('incident.closed');

  // Done is final for the text, not for the action items.
  const v = done.body.version;
  expectError(await put(id, { sections: { rootCause: 'late edit' } }, { version: v }), 409, 'conflict');
  expectError(await put(id, { status: 'in-review' }, { version: v }), 409, 'conflict');
  expectError(await put(id, { actionItems: [] }, { version: v }), 409, 'conflict');
  const item = done.body.actionItems[0]!;
  const more = await put(id, { actionItems: [pick(item), { title: 'Add a latency SLO alert', owner: 'lee' }] }, { version: v });
  expect(more.status).toBe(200);
  expect(more.body.actionItems).toHaveLength(2);

  // A second incident's open items, one with an earlier due date.
  const other = await seedIncident(api.store, {
    title: 'Inventory sync drift',
    declaredAt: new Date(Date.now() - 3 * DAY),
    ackMs: 5 * MINUTE,
    resolveMs: HOUR,
    closeMs: 2 * HOUR,
    service: 'inventory',
  });
  await insertDraft(other.incident.id);
  const otherItems = await put(
    other.incident.id,
    {
      actionItems: [
        { title: 'Reconcile stock nightly', due: '2026-12-02' },
        { title: 'Document the sync job', status: 'done' },
      ],
    },
    { version: 1 },
  );
  expect(otherItems.status).toBe(200);

  const open = await api.get<Page<ActionItemListing>>('/api/v1/action-items?status=open', { as: 'viewer' });
  expect(open.status).toBe(200);
  const mine = open.body.items.filter((i) => [id, other.incident.id].includes(i.incidentId));
  expect(mine.map((i) => [i.title, i.due])).toEqual([
    ['Reconcile stock nightly', '2026-12-02'],
    ['Load-test checkout before deploys', '2026-12-15'],
    ['Add a latency SLO alert', null],
  ]);
  expect(mine[1]).toMatchObject({
    incidentId: id,
    owner: 'lee',
    incident: { title: 'Checkout latency after deploy', severity: 'SEV2', status: 'closed' },
  });
  const doneItems = await api.get<Page<ActionItemListing>>('/api/v1/action-items?status=done', { as: 'viewer' });
  expect(doneItems.body.items.map((i) => i.title)).toContain('Document the sync job');
  expect(doneItems.body.items.every((i) => i.status === 'done')).toBe(true);

  // Keyset paging over the list.
  const page1 = await api.get<Page<ActionItemListing>>('/api/v1/action-items?limit=1', { as: 'viewer' });
  expect(page1.body.items).toHaveLength(1);
  expect(page1.body.nextCursor).not.toBeNull();
  const page2 = await api.get<Page<ActionItemListing>>(`/api/v1/action-items?limit=1&cursor=${page1.body.nextCursor}`, { as: 'viewer' });
  expect(page2.body.items[0]!.id).not.toBe(page1.body.items[0]!.id);
  expectError(await api.get('/api/v1/action-items?cursor=bogus!', { as: 'viewer' }), 400);
  expectFieldError(await api.get('/api/v1/action-items?status=later', { as: 'viewer' }), 'status');
});

test('marking done is refused (409) while the workflow is not waiting for a review; a closed incident needs no workflow', async () => {
  const incident = await declareIncident(api, { title: 'Still deciding', runbook: 'hold' });
  await waitForOpenDecision(api, incident.id, 'go-ahead');
  await insertDraft(incident.id);
  const review = await put(incident.id, { status: 'in-review' }, { version: 1 });
  expect(review.status).toBe(200);
  const refused = expectError(await put(incident.id, { status: 'done' }, { version: 2 }), 409, 'conflict');
  expect(refused.message).toContain('not waiting for its post-mortem review');
  expect(await getPm(incident.id)).toMatchObject({ status: 'in-review', version: 2 });
  expect((await getIncident(api, incident.id)).incident.status).toBe('open');

  const old = await seedIncident(api.store, {
    title: 'Closed long ago',
    declaredAt: new Date(Date.now() - 30 * DAY),
    ackMs: MINUTE,
    resolveMs: HOUR,
    closeMs: 2 * HOUR,
  });
  await insertDraft(old.incident.id);
  expect((await put(old.incident.id, { status: 'in-review' }, { version: 1 })).status).toBe(200);
  const closedDone = await put(old.incident.id, { status: 'done' }, { version: 2 });
  expect(closedDone.status).toBe(200);
  expect(closedDone.body.status).toBe('done');

  expectError(await api.get(pmPath('INC-999999999999'), { as: 'viewer' }), 404, 'not_found');
  const none = await seedIncident(api.store, { title: 'No retrospective yet', declaredAt: new Date() });
  const missing = expectError(await api.get(pmPath(none.incident.id), { as: 'viewer' }), 404, 'not_found');
  expect(missing.message).toContain('no post-mortem yet');
});

function cookiesOf(res: ApiResponse<unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of res.headers.getSetCookie()) out[line.slice(0, line.indexOf('='))] = line;
  return out;
}

const valueOf = (setCookie: string) => decodeURIComponent(setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';')));

test('page sessions: a token becomes an httpOnly SameSite=Strict cookie; cookie writes need the CSRF header; bearer tokens work as before', async () => {
  const incident = await seedIncident(api.store, {
    title: 'Session test',
    declaredAt: new Date(Date.now() - DAY),
    ackMs: MINUTE,
    resolveMs: HOUR,
    closeMs: 2 * HOUR,
  });
  await insertDraft(incident.incident.id);
  const id = incident.incident.id;

  expectError(await api.post('/api/v1/session', { body: { token: 'flt_not-a-token' } }), 401, 'unauthorized');
  expectFieldError(await api.post('/api/v1/session', { body: {} }), 'token');
  expectError(
    await api.post('/api/v1/session', {
      raw: `token=${api.tokens.commander}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
    415,
  );

  const signIn = await api.post<{ name: string; role: string; expiresAt: string }>('/api/v1/session', {
    body: { token: api.tokens.commander },
  });
  expect(signIn.status).toBe(201);
  expect(signIn.body).toMatchObject({ name: 'Grace Commander', role: 'commander' });
  const cookies = cookiesOf(signIn);
  expect(cookies.fireline_session).toMatch(/HttpOnly/i);
  expect(cookies.fireline_session).toMatch(/SameSite=Strict/i);
  expect(cookies.fireline_session).toMatch(/Path=\//);
  expect(cookies.fireline_session).not.toMatch(/Secure/i);
  expect(cookies.fireline_csrf).not.toMatch(/HttpOnly/i);
  expect(cookies.fireline_csrf).toMatch(/SameSite=Strict/i);
  const session = valueOf(cookies.fireline_session!);
  const csrf = valueOf(cookies.fireline_csrf!);
  // Only the hash of the session id is stored.
  const hash = createHash('sha256').update(session).digest('hex');
  expect(await api.store.findSession(session, new Date().toISOString())).toBeUndefined();
  expect(await api.store.findSession(hash, new Date().toISOString())).toMatchObject({ token: { id: api.tokenIds.commander } });

  const cookie = `fireline_session=${session}; fireline_csrf=${csrf}`;
  const me = await api.get<{ name: string; role: string; via: string }>('/api/v1/session', { headers: { cookie } });
  expect(me.body).toMatchObject({ name: 'Grace Commander', role: 'commander', via: 'session' });
  expect((await api.get(`/api/v1/incidents/${id}`, { headers: { cookie } })).status).toBe(200);

  // Writes with the cookie alone are refused: another site could make the browser send it, not the header.
  const noHeader = expectError(
    await put(id, { sections: { rootCause: 'by cookie' } }, { as: undefined, version: 1, headers: { cookie } }),
    403,
    'csrf_failed',
  );
  expect(noHeader.message).toContain('X-Fireline-CSRF');
  expectError(
    await put(id, { sections: { rootCause: 'by cookie' } }, { as: undefined, version: 1, headers: { cookie, 'x-fireline-csrf': 'guess' } }),
    403,
    'csrf_failed',
  );
  const withHeader = await api.request<PostmortemView>('PUT', pmPath(id), {
    body: { sections: { rootCause: 'by cookie' } },
    headers: { cookie, 'x-fireline-csrf': csrf, 'if-match': '"1"' },
  });
  expect({ status: withHeader.status, body: withHeader.text }).toMatchObject({ status: 200 });
  const audit = (await api.store.listAudit({ incidentId: id, limit: 10 })).find(
    (a) => a.action === 'postmortem.edit' && a.outcome === 'ok',
  );
  expect(audit?.actor).toMatchObject({ id: `token:${api.tokenIds.commander}`, name: 'Grace Commander' });

  // Bearer tokens ignore cookies entirely (and need no CSRF header).
  const bearer = await put(id, { sections: { rootCause: 'by bearer' } }, { version: 2, headers: { cookie: 'fireline_session=stale' } });
  expect(bearer.status).toBe(200);
  // A viewer's session reads but may not edit.
  const viewerCookies = cookiesOf(await api.post('/api/v1/session', { body: { token: api.tokens.viewer } }));
  const viewerCookie = `fireline_session=${valueOf(viewerCookies.fireline_session!)}`;
  expectError(
    await api.request('PUT', pmPath(id), {
      body: { sections: { rootCause: 'x' } },
      headers: { cookie: viewerCookie, 'x-fireline-csrf': valueOf(viewerCookies.fireline_csrf!), 'if-match': '"3"' },
    }),
    403,
    'forbidden',
  );

  // Signing out needs the header too, then the cookie is worthless.
  expectError(await api.request('DELETE', '/api/v1/session', { headers: { cookie } }), 403, 'csrf_failed');
  const out = await api.request('DELETE', '/api/v1/session', { headers: { cookie, 'x-fireline-csrf': csrf } });
  expect(out.status).toBe(204);
  expect(cookiesOf(out).fireline_session).toMatch(/Expires=Thu, 01 Jan 1970/);
  const after = expectError(await api.get('/api/v1/session', { headers: { cookie } }), 401, 'unauthorized');
  expect(after.message).toContain('sign in again');

  // An expired session is no session.
  const expiredId = 'expired-session-id';
  await api.store.insertSession({
    idHash: createHash('sha256').update(expiredId).digest('hex'),
    tokenId: api.tokenIds.admin,
    csrf: 'c',
    createdAt: new Date(Date.now() - 2 * DAY).toISOString(),
    expiresAt: new Date(Date.now() - DAY).toISOString(),
  });
  expectError(await api.get('/api/v1/session', { headers: { cookie: `fireline_session=${expiredId}` } }), 401, 'unauthorized');
  expect((await api.get<{ via: string }>('/api/v1/session', { as: 'viewer' })).body.via).toBe('token');

  // Behind an https public URL the cookies are Secure.
  const secureApp = await listen(createApp({ ...api.deps, publicUrl: 'https://fireline.example.com' }));
  try {
    const res = await send(secureApp.url, api.tokens, 'POST', '/api/v1/session', { body: { token: api.tokens.viewer } });
    expect(res.status).toBe(201);
    for (const line of res.headers.getSetCookie()) expect(line).toMatch(/; Secure/i);
  } finally {
    await secureApp.close();
  }
});

function pick(item: PostmortemView['actionItems'][number]) {
  return { id: item.id, title: item.title, owner: item.owner, due: item.due, status: item.status };
}
