// Secrets stay secret, end to end: `fireline start` runs with a canary value for every secret it is given (admin
// token, payload key, Alertmanager credential, Slack bot token and signing secret, SMTP password, the webhook
// signing secret of the remediation and backup calls, the OpenID client secret), a full incident is driven through it (an alert, pages over
// SMTP, a Slack command, a decision over the API, signed remediation calls, an HTTP backup, resolve, post-mortem,
// a single sign-on through a real OpenID provider),
// and then every place an operator or attacker could read is searched: the process's logs, the raw Temporal
// history of every workflow it ran, every HTTP response body it gave, and the read model's files. No canary may
// show up anywhere, and every payload in every history must be encrypted.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { writeDemoFiles, DEMO_DECISION_STEP, DEMO_HMAC_VAR, DEMO_ORDERS_URL_VAR } from '../../src/demo/files';
import { startDemoOrderSystem } from '../../src/demo/order-system';
import type { DemoOrderSystem } from '../../src/demo/order-system';
import { expectHistoryEncrypted } from '../support/encrypted-history';
import { FakeSlack, postSlashCommand } from '../support/fake-slack';
import { CookieJar, fetchWithJar, loginAtProvider } from '../support/oidc-flow';
import { startTestProvider } from '../support/oidc-provider';
import type { TestProvider } from '../support/oidc-provider';
import { findFreePort, killAllTracked, spawnFireline, waitForHttp, waitUntil } from '../support/processes';
import type { SpawnedProcess } from '../support/processes';
import { TestSmtpServer } from '../support/smtp';
import { openTestStore, tempDir, testTemporal, uniqueTaskQueue } from '../support/temporal';

jest.setTimeout(480_000);

const ALERT = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'reference', 'alertmanager', 'firing-order-db-down.json'), 'utf8');

/** Each long, random-looking and unique, so a hit is a leak and never a coincidence. */
const CANARY = {
  admin: 'canary-admin-token-5d1e9b7c3a2f4e60',
  payloadKey: Buffer.from('canary-payload-key-32-bytes-long').toString('base64'),
  alertmanager: 'canary-alertmanager-token-8c4d2a',
  slackBot: 'xoxb-canary-slack-bot-token-41f7e2',
  slackSigning: 'canary-slack-signing-secret-9a3b6d',
  smtp: 'canary-smtp-password-2e8f5c71',
  hmac: 'canary-webhook-hmac-secret-7b1d4e90',
  oidcClient: 'canary-oidc-client-secret-6f2a9d41',
};

const ANA = { id: 'U0DEMOANA0', name: 'ana', realName: 'Ana (demo on-call)' };

let orders: DemoOrderSystem;
let smtp: TestSmtpServer;
let slack: FakeSlack;
let provider: TestProvider;
let fireline: SpawnedProcess;
let connection: Connection;
let client: Client;
let dataDir: string;
let url: string;
const taskQueue = uniqueTaskQueue('canary');
/** Every response body Fireline gave in this test. */
const responses: string[] = [];

/** The parts of Fireline's answers this test reads. */
interface Answer {
  items?: Array<{ id: string; workflowId: string }>;
  live?: { openDecisions?: unknown[] };
  incident?: { status?: string };
}

async function call(
  method: string,
  urlPath: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Answer | undefined }> {
  const res = await fetch(url + urlPath, {
    method,
    headers: {
      authorization: `Bearer ${CANARY.admin}`,
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  responses.push(text);
  return {
    status: res.status,
    json: text && (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Answer) : undefined,
  };
}

beforeAll(async () => {
  orders = await startDemoOrderSystem({ secret: CANARY.hmac, log: () => undefined });
  smtp = await TestSmtpServer.start({ users: { fireline: CANARY.smtp } });
  slack = await FakeSlack.start({ tokens: [CANARY.slackBot], users: [ANA], channels: [{ name: 'incidents' }] });
  dataDir = tempDir('fireline-canary-');
  const { configDir, runbooksDir } = writeDemoFiles(dataDir);
  // The read model made ahead, its incident numbers in a random block: workflow ids are `incident/INC-<n>` in the
  // namespace every test file shares, and an alert's signalWithStart would join another file's running INC-1.
  await (await openTestStore(dataDir)).close();
  fs.writeFileSync(
    path.join(configDir, 'integrations.yaml'),
    'integrations:\n  prometheus:\n    type: alertmanager\n    token: { env: CANARY_AM_TOKEN }\n',
  );
  fs.writeFileSync(
    path.join(configDir, 'routing.yaml'),
    'rules:\n  - name: order-db-down\n    match: { labels: { alertname: OrderDBDown } }\n    runbook: demo-order-db-outage\n',
  );
  // Alerts no rule matches go to triage, which must exist.
  fs.writeFileSync(
    path.join(runbooksDir, 'triage.yaml'),
    'id: triage\ntitle: Triage\nowner: team-test\nphases:\n  retrospective:\n    - { id: review, kind: notify, message: Review }\n',
  );
  const port = await findFreePort();
  url = `http://127.0.0.1:${port}`;
  provider = await startTestProvider({
    publicUrl: url,
    clientSecret: CANARY.oidcClient,
    accounts: { grace: { name: 'Grace Lead', email: 'grace@example.test', groups: ['sre-leads'] } },
  });
  fireline = spawnFireline('canary', ['start'], {
    TEMPORAL_ADDRESS: testTemporal().address,
    FIRELINE_TASK_QUEUE: taskQueue,
    FIRELINE_PAYLOAD_KEYS: `canary=${CANARY.payloadKey}`,
    FIRELINE_ADMIN_TOKEN: CANARY.admin,
    FIRELINE_PORT: String(port),
    FIRELINE_DATA_DIR: dataDir,
    FIRELINE_CONFIG_DIR: configDir,
    FIRELINE_RUNBOOKS_DIR: runbooksDir,
    // The most talkative level: whatever a secret could leak into, debug logs it.
    FIRELINE_LOG_LEVEL: 'debug',
    SMTP_URL: smtp.url({ user: 'fireline', pass: CANARY.smtp }),
    FIRELINE_MAIL_FROM: 'Fireline <fireline@example.com>',
    SLACK_BOT_TOKEN: CANARY.slackBot,
    SLACK_SIGNING_SECRET: CANARY.slackSigning,
    SLACK_API_URL: slack.apiUrl,
    CANARY_AM_TOKEN: CANARY.alertmanager,
    [DEMO_ORDERS_URL_VAR]: orders.url,
    [DEMO_HMAC_VAR]: CANARY.hmac,
    FIRELINE_PUBLIC_URL: url,
    FIRELINE_OIDC_ISSUER: provider.issuer,
    FIRELINE_OIDC_CLIENT_ID: provider.clientId,
    FIRELINE_OIDC_CLIENT_SECRET: CANARY.oidcClient,
    FIRELINE_OIDC_SCOPES: 'openid email profile groups',
    FIRELINE_OIDC_ROLES: 'sre-leads=commander,*=viewer',
  });
  await waitForHttp(`${url}/healthz`, { process: fireline, timeoutMs: 180_000 });
  // The worker polls once the start-up block is printed; under a loaded suite its bundle can take a while.
  await fireline.waitForOutput(/Press Ctrl\+C to stop\./, 180_000);
  connection = await Connection.connect({ address: testTemporal().address });
  // No data converter: the test reads what the server stores, as an operator with Temporal access would.
  client = new Client({ connection });
});

afterAll(async () => {
  await killAllTracked();
  await connection?.close();
  await slack?.close();
  await smtp?.stop();
  await orders?.stop();
  await provider?.stop();
});

test('a full incident with canary secrets: no canary in logs, histories, responses or the read model', async () => {
  const alert = await call('POST', '/api/v1/alerts/alertmanager', ALERT, {
    authorization: `Bearer ${CANARY.alertmanager}`,
    'content-type': 'application/json',
  });
  expect(alert.status).toBe(202);
  const incident = await waitUntil(
    async () => (await call('GET', '/api/v1/incidents')).json?.items?.[0],
    'the incident the alert opened',
    60_000,
    200,
  );

  // The page went out over SMTP, logged in with the canary password.
  await waitUntil(async () => smtp.messages.length > 0 || undefined, 'a page over SMTP', 120_000, 200);
  // A Slack command, signed with the canary signing secret.
  const ack = await postSlashCommand(
    `${url}/slack/events`,
    '/incident',
    `ack ${incident.id}`,
    { user_id: ANA.id, user_name: ANA.name },
    {
      signingSecret: CANARY.slackSigning,
    },
  );
  responses.push(await ack.text());
  expect(ack.status).toBe(200);
  // The decision, through the API.
  await waitUntil(
    async () => ((await call('GET', `/api/v1/incidents/${incident.id}`)).json?.live?.openDecisions?.length ?? 0) > 0 || undefined,
    'the open decision',
    60_000,
    200,
  );
  expect((await call('POST', `/api/v1/incidents/${incident.id}/decisions/${DEMO_DECISION_STEP}`, { option: 'failover' })).status).toBe(200);
  // Signed remediation calls and the HTTP backup ran against the order system, then the runbook closed itself.
  await waitUntil(
    async () => (await call('GET', `/api/v1/incidents/${incident.id}`)).json?.incident?.status === 'closed' || undefined,
    'the incident closed',
    120_000,
    250,
  );
  expect(orders.state()).toMatchObject({ primary: 'failed-over', queue: 'flowing' });
  expect(orders.state().backups).toBeGreaterThan(0);
  const postmortem = await call('GET', `/api/v1/incidents/${incident.id}/postmortem`);
  expect(postmortem.status).toBe(200);
  for (const p of ['/timeline', '/metrics', '/timeline?format=md', '/timeline?format=csv'])
    await call('GET', `/api/v1/incidents/${incident.id}${p}`);
  for (const p of ['/api/v1/outbox', '/api/v1/runbooks', '/api/v1/oncall', '/api/v1/session', '/api/v1/metrics/summary'])
    await call('GET', p);
  // Single sign-on: the client secret goes to the provider's token endpoint, and nowhere else.
  const jar = new CookieJar();
  const login = await fetchWithJar(jar, `${url}/auth/oidc/login?returnTo=%2F`);
  expect(login.status).toBe(302);
  const callback = await fetchWithJar(
    jar,
    await loginAtProvider(jar, login.headers.get('location')!, 'grace', `${url}/auth/oidc/callback`),
  );
  responses.push(await callback.text());
  expect(callback.status).toBe(302);
  const me = await fetchWithJar(jar, `${url}/api/v1/session`);
  responses.push(await me.text());
  expect(me.status).toBe(200);
  const csrf = decodeURIComponent(jar.get(url, 'fireline_csrf')!);
  const signOut = await fetchWithJar(jar, `${url}/api/v1/session`, { method: 'DELETE', headers: { 'x-fireline-csrf': csrf } });
  responses.push(await signOut.text());
  expect(signOut.status).toBe(200);
  // Refusals too: a wrong credential is never answered with the right one.
  await call('POST', '/api/v1/alerts/alertmanager', ALERT, {
    authorization: 'Bearer wrong-wrong-wrong-wrong',
    'content-type': 'application/json',
  });

  const secrets = Object.values(CANARY);
  const hits = (where: string, text: string | Buffer) => secrets.filter((s) => text.includes(s)).map((s) => `${where}: ${s}`);

  // Logs: everything the process wrote.
  expect(hits('logs', fireline.output())).toEqual([]);
  expect(fireline.output()).toContain('"level":20'); // debug lines were written, so there was something to search

  // Histories: every workflow the process ran, as the server stores it.
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) ids.push(w.workflowId);
  expect(ids).toContain(incident.workflowId);
  for (const id of ids) {
    const { keyIds } = await expectHistoryEncrypted(client, id, secrets);
    expect(keyIds).toEqual(['canary']);
  }

  // Responses.
  expect(responses.length).toBeGreaterThan(15);
  expect(responses.flatMap((r, i) => hits(`response ${i}`, r))).toEqual([]);

  // The read model: every file in the data dir, bytes (the WAL included).
  const files = fs.readdirSync(dataDir).filter((f) => fs.statSync(path.join(dataDir, f)).isFile());
  expect(files).toContain('fireline.db');
  expect(files.flatMap((f) => hits(f, fs.readFileSync(path.join(dataDir, f))))).toEqual([]);
});
