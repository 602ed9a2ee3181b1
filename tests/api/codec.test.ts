// The codec server as the Temporal Web UI and CLI call it: real app, real key ring, a real incident's history.
import { payloadToJSON } from '@temporalio/common/lib/proto-utils';
import type { JSONPayload } from '@temporalio/common/lib/proto-utils';
import { createApp } from '../../src/api/app';
import { parseKeyRing, newKeyEntry } from '../../src/crypto/key-ring';
import { createPayloadCodecService } from '../../src/services/payload-codec';
import {
  API_UI_ORIGIN,
  declareIncident,
  expectError,
  expectFieldError,
  listen,
  send,
  startApiHarness,
  waitForOpenDecision,
} from '../support/api';
import type { ApiHarness, ApiResponse } from '../support/api';
import { rawHistory } from '../support/encrypted-history';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApiHarness({ name: 'api-codec' });
});
afterAll(async () => {
  await api?.stop();
});

type Payloads = { payloads: JSONPayload[] };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const text = (s: string | null | undefined) => Buffer.from(s ?? '', 'base64').toString();
const jsonPayload = (value: unknown): JSONPayload => ({ metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify(value)) });

const codec = (op: string, body: unknown, opts: { headers?: Record<string, string> } = {}) =>
  api.post<Payloads>(`/codec/${op}`, { as: 'viewer', body, headers: { 'x-namespace': 'default', ...opts.headers } });

test('encode seals every payload under the current key, and decode gives back exactly what went in, in order', async () => {
  const plain = [jsonPayload({ secret: 'db password hunter2' }), jsonPayload('second'), { metadata: { encoding: b64('binary/null') } }];
  const encoded = await codec('encode', { payloads: plain });
  expect(encoded.status).toBe(200);
  expect(encoded.body.payloads).toHaveLength(3);
  for (const p of encoded.body.payloads) {
    expect(text(p.metadata?.encoding)).toBe('binary/encrypted');
    expect(text(p.metadata?.['encryption-key-id'])).toBe('test-k1');
    expect(text(p.data)).not.toContain('hunter2');
  }
  const decoded = await codec('decode', encoded.body);
  expect(decoded.status).toBe(200);
  expect(decoded.body.payloads).toEqual(plain);
  // Payloads from before encryption (or exported decoded) pass through untouched.
  expect((await codec('decode', { payloads: plain })).body.payloads).toEqual(plain);
  expect((await codec('decode', { payloads: [] })).body).toEqual({ payloads: [] });
});

test("a real incident's history decodes through /codec/<namespace>/decode, as the Web UI asks", async () => {
  const incident = await declareIncident(api, { title: 'Checkout 502s (codec)', runbook: 'flow' });
  await waitForOpenDecision(api, incident.id, 'strategy');
  const history = await rawHistory(api.client, incident.workflowId);
  const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!.map((p) => payloadToJSON(p));
  expect(text(input[0]!.metadata!.encoding)).toBe('binary/encrypted');
  const decoded = await codec('default/decode', { payloads: input });
  expect(decoded.status).toBe(200);
  expect(text(decoded.body.payloads[0]!.metadata!.encoding)).toBe('json/plain');
  expect(JSON.parse(text(decoded.body.payloads[0]!.data))).toMatchObject({ incident: { title: 'Checkout 502s (codec)' } });
  // The CLI appends /decode to an endpoint that may end in a slash.
  expect((await codec('default//decode', { payloads: input })).status).toBe(200);
});

test('bad bodies are 400s naming the field, payloads that do not open are 400s naming the payload, never 500', async () => {
  expectFieldError(await codec('decode', {}), 'payloads');
  expectFieldError(await codec('decode', { payloads: [{ data: 'not base64!' }] }), 'payloads.0.data');
  expectFieldError(
    await codec('decode', { payloads: [{ metadata: { encoding: '%%%' }, data: b64('x') }] }),
    'payloads.0.metadata.encoding',
  );
  expectFieldError(await codec('encode', { payloads: 'all of them' }), 'payloads');
  expectError(
    await api.post('/codec/decode', { as: 'viewer', raw: '{"payloads": [', headers: { 'content-type': 'application/json' } }),
    400,
  );

  const [sealed] = (await codec('encode', { payloads: [jsonPayload('tamper with me')] })).body.payloads;
  const bytes = Buffer.from(sealed!.data!, 'base64');
  bytes[bytes.length - 1]! ^= 1;
  const tampered = expectFieldError(
    await codec('decode', { payloads: [jsonPayload('fine'), { ...sealed, data: bytes.toString('base64') }] }),
    'payloads.1',
  );
  expect(tampered.message).toContain('integrity check');

  const entry = newKeyEntry('elsewhere');
  const other = parseKeyRing(entry);
  const foreign = await createPayloadCodecService({ keys: other }).encode([
    { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') },
  ]);
  const unknown = expectFieldError(await codec('decode', { payloads: foreign.map((p) => payloadToJSON(p)) }), 'payloads.0');
  expect(unknown.message).toContain('no key "elsewhere"');
  // Only key ids are ever named, never key material.
  expect(unknown.message).not.toContain(entry.slice('elsewhere='.length));

  const noKeyId = { metadata: { encoding: b64('binary/encrypted') }, data: b64('x'.repeat(40)) };
  expectFieldError(await codec('decode', { payloads: [noKeyId] }), 'payloads.0');
  expectError(await api.post('/codec/decode', { as: 'viewer', raw: 'payloads', headers: { 'content-type': 'text/plain' } }), 415);
});

test('the codec server needs a token or a session, and knows only encode and decode', async () => {
  expectError(await api.post('/codec/decode', { body: { payloads: [] } }), 401, 'unauthorized');
  expectError(await api.post('/codec/encode', { body: { payloads: [] }, headers: { authorization: 'Bearer flt_nope' } }), 401);
  expectError(await api.post('/codec/default/download', { as: 'viewer', body: { payloads: [] } }), 404, 'not_found');
  expectError(await api.get('/codec/decode', { as: 'viewer' }), 404);

  // A signed-in page session stands without the CSRF header: the UI on another origin cannot send it, and
  // decoding changes nothing. The same cookie still needs the header for a write.
  const signIn = await api.post('/api/v1/session', { body: { token: api.tokens.viewer } });
  const session = signIn.headers.getSetCookie().find((c) => c.startsWith('fireline_session='))!;
  const cookie = session.slice(0, session.indexOf(';'));
  const viaCookie = await api.post<Payloads>('/codec/decode', { body: { payloads: [jsonPayload(1)] }, headers: { cookie } });
  expect(viaCookie.status).toBe(200);
  expectError(await api.post('/api/v1/incidents', { body: { title: 'x', runbook: 'flow' }, headers: { cookie } }), 403, 'csrf_failed');
});

function preflight(origin: string, url = api.url): Promise<ApiResponse<unknown>> {
  return send(url, {}, 'OPTIONS', '/codec/decode', {
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace,authorization,authorization-extras',
    },
  });
}

test('CORS lets the configured Temporal UI origin in, with credentials, and no other', async () => {
  const allowed = await preflight(API_UI_ORIGIN);
  expect(allowed.status).toBeLessThan(300);
  expect(allowed.headers.get('access-control-allow-origin')).toBe(API_UI_ORIGIN);
  expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
  expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
  expect(allowed.headers.get('access-control-allow-headers')?.split(',').sort()).toEqual([
    'authorization',
    'authorization-extras',
    'content-type',
    'x-namespace',
  ]);
  const post = await codec('decode', { payloads: [] }, { headers: { origin: API_UI_ORIGIN } });
  expect(post.headers.get('access-control-allow-origin')).toBe(API_UI_ORIGIN);

  for (const origin of ['http://evil.example.test', 'http://temporal-ui.example.test:9999']) {
    expect((await preflight(origin)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await codec('decode', { payloads: [] }, { headers: { origin } })).headers.get('access-control-allow-origin')).toBeNull();
  }

  // Without FIRELINE_TEMPORAL_UI_ORIGIN no browser origin is let in at all.
  const bare = await listen(
    createApp({ ...api.deps, codec: { codec: createPayloadCodecService({ keys: parseKeyRing(newKeyEntry('k')) }) } }),
  );
  try {
    const refused = await preflight(API_UI_ORIGIN, bare.url);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await bare.close();
  }
});
