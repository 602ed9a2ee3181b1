// Health and readiness over real HTTP.
import { createApp } from '../../src/api/app';
import type { Store } from '../../src/store/store';
import { listen, send, startApiHarness } from '../support/api';
import type { ApiHarness } from '../support/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-health' });
});
afterAll(async () => {
  await api?.stop();
});

describe('health', () => {
  test('GET /healthz → 200 ok without a token', async () => {
    const res = await api.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', temporal: 'ok', store: 'ok' });
  });

  test('503 degraded when Temporal or the store does not answer', async () => {
    const noTemporal = await listen(createApp({ ...api.deps, checkTemporal: () => Promise.reject(new Error('connection refused')) }));
    try {
      const res = await send(noTemporal.url, {}, 'GET', '/healthz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'degraded', temporal: 'unreachable', store: 'ok' });
    } finally {
      await noTemporal.close();
    }
    const brokenStore = new Proxy(api.store, {
      get: (target, prop, receiver) =>
        prop === 'ping' ? () => Promise.reject(new Error('database is locked')) : Reflect.get(target, prop, receiver),
    }) as Store;
    const noStore = await listen(createApp({ ...api.deps, store: brokenStore }));
    try {
      const res = await send(noStore.url, {}, 'GET', '/healthz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'degraded', temporal: 'ok', store: 'unreachable' });
    } finally {
      await noStore.close();
    }
  });
});
