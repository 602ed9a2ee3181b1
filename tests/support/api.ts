// The real HTTP app in-process, wired as src/launch/api.ts wires it: a real Temporal client against the test
// dev server, a real SQLite store, a real runbook catalog over a temp directory and a worker on its own queue.
import fs from 'node:fs';
import http from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import { createApp } from '../../src/api/app';
import type { AppDeps } from '../../src/api/app';
import type { IncidentRecord } from '../../src/domain/incident';
import type { Role } from '../../src/domain/roles';
import type { TimelineEvent } from '../../src/domain/timeline';
import { createLogger } from '../../src/logger';
import { RunbookCatalog } from '../../src/runbooks/catalog';
import { createAuthThrottle } from '../../src/services/auth-throttle';
import type { AuthThrottle } from '../../src/services/auth-throttle';
import { createIncidentService } from '../../src/services/incidents';
import { createPayloadCodecService } from '../../src/services/payload-codec';
import type { IncidentDetail } from '../../src/services/incidents';
import { createTokenService } from '../../src/services/tokens';
import type { TokenService } from '../../src/services/tokens';
import type { Store } from '../../src/store/store';
import type { IncidentView } from '../../workflows/messages';
import { TEST_KEY_RING, testDataConverter } from './keys';
import { eventually, openTestStore, startTestWorker, tempDir, testTemporal, uniqueTaskQueue } from './temporal';
import type { TestWorker } from './temporal';
import { cliActionContext } from '../../src/services/audit';

/**
 * Small runbooks with short durations, written as YAML files the way authors write them.
 * - flow: six phases, a notify in each, a decision that waits (10m) for a human, auto-resolves; risk → SEV1.
 * - hold: a long decision (1h) and `autoResolve: false`, so the incident stays open until steered; SEV2.
 * - quick: a decision that times out after 1s and takes its default; no severity (→ SEV3 fallback).
 * - instant: only a retrospective step, closes on its own at once; risk unlikely × minor → SEV4.
 * - ask-responder: a long decision whose least approver is a responder (like runbooks/triage.yaml).
 * - broken: no retrospective phase, so the catalog lists it with a problem and refuses to run it.
 */
export const API_RUNBOOKS: Record<string, string> = {
  'flow.yaml': `
id: flow
title: Full flow
owner: team-test
service: orders-db
risk: { likelihood: likely, impact: severe }
phases:
  detect:
    - { id: opened, kind: notify, message: "Opened \${incident.id}: \${incident.title}" }
  report:
    - { id: announce, kind: notify, via: slack, to: "#incidents", message: "\${incident.id} is \${incident.severity}" }
  decide:
    - id: strategy
      kind: decide
      prompt: Fail over or restore?
      options: [failover, restore]
      default: failover
      timeout: 10m
  execute:
    - { id: settle, kind: wait, duration: 100ms }
    - { id: executing, kind: notify, message: "Executing \${decision.strategy}" }
  recover:
    - { id: recovered, kind: notify, message: Recovered }
  retrospective:
    - { id: review, kind: notify, message: "Please review \${incident.id}" }
`,
  'hold.yaml': `
id: hold
title: Waits for a human
owner: team-test
service: checkout
severity: SEV2
autoResolve: false
phases:
  detect:
    - { id: opened, kind: notify, message: "Opened \${incident.id}" }
  decide:
    - id: go-ahead
      kind: decide
      prompt: Proceed with the rollback?
      options: [proceed, hold-off]
      default: proceed
      timeout: 1h
  execute:
    - { id: rollback, kind: notify, message: "Rolling back" }
  retrospective:
    - { id: review, kind: notify, message: "Review \${incident.id}" }
`,
  'quick.yaml': `
id: quick
title: Decision times out
owner: team-test
phases:
  report:
    - { id: tell-support, kind: notify, via: email, to: support@example.com, message: "\${incident.title} (\${incident.severity})" }
  decide:
    - { id: verdict, kind: decide, prompt: Real incident?, options: [investigate, dismiss], default: investigate, timeout: 1s, approver: responder }
  execute:
    - { id: verdict-note, kind: notify, message: "Verdict: \${decision.verdict}" }
  retrospective:
    - { id: review, kind: notify, message: "Review \${incident.id}" }
`,
  'instant.yaml': `
id: instant
title: Closes at once
owner: team-test
service: catalog
risk: { likelihood: unlikely, impact: minor }
phases:
  retrospective:
    - { id: review, kind: notify, message: "Review \${incident.id}" }
`,
  'ask-responder.yaml': `
id: ask-responder
title: A responder may decide
owner: team-test
phases:
  decide:
    - { id: verdict, kind: decide, prompt: Real incident?, options: [investigate, dismiss], default: investigate, timeout: 1h, approver: responder }
  retrospective:
    - { id: review, kind: notify, message: "Review \${incident.id}" }
`,
  'broken.yaml': `
id: broken
title: Has no retrospective
owner: team-test
phases:
  detect:
    - { id: opened, kind: notify, message: "never runs" }
`,
};

/** The Temporal Web UI origin the harness's codec server lets browsers in from. */
export const API_UI_ORIGIN = 'http://temporal-ui.example.test:8233';

export const TOKEN_NAMES: Record<Role, string> = {
  viewer: 'Vera Viewer',
  responder: 'Linus Responder',
  commander: 'Grace Commander',
  admin: 'Ada Admin',
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed when the response is JSON; the caller names the shape it expects. */
  body: T;
}

export interface RequestOptions {
  /** Sends `Authorization: Bearer <token of that role>`. */
  as?: Role;
  /** JSON-encoded and sent as application/json. */
  body?: unknown;
  /** Sent as is (with `headers` deciding the content type). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface ApiHarness {
  url: string;
  store: Store;
  client: Client;
  taskQueue: string;
  runbooksDir: string;
  /** Holds the SQLite read model, `fireline.db`. */
  dataDir: string;
  tokens: Record<Role, string>;
  /** Token record ids by role; audit entries name actors `token:<id>`. */
  tokenIds: Record<Role, string>;
  tokenService: TokenService;
  deps: AppDeps;
  request<T = unknown>(method: string, urlPath: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  get<T = unknown>(urlPath: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  post<T = unknown>(urlPath: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

/**
 * For apps under tests that send refusals by the hundred on purpose (401 on every route, the fuzz): the throttle
 * would answer 429 after 20 and hide what they check. tests/api/auth-throttle.test.ts tests the real limit.
 */
export function unlimitedGuessing(store: Store): AuthThrottle {
  return createAuthThrottle({ store, policy: { limit: Number.MAX_SAFE_INTEGER, windowMs: 60_000 } });
}

export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export async function send<T>(
  baseUrl: string,
  tokens: Partial<Record<Role, string>>,
  method: string,
  urlPath: string,
  opts: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (opts.as) headers.authorization = `Bearer ${tokens[opts.as]}`;
  let body: string | Buffer | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.raw !== undefined) {
    body = opts.raw;
  }
  Object.assign(headers, opts.headers);
  const res = await fetch(baseUrl + urlPath, { method, headers, body });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, text, body: (isJson && text ? JSON.parse(text) : undefined) as T };
}

/** Listens first and mounts the app after, for deps that need the server's own URL (the SSO redirect URI). */
export async function listenThenMount(makeApp: (url: string) => Promise<Express>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on('request', await makeApp(url));
  return {
    url,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export async function startApiHarness(opts: {
  name: string;
  runbooks?: Record<string, string>;
  /** More deps, made once the server's URL is known (it listens before the app is mounted). */
  moreDeps?: (url: string, store: Store) => Promise<Partial<AppDeps>>;
}): Promise<ApiHarness> {
  const dataDir = tempDir();
  const store = await openTestStore(dataDir);
  const runbooksDir = tempDir('fireline-runbooks-');
  for (const [file, text] of Object.entries(opts.runbooks ?? API_RUNBOOKS)) fs.writeFileSync(path.join(runbooksDir, file), text);
  const taskQueue = uniqueTaskQueue(opts.name);
  const worker: TestWorker = await startTestWorker({ taskQueue, store });
  const connection = await Connection.connect({ address: testTemporal().address });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const logger = createLogger({ level: process.env.FIRELINE_TEST_LOG_LEVEL ?? 'silent' });
  const tokenService = createTokenService({ store });
  const tokens = {} as Record<Role, string>;
  const tokenIds = {} as Record<Role, string>;
  for (const role of Object.keys(TOKEN_NAMES) as Role[]) {
    const created = await tokenService.create(TOKEN_NAMES[role], role, cliActionContext('tests', 'token create'));
    tokens[role] = created.token;
    tokenIds[role] = created.record.id;
  }
  const runbooks = new RunbookCatalog(runbooksDir);
  const incidents = createIncidentService({ client, store, runbooks, taskQueue, logger });
  const deps: AppDeps = {
    logger,
    store,
    incidents,
    tokens: tokenService,
    runbooks,
    authThrottle: unlimitedGuessing(store),
    checkTemporal: async () => {
      await connection.withDeadline(Date.now() + 2000, () => connection.workflowService.getSystemInfo({}));
    },
    codec: { codec: createPayloadCodecService({ keys: TEST_KEY_RING }), uiOrigins: [API_UI_ORIGIN] },
  };
  const server = opts.moreDeps
    ? await listenThenMount(async (url) => createApp(Object.assign(deps, await opts.moreDeps!(url, store))))
    : await listen(createApp(deps));
  const request = <T>(method: string, urlPath: string, o?: RequestOptions) => send<T>(server.url, tokens, method, urlPath, o);

  return {
    url: server.url,
    store,
    client,
    taskQueue,
    runbooksDir,
    dataDir,
    tokens,
    tokenIds,
    tokenService,
    deps,
    request,
    get: (urlPath, o) => request('GET', urlPath, o),
    post: (urlPath, o) => request('POST', urlPath, o),
    async stop() {
      await server.close();
      // Incidents left waiting for a human would sit on the dev server for the rest of the run.
      const { items } = await store.listIncidents({ limit: 200 });
      for (const incident of items.filter((i) => i.status !== 'closed')) {
        await client.workflow
          .getHandle(incident.workflowId)
          .terminate('test finished')
          .catch(() => undefined);
      }
      await worker.stop();
      await connection.close();
      await store.close();
    },
  };
}

/** Asserts the error shape every failure has: `{ error: { code, message, details? } }` and nothing else. */
export function expectError(res: ApiResponse<unknown>, status: number, code?: string): ErrorBody['error'] {
  expect({ status: res.status, body: res.text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = res.body as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(body.error)) expect(['code', 'message', 'details']).toContain(key);
  if (body.error.details !== undefined) expect(typeof body.error.details).toBe('object');
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

/** A 400 that names the bad field: in the message, and in `details` (zod issues or a service's `field`). */
export function expectFieldError(res: ApiResponse<unknown>, field: string): ErrorBody['error'] {
  const error = expectError(res, 400);
  expect(error.message).toContain(field);
  const details = error.details ?? {};
  const issues = (details.issues ?? []) as { path: string; message: string }[];
  const named =
    details.field === field || issues.some((i) => i.path === field || (i.path === '(body)' && i.message.includes(`"${field}"`)));
  expect({ named, details }).toMatchObject({ named: true });
  return error;
}

export async function declareIncident(api: ApiHarness, body: Record<string, unknown>): Promise<IncidentRecord> {
  const res = await api.post<{ incident: IncidentRecord }>('/api/v1/incidents', { as: 'commander', body });
  expect({ status: res.status, body: res.text }).toMatchObject({ status: 201 });
  return res.body.incident;
}

export async function getIncident(api: ApiHarness, id: string): Promise<IncidentDetail> {
  const res = await api.get<IncidentDetail>(`/api/v1/incidents/${id}`, { as: 'viewer' });
  expect(res.status).toBe(200);
  return res.body;
}

/** Polls GET /incidents/:id until the workflow shows the decision as open. */
export async function waitForOpenDecision(api: ApiHarness, id: string, stepId: string): Promise<IncidentView['openDecisions'][number]> {
  return eventually(
    async () => (await getIncident(api, id)).live?.openDecisions.find((d) => d.stepId === stepId),
    `open decision ${stepId} of ${id}`,
  );
}

export async function waitForStatus(api: ApiHarness, id: string, status: IncidentRecord['status']): Promise<IncidentDetail> {
  return eventually(async () => {
    const detail = await getIncident(api, id);
    return detail.incident.status === status ? detail : undefined;
  }, `${id} to be ${status}`);
}

export async function timelineOf(api: ApiHarness, id: string, query = ''): Promise<{ events: TimelineEvent[]; next: number | null }> {
  const res = await api.get<{ events: TimelineEvent[]; next: number | null }>(`/api/v1/incidents/${id}/timeline${query}`, { as: 'viewer' });
  expect(res.status).toBe(200);
  return res.body;
}

export function expectEachEventOnce(events: TimelineEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}

/** RFC 4180 reader: quoted cells may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        cell += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += ch;
    }
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
