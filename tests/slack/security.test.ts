// Requests into the real Bolt receiver mounted on Fireline's Express app: only correctly signed, fresh requests with
// Slack's exact content type get through; every other one is a 401 (or 400) and changes nothing.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { DEFAULT_AUTH_THROTTLE } from '../../src/services/auth-throttle';
import { postEvent, postSignedForm, slackSignature } from '../support/fake-slack';
import { eventually } from '../support/temporal';
import { SIGNING_SECRET, startSlackHarness, USERS } from './harness';
import type { SlackHarness } from './harness';

const FIXTURES = path.resolve(__dirname, '../fixtures/reference/slack');

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness({ name: 'slack-security' });
});
afterAll(async () => {
  await h?.stop();
});

/** The fixture's raw bytes with Slack's response_url pointed at the fake and, optionally, another user. */
function fixtureBody(responseId: string, userId?: string): string {
  let body = fs.readFileSync(path.join(FIXTURES, 'slash-command-incident-declare.txt'), 'utf8');
  body = body.replace(/response_url=[^&]*/, `response_url=${encodeURIComponent(h.slack.responseUrl(responseId))}`);
  if (userId) body = body.replace(/user_id=[^&]*/, `user_id=${userId}`);
  return body;
}

async function postRaw(body: string, headers: Record<string, string | undefined>): Promise<Response> {
  const clean = Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
  return fetch(h.eventsUrl, { method: 'POST', headers: clean, body });
}

function signed(body: string, timestamp = Math.floor(Date.now() / 1000), secret = SIGNING_SECRET): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, timestamp, body),
  };
}

let markers = 0;

/**
 * A correctly signed declare by a viewer, sent after the refused requests: once its refusal is answered and
 * audited, a wrongly accepted request before it would have left its mark too. Only the markers may show.
 */
async function expectNothingChanged(): Promise<void> {
  const marker = `marker-${++markers}`;
  const body = fixtureBody(marker, USERS.vera.id);
  expect((await postRaw(body, signed(body))).status).toBe(200);
  await h.response(marker);
  const audit = await eventually(async () => {
    // Entries of the harness's own set-up (the token it makes) are not Slack's.
    const rows = (await h.store.listAudit({ limit: 50 })).filter((a) => a.actor.id.startsWith('slack:'));
    return rows.length === markers ? rows : undefined;
  }, `the audit row of ${marker}`);
  expect(audit.map((a) => [a.actor.id, a.outcome])).toEqual(audit.map(() => [`slack:${USERS.vera.id}`, 'rejected']));
  expect((await h.store.listIncidents({ limit: 10 })).items).toEqual([]);
  expect(h.slack.calls.filter((c) => c.method !== 'conversations.history')).toEqual([]);
  expect(h.slack.responses.map((r) => r.id)).toEqual(Array.from({ length: markers }, (_, i) => `marker-${i + 1}`));
}

test('forged, unsigned, stale, future-dated and tampered requests → 401 and nothing happens', async () => {
  const body = fixtureBody('forged', USERS.grace.id);
  const now = Math.floor(Date.now() / 1000);

  const attempts: [string, Promise<Response>][] = [
    ['signed with another secret', postRaw(body, signed(body, now, 'not-the-signing-secret'))],
    ['a made-up signature', postRaw(body, { ...signed(body), 'x-slack-signature': `v0=${'0'.repeat(64)}` })],
    ['no signature header', postRaw(body, { ...signed(body), 'x-slack-signature': undefined })],
    ['no timestamp header', postRaw(body, { ...signed(body), 'x-slack-request-timestamp': undefined })],
    ['no headers at all', postRaw(body, { 'content-type': 'application/x-www-form-urlencoded' })],
    ['a timestamp 6 minutes old, correctly signed', postRaw(body, signed(body, now - 360))],
    ['a timestamp 6 minutes ahead, correctly signed', postRaw(body, signed(body, now + 360))],
    ['a timestamp an hour ahead, correctly signed', postRaw(body, signed(body, now + 3600))],
    ['a non-numeric timestamp', postRaw(body, { ...signed(body), 'x-slack-request-timestamp': 'yesterday' })],
    ['a body changed after signing', postRaw(body.replace('sev1', 'sev4'), signed(body))],
    ['a body with an extra field', postRaw(`${body}&user_id=U0GRACE`, signed(body))],
    [
      'the fixture signed for its own (old) timestamp',
      postRaw(fs.readFileSync(path.join(FIXTURES, 'slash-command-incident-declare.txt'), 'utf8'), {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': '1776759401',
        'x-slack-signature': 'v0=66ea16cbb364e1396f4b165931331913b20bfb38a6e6c3619a186d5f50b7dd3d',
      }),
    ],
  ];
  for (const [what, pending] of attempts) {
    const res = await pending;
    expect({ what, status: res.status }).toEqual({ what, status: 401 });
    // Opaque: nothing about why.
    expect(await res.text()).toBe('');
  }
  await expectNothingChanged();
});

test('a charset suffix on the content type is not Slack: refused without effect (Bolt needs the exact type)', async () => {
  const body = fixtureBody('charset', USERS.grace.id);
  const res = await postRaw(body, { ...signed(body), 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  await expectNothingChanged();
});

test('a forged button click and a forged event change nothing either', async () => {
  const payload = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'block-actions-acknowledge.json'), 'utf8')) as Record<string, unknown>;
  const click = await postSignedForm(h.eventsUrl, { payload: JSON.stringify(payload) }, { signingSecret: 'wrong-secret' });
  expect(click.status).toBe(401);
  const event = await postEvent(
    h.eventsUrl,
    { type: 'reaction_added', user: USERS.grace.id, reaction: 'memo', item: { type: 'message', channel: 'C1', ts: '1.000001' } },
    { signingSecret: SIGNING_SECRET, timestamp: Math.floor(Date.now() / 1000) + 400 },
  );
  expect(event.status).toBe(401);
  await expectNothingChanged();
});

test('the same request correctly signed now goes through: the fixture declares through the service', async () => {
  // As captured, the fixture's user (priya.raman) is not in the on-call config: a viewer, who may not declare.
  const asIs = fixtureBody('as-is');
  const refused = await postRaw(asIs, signed(asIs));
  expect(refused.status).toBe(200);
  const refusal = await h.response('as-is');
  expect(refusal.body).toMatchObject({ response_type: 'ephemeral' });
  expect(refusal.body.text).toMatch(/Only a commander or above may declare incidents; your Slack account is not linked/);
  const audit = await eventually(
    async () => (await h.store.listAudit({ limit: 50 })).find((a) => a.actor.id === 'slack:U07QK4M2N8R'),
    'the refusal in the audit log',
  );
  expect(audit).toMatchObject({
    actor: { id: 'slack:U07QK4M2N8R', name: 'priya.raman', role: 'viewer' },
    action: 'incident.declare',
    outcome: 'rejected',
    method: 'slack',
  });
  expect((await h.store.listIncidents({ limit: 10 })).items).toEqual([]);

  const body = fixtureBody('ok', USERS.grace.id);
  const res = await postRaw(body, signed(body));
  expect(res.status).toBe(200);
  const answer = await h.response('ok');
  expect(answer.body.response_type).toBe('in_channel');
  const [incident] = (await h.store.listIncidents({ limit: 10 })).items;
  expect(incident).toMatchObject({
    title: 'Orders DB primary unreachable, checkout failing',
    severity: 'SEV1',
    runbookId: 'triage',
    trigger: { kind: 'manual', by: { id: 'slack:U0GRACE', name: 'Grace Hopper', role: 'commander' } },
  });
  expect(answer.body.text).toContain(incident!.id);
});

test('Events API: the URL verification challenge is answered only when signed', async () => {
  const challenge = { type: 'url_verification', token: 'legacy', challenge: 'c-123' };
  const ok = await fetch(h.eventsUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
      'x-slack-signature': slackSignature(SIGNING_SECRET, Math.floor(Date.now() / 1000), JSON.stringify(challenge)),
    },
    body: JSON.stringify(challenge),
  });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ challenge: 'c-123' });
  const forged = await fetch(h.eventsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(challenge),
  });
  expect(forged.status).toBe(401);
});

/** A raw POST from another loopback address, so throttling it leaves the other tests' 127.0.0.1 alone. */
function postFrom(from: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(h.eventsUrl, { method: 'POST', headers, localAddress: from, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The audit rows and incidents so far: a refusal is answered before any handler runs, so they must not move. */
async function counts(): Promise<[number, number]> {
  return [(await h.store.listAudit({ limit: 500 })).length, (await h.store.listIncidents({ limit: 200 })).items.length];
}

test('a correctly signed body that is not UTF-8 is refused with 400 and changes nothing', async () => {
  const before = await counts();
  const good = fixtureBody('utf8');
  const body = Buffer.concat([Buffer.from(good.replace(/text=[^&]*/, 'text=')), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]);
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', SIGNING_SECRET)
    .update(Buffer.concat([Buffer.from(`v0:${ts}:`), body]))
    .digest('hex')}`;
  const status = await postFrom('127.0.0.11', body, {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': signature,
  });
  expect(status).toBe(400);
  expect(await counts()).toEqual(before);
});

test('forged signatures from one address: 401 up to the limit, then 429 even for a correct one', async () => {
  const before = await counts();
  const body = fixtureBody('forged');
  const forged = { ...signed(body), 'x-slack-signature': `v0=${'0'.repeat(64)}` };
  for (let i = 0; i < DEFAULT_AUTH_THROTTLE.limit; i++) expect(await postFrom('127.0.0.12', Buffer.from(body), forged)).toBe(401);
  expect(await postFrom('127.0.0.12', Buffer.from(body), signed(body))).toBe(429);
  expect(await counts()).toEqual(before);
});
