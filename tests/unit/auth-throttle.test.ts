// The auth throttle on a real SQLite store with an injected clock: the limit per door and address, the window's
// end in Retry-After, and replicas sharing counts through the store.
import { createAuthThrottle } from '../../src/services/auth-throttle';
import type { Store } from '../../src/store/store';
import { openSqliteStore } from '../../src/store/sqlite';
import { openTestStore, tempDir } from '../support/temporal';

const policy = { limit: 3, windowMs: 60_000 };
// 12:00:10 on some day: 50 s left in the minute's window.
const start = Date.UTC(2026, 0, 5, 12, 0, 10);

let store: Store;
let clock: number;
const now = () => new Date(clock);

beforeEach(async () => {
  store = await openTestStore();
  clock = start;
});
afterEach(() => store.close());

test('refuses an address at one door after the limit until the window ends', async () => {
  const throttle = createAuthThrottle({ store, policy, now });
  for (let i = 0; i < 2; i++) await throttle.failed('bearer', '10.0.0.9');
  expect(throttle.retryAfter('bearer', '10.0.0.9')).toBeUndefined();
  await throttle.failed('bearer', '10.0.0.9');
  expect(throttle.retryAfter('bearer', '10.0.0.9')).toBe(50);
  // Other addresses and other doors of the same address are untouched.
  expect(throttle.retryAfter('bearer', '10.0.0.10')).toBeUndefined();
  expect(throttle.retryAfter('integration', '10.0.0.9')).toBeUndefined();
  clock += 49_500;
  expect(throttle.retryAfter('bearer', '10.0.0.9')).toBe(1);
  clock += 500;
  expect(throttle.retryAfter('bearer', '10.0.0.9')).toBeUndefined();
});

test('counts every failure even when they arrive together', async () => {
  const throttle = createAuthThrottle({ store, policy: { limit: 100, windowMs: 60_000 }, now });
  await Promise.all(Array.from({ length: 40 }, () => throttle.failed('session', '::1')));
  const other = createAuthThrottle({ store, policy: { limit: 41, windowMs: 60_000 }, now });
  // The store holds all 40: a replica that then sees one more reaches 41.
  await other.failed('session', '::1');
  expect(other.retryAfter('session', '::1')).toBe(50);
});

test('replicas share counts through the store: each lets at most one more through', async () => {
  const file = tempDir();
  const a = openSqliteStore(`${file}/throttle.db`);
  await a.migrate();
  const b = openSqliteStore(`${file}/throttle.db`);
  try {
    const ta = createAuthThrottle({ store: a, policy, now });
    const tb = createAuthThrottle({ store: b, policy, now });
    for (let i = 0; i < 3; i++) await ta.failed('slack', '10.1.1.1');
    expect(ta.retryAfter('slack', '10.1.1.1')).toBe(50);
    expect(tb.retryAfter('slack', '10.1.1.1')).toBeUndefined();
    await tb.failed('slack', '10.1.1.1');
    expect(tb.retryAfter('slack', '10.1.1.1')).toBe(50);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a store that fails loses no local count and reports the error', async () => {
  const errors: unknown[] = [];
  const broken = { addAuthFailures: () => Promise.reject(new Error('disk full')), pruneAuthFailures: () => Promise.resolve(0) };
  const throttle = createAuthThrottle({ store: broken, policy, now, onError: (err) => errors.push(err) });
  for (let i = 0; i < 3; i++) await throttle.failed('bearer', '10.0.0.9');
  expect(throttle.retryAfter('bearer', '10.0.0.9')).toBe(50);
  expect(errors).toHaveLength(3);
});
