// Maintenance windows: matcher semantics, time windows, input checks, and the SQLite store methods.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSilenceSchema, findSilence, isSilenced, matcherMatches, SilenceCache, silenceWindow } from '../../src/ingest/silences';
import type { SilenceMatcher, SilenceRecord } from '../../src/ingest/silences';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';

const T0 = '2026-04-21T08:00:00.000Z';
const T1 = '2026-04-21T10:00:00.000Z';

function silence(matchers: SilenceMatcher[], over: Partial<SilenceRecord> = {}): SilenceRecord {
  return {
    id: over.id ?? `s-${Math.random().toString(16).slice(2)}`,
    matchers,
    startsAt: T0,
    endsAt: T1,
    comment: 'maintenance',
    createdBy: { id: 'token:1', name: 'Ada Admin' },
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

const alert = (labels: Record<string, string>) => ({ labels });
const during = '2026-04-21T09:00:00.000Z';

describe('isSilenced', () => {
  test('equality, inequality, regex (anchored) and negated regex; every matcher must hold', () => {
    const s = [
      silence([
        { name: 'service', value: 'orders', op: '=' },
        { name: 'env', value: 'staging', op: '!=' },
        { name: 'instance', value: 'orders-db-[0-9]+', op: '=~' },
        { name: 'alertname', value: 'Watchdog|InfoInhibitor', op: '!~' },
      ]),
    ];
    expect(isSilenced(s, alert({ service: 'orders', env: 'prod', instance: 'orders-db-1', alertname: 'OrderDBDown' }), during)).toBe(true);
    expect(isSilenced(s, alert({ service: 'orders', env: 'staging', instance: 'orders-db-1', alertname: 'OrderDBDown' }), during)).toBe(
      false,
    );
    expect(isSilenced(s, alert({ service: 'orders', env: 'prod', instance: 'xorders-db-1', alertname: 'OrderDBDown' }), during)).toBe(
      false,
    );
    expect(isSilenced(s, alert({ service: 'orders', env: 'prod', instance: 'orders-db-1x', alertname: 'OrderDBDown' }), during)).toBe(
      false,
    );
    expect(isSilenced(s, alert({ service: 'orders', env: 'prod', instance: 'orders-db-1', alertname: 'Watchdog' }), during)).toBe(false);
    expect(isSilenced(s, alert({ service: 'checkout', env: 'prod', instance: 'orders-db-1', alertname: 'OrderDBDown' }), during)).toBe(
      false,
    );
    // A missing label reads as "": `env != staging` holds when env is absent.
    expect(isSilenced(s, alert({ service: 'orders', instance: 'orders-db-7', alertname: 'OrderDBDown' }), during)).toBe(true);
  });

  test('only between startsAt (inclusive) and endsAt (exclusive)', () => {
    const s = [silence([{ name: 'service', value: 'orders', op: '=' }])];
    const a = alert({ service: 'orders' });
    expect(isSilenced(s, a, '2026-04-21T07:59:59.999Z')).toBe(false);
    expect(isSilenced(s, a, T0)).toBe(true);
    expect(isSilenced(s, a, new Date('2026-04-21T09:59:59.999Z'))).toBe(true);
    expect(isSilenced(s, a, T1)).toBe(false);
  });

  test('the first matching silence is named', () => {
    const a = silence([{ name: 'service', value: 'checkout', op: '=' }], { id: 'a' });
    const b = silence([{ name: 'service', value: 'orders', op: '=' }], { id: 'b' });
    expect(findSilence([a, b], alert({ service: 'orders' }), during)?.id).toBe('b');
    expect(findSilence([], alert({ service: 'orders' }), during)).toBeUndefined();
  });

  test('label names that mean something to JavaScript objects are only data', () => {
    const s = [silence([{ name: 'constructor', value: '', op: '!=' }])];
    expect(isSilenced(s, alert({ service: 'orders' }), during)).toBe(false);
    expect(matcherMatches({ name: 'x', value: '(', op: '=~' }, '(')).toBe(false);
  });
});

describe('CreateSilenceSchema and silenceWindow', () => {
  const now = new Date(T0);
  const parse = (body: unknown) => CreateSilenceSchema.safeParse(body);

  test('a window by endsAt or by duration', () => {
    const byEnd = parse({ matchers: [{ name: 'service', value: 'orders' }], endsAt: T1, comment: 'DB upgrade CHG-1234' });
    expect(byEnd.success && byEnd.data.matchers[0]?.op).toBe('=');
    expect(byEnd.success && silenceWindow(byEnd.data, now)).toEqual({ startsAt: T0, endsAt: T1 });
    const byDuration = parse({
      matchers: [{ name: 'service', value: 'orders', op: '=' }],
      startsAt: '2026-04-21T12:00:00+02:00',
      duration: '90m',
      comment: 'x',
    });
    expect(byDuration.success && silenceWindow(byDuration.data, now)).toEqual({
      startsAt: '2026-04-21T10:00:00.000Z',
      endsAt: '2026-04-21T11:30:00.000Z',
    });
  });

  test('refusals', () => {
    const paths = (body: unknown) => {
      const r = parse(body);
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    const ok = { matchers: [{ name: 'service', value: 'orders' }], endsAt: T1, comment: 'x' };
    expect(paths({ ...ok, matchers: [] })).toEqual(['matchers']);
    expect(paths({ ...ok, matchers: [{ name: 'service', value: '.*', op: '=~' }] })).toEqual(['matchers']);
    expect(paths({ ...ok, matchers: [{ name: 'service', value: '([', op: '=~' }] })).toEqual(['matchers.0.value']);
    expect(paths({ ...ok, matchers: [{ name: 'service', value: 'x', op: '~' }] })).toEqual(['matchers.0.op']);
    expect(paths({ ...ok, duration: '2h' })).toEqual(['endsAt']);
    expect(paths({ matchers: ok.matchers, comment: 'x' })).toEqual(['endsAt']);
    expect(paths({ ...ok, comment: '  ' })).toEqual(['comment']);
    expect(paths({ ...ok, extra: 1 })).toEqual(['']);

    const window = (body: object, at = now) => {
      const r = parse({ ...ok, ...body });
      if (!r.success) throw new Error('schema');
      return silenceWindow(r.data, at);
    };
    expect(window({ endsAt: '2026-04-21T07:00:00Z' })).toEqual({ error: { path: 'endsAt', message: 'must be after startsAt' } });
    expect(window({ startsAt: '2026-04-20T00:00:00Z', endsAt: '2026-04-20T01:00:00Z' })).toEqual({
      error: { path: 'endsAt', message: 'must be in the future' },
    });
    expect(window({ endsAt: undefined, duration: '91d' })).toEqual({
      error: { path: 'endsAt', message: 'a silence lasts at most 90 days' },
    });
  });
});

describe('SQLite store silences', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fireline-silences-'));
    store = openSqliteStore(join(dir, 'fireline.db'));
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('insert, get, list (all and active), expire', async () => {
    const active = silence([{ name: 'service', value: 'orders', op: '=' }], { id: 'active' });
    const pending = silence([{ name: 'service', value: 'checkout', op: '=~' }], {
      id: 'pending',
      startsAt: '2026-04-21T09:30:00.000Z',
      endsAt: '2026-04-21T11:00:00.000Z',
    });
    const past = silence([{ name: 'env', value: 'prod', op: '!=' }], {
      id: 'past',
      startsAt: '2026-04-20T00:00:00.000Z',
      endsAt: '2026-04-20T01:00:00.000Z',
    });
    for (const s of [active, pending, past]) await store.insertSilence(s);

    expect(await store.getSilence('active')).toEqual(active);
    expect(await store.getSilence('nope')).toBeUndefined();
    expect((await store.listSilences({})).map((s) => s.id)).toEqual(['pending', 'active', 'past']);
    expect((await store.listSilences({ limit: 1 })).map((s) => s.id)).toEqual(['pending']);
    expect((await store.listSilences({ activeAt: during })).map((s) => s.id)).toEqual(['active']);
    expect((await store.listSilences({ activeAt: '2026-04-21T09:45:00.000Z' })).map((s) => s.id)).toEqual(['pending', 'active']);

    const expired = await store.expireSilence('active', during);
    expect(expired).toMatchObject({ id: 'active', startsAt: T0, endsAt: during, updatedAt: during });
    // Expiring a pending silence moves its start too, so the record stays a valid (empty) window.
    expect(await store.expireSilence('pending', during)).toMatchObject({ startsAt: during, endsAt: during });
    // Already expired: unchanged.
    expect(await store.expireSilence('past', during)).toEqual(past);
    expect(await store.expireSilence('nope', during)).toBeUndefined();
    expect(await store.listSilences({ activeAt: during })).toEqual([]);
  });

  test('SilenceCache: synchronous checks for the sink, refreshed from the store', async () => {
    let now = new Date(during);
    const cache = new SilenceCache(store, { now: () => now, refreshMs: 60_000 });
    await cache.start();
    const orders = alert({ service: 'orders' });
    expect(cache.isSilenced(orders, now)).toBe(false);
    await store.insertSilence(silence([{ name: 'service', value: 'orders', op: '=' }], { id: 'orders' }));
    await store.insertSilence(
      silence([{ name: 'service', value: 'checkout', op: '=' }], { id: 'later', startsAt: '2026-04-21T09:30:00.000Z' }),
    );
    await store.insertSilence(silence([{ name: 'service', value: 'search', op: '=' }], { id: 'over', endsAt: '2026-04-21T08:30:00.000Z' }));
    expect(cache.isSilenced(orders, now)).toBe(false);
    await cache.refresh();
    expect(cache.isSilenced(orders, now)).toBe(true);
    expect(cache.find(orders, now)?.id).toBe('orders');
    // Pending silences are held too, and apply once their time comes.
    expect(cache.isSilenced(alert({ service: 'checkout' }), now)).toBe(false);
    expect(cache.isSilenced(alert({ service: 'checkout' }), '2026-04-21T09:31:00.000Z')).toBe(true);
    expect(cache.isSilenced(alert({ service: 'search' }), now)).toBe(false);
    await store.expireSilence('orders', now.toISOString());
    now = new Date('2026-04-21T09:01:00.000Z');
    await cache.refresh();
    expect(cache.isSilenced(orders, now)).toBe(false);
    cache.stop();
  });
});
