// Maintenance windows over real HTTP: admin only, validated, audited, expired rather than deleted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../src/api/app';
import type { Role } from '../../src/domain/roles';
import { parseAlertmanager } from '../../src/ingest/alertmanager';
import { isSilenced, SilenceCache } from '../../src/ingest/silences';
import type { SilenceRecord } from '../../src/ingest/silences';
import { createLogger } from '../../src/logger';
import type { IncidentService } from '../../src/services/incidents';
import { createTokenService } from '../../src/services/tokens';
import type { Store } from '../../src/store/store';
import { expectError, expectFieldError, listen, send } from '../support/api';
import type { RequestOptions } from '../support/api';
import { openTestStore, tempDir } from '../support/temporal';
import { cliActionContext } from '../../src/services/audit';

type SilenceView = SilenceRecord & { state: 'pending' | 'active' | 'expired' };

let url: string;
let close: () => Promise<void>;
let store: Store;
const tokens: Partial<Record<Role, string>> = {};
const tokenIds: Partial<Record<Role, string>> = {};
let cache: SilenceCache;

beforeAll(async () => {
  store = await openTestStore(tempDir());
  const tokenService = createTokenService({ store });
  for (const role of ['viewer', 'responder', 'commander', 'admin'] as const) {
    const created = await tokenService.create(`${role} token`, role, cliActionContext('tests', 'token create'));
    tokens[role] = created.token;
    tokenIds[role] = created.record.id;
  }
  // A long refresh interval: only the API's own refresh after each change can update it during the test.
  cache = new SilenceCache(store, { refreshMs: 3_600_000 });
  await cache.start();
  const app = createApp({
    silenceCache: cache,
    logger: createLogger({ level: process.env.FIRELINE_TEST_LOG_LEVEL ?? 'silent' }),
    store,
    incidents: {} as IncidentService,
    tokens: tokenService,
    runbooks: { list: async () => [], get: async () => undefined },
    checkTemporal: async () => undefined,
  });
  const server = await listen(app);
  url = server.url;
  close = server.close;
});
afterAll(async () => {
  cache?.stop();
  await close?.();
  await store?.close();
});

const request = <T>(method: string, path: string, opts?: RequestOptions) => send<T>(url, tokens, method, path, opts);
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

const ORDERS_MAINTENANCE = {
  matchers: [
    { name: 'service', value: 'orders' },
    { name: 'instance', value: 'orders-db-[01]\\..*', op: '=~' },
    { name: 'env', value: 'staging', op: '!=' },
  ],
  duration: '2h',
  comment: 'Postgres minor upgrade, CHG-2231',
};

describe('silences API', () => {
  test('an admin creates, lists, reads and expires a silence; each change is audited', async () => {
    const created = await request<{ silence: SilenceView }>('POST', '/api/v1/silences', { as: 'admin', body: ORDERS_MAINTENANCE });
    expect({ status: created.status, text: created.text }).toMatchObject({ status: 201 });
    const silence = created.body.silence;
    expect(created.headers.get('location')).toBe(`/api/v1/silences/${silence.id}`);
    expect(silence).toMatchObject({
      state: 'active',
      matchers: [
        { name: 'service', value: 'orders', op: '=' },
        { name: 'instance', value: 'orders-db-[01]\\..*', op: '=~' },
        { name: 'env', value: 'staging', op: '!=' },
      ],
      comment: 'Postgres minor upgrade, CHG-2231',
      createdBy: { id: `token:${tokenIds.admin}`, name: 'admin token' },
    });
    expect(Date.parse(silence.endsAt) - Date.parse(silence.startsAt)).toBe(2 * 3_600_000);

    const pending = await request<{ silence: SilenceView }>('POST', '/api/v1/silences', {
      as: 'admin',
      body: {
        matchers: [{ name: 'service', value: 'checkout' }],
        startsAt: inHours(1),
        endsAt: inHours(3),
        comment: 'checkout deploy freeze test',
      },
    });
    expect(pending.body.silence.state).toBe('pending');

    const all = await request<{ silences: SilenceView[] }>('GET', '/api/v1/silences', { as: 'admin' });
    expect(all.body.silences.map((s) => s.id)).toEqual([pending.body.silence.id, silence.id]);
    const active = await request<{ silences: SilenceView[] }>('GET', '/api/v1/silences?state=active', { as: 'admin' });
    expect(active.body.silences.map((s) => s.id)).toEqual([silence.id]);
    expect((await request<{ silence: SilenceView }>('GET', `/api/v1/silences/${silence.id}`, { as: 'admin' })).body.silence.id).toBe(
      silence.id,
    );

    // What the sink will do with it: the order-db fixture's alerts are silenced, checkout's are not.
    const stored = await store.listSilences({ activeAt: new Date().toISOString() });
    const fixture = JSON.parse(
      readFileSync(join(__dirname, '..', 'fixtures', 'reference', 'alertmanager', 'firing-order-db-down.json'), 'utf8'),
    );
    const parsed = parseAlertmanager(fixture, { integration: 'am' });
    if (!parsed.ok) throw new Error('fixture');
    expect(parsed.value.alerts.map((a) => isSilenced(stored, a, new Date()))).toEqual([true, true]);
    // The sink's cache learnt of it from the API at once.
    expect(parsed.value.alerts.map((a) => cache.isSilenced(a, new Date()))).toEqual([true, true]);

    const expired = await request<{ silence: SilenceView }>('DELETE', `/api/v1/silences/${silence.id}`, { as: 'admin' });
    expect(expired.status).toBe(200);
    expect(expired.body.silence.state).toBe('expired');
    expect(Date.parse(expired.body.silence.endsAt)).toBeLessThanOrEqual(Date.now());
    // Idempotent: expiring again changes nothing and is not audited again.
    const again = await request<{ silence: SilenceView }>('DELETE', `/api/v1/silences/${silence.id}`, { as: 'admin' });
    expect(again.body.silence.endsAt).toBe(expired.body.silence.endsAt);
    expect((await request<{ silences: SilenceView[] }>('GET', '/api/v1/silences?state=active', { as: 'admin' })).body.silences).toEqual([]);
    expect(isSilenced(await store.listSilences({ activeAt: new Date().toISOString() }), parsed.value.alerts[0]!, new Date())).toBe(false);
    expect(cache.isSilenced(parsed.value.alerts[0]!, new Date())).toBe(false);

    const audit = await store.listAudit({ limit: 50 });
    const mine = audit
      .filter((a) => a.action.startsWith('silence.'))
      .map((a) => [a.action, a.actor.id, a.details.silenceId, a.path, a.method]);
    expect(mine).toEqual(
      expect.arrayContaining([
        ['silence.create', `token:${tokenIds.admin}`, silence.id, '/api/v1/silences/', 'POST'],
        ['silence.create', `token:${tokenIds.admin}`, pending.body.silence.id, '/api/v1/silences/', 'POST'],
        ['silence.expire', `token:${tokenIds.admin}`, silence.id, `/api/v1/silences/${silence.id}`, 'DELETE'],
      ]),
    );
    expect(mine.filter(([action]) => action === 'silence.expire')).toHaveLength(1);
  });

  test('admins only: 401 without a token, 403 for commander, responder and viewer', async () => {
    const created = await request<{ silence: SilenceView }>('POST', '/api/v1/silences', { as: 'admin', body: ORDERS_MAINTENANCE });
    const id = created.body.silence.id;
    for (const role of ['commander', 'responder', 'viewer'] as const) {
      expect(
        expectError(await request('POST', '/api/v1/silences', { as: role, body: ORDERS_MAINTENANCE }), 403, 'forbidden').message,
      ).toContain('admin');
      expectError(await request('GET', '/api/v1/silences', { as: role }), 403, 'forbidden');
      expectError(await request('GET', `/api/v1/silences/${id}`, { as: role }), 403, 'forbidden');
      expectError(await request('DELETE', `/api/v1/silences/${id}`, { as: role }), 403, 'forbidden');
    }
    expectError(await request('POST', '/api/v1/silences', { body: ORDERS_MAINTENANCE }), 401, 'unauthorized');
    expectError(await request('DELETE', `/api/v1/silences/${id}`), 401, 'unauthorized');
    expect((await store.getSilence(id))?.endsAt).toBe(created.body.silence.endsAt);
  });

  test('bad input names the field', async () => {
    const post = (body: unknown) => request('POST', '/api/v1/silences', { as: 'admin', body });
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, matchers: [] }), 'matchers');
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, matchers: [{ name: 'service', value: '.*', op: '=~' }] }), 'matchers');
    expectFieldError(
      await post({ ...ORDERS_MAINTENANCE, matchers: [{ name: 'service', value: '(unclosed', op: '=~' }] }),
      'matchers.0.value',
    );
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, matchers: [{ name: 'service', value: 'x', op: 'LIKE' }] }), 'matchers.0.op');
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, comment: '' }), 'comment');
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, endsAt: inHours(1) }), 'endsAt');
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, duration: undefined, endsAt: inHours(-1) }), 'endsAt');
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, duration: '100d' }), 'endsAt');
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, duration: 'forever' }), 'duration');
    expectFieldError(await post({ ...ORDERS_MAINTENANCE, startsAt: 'tomorrow' }), 'startsAt');
    expect(expectError(await post({ ...ORDERS_MAINTENANCE, owner: 'me' }), 400).message).toContain('owner');
    expectError(
      await request('POST', '/api/v1/silences', { as: 'admin', raw: '{"matchers":', headers: { 'content-type': 'application/json' } }),
      400,
      'invalid_json',
    );
    expectError(
      await request('POST', '/api/v1/silences', { as: 'admin', raw: 'matchers=x', headers: { 'content-type': 'text/plain' } }),
      415,
    );
    expectError(await request('GET', '/api/v1/silences?state=soon', { as: 'admin' }), 400);
  });

  test('unknown ids → 404', async () => {
    expectError(await request('DELETE', '/api/v1/silences/7d0b0a57-3f62-4d4c-9a43-6f5b0f0e1c2d', { as: 'admin' }), 404, 'not_found');
    expectError(await request('GET', '/api/v1/silences/not-a-uuid', { as: 'admin' }), 404, 'not_found');
  });
});
