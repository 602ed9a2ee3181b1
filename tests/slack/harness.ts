// The real HTTP app with the real Bolt receiver mounted, real services, a real worker on the shared dev server, the
// Slack sync loop (the worker-side half) and the fake Slack Web API — wired as src/launch/{api,worker}.ts wire them.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import type { IncidentRecord } from '../../src/domain/incident';
import type { Role } from '../../src/domain/roles';
import type { TimelineEvent } from '../../src/domain/timeline';
import { createLogger } from '../../src/logger';
import { createOnCallSource } from '../../src/oncall/source';
import { RunbookCatalog } from '../../src/runbooks/catalog';
import { createIncidentService } from '../../src/services/incidents';
import type { IncidentService } from '../../src/services/incidents';
import { createTokenService } from '../../src/services/tokens';
import { createSlackApp } from '../../src/slack/app';
import type { SlackApp } from '../../src/slack/app';
import type { Clock } from '../../src/slack/clock';
import { systemClock } from '../../src/slack/clock';
import { CARD_EVENT_TYPE, TIMELINE_EVENT_TYPE } from '../../src/slack/format';
import { createSlackWebClient, SlackGateway } from '../../src/slack/gateway';
import { SlackDirectory } from '../../src/slack/identity';
import { SlackSync } from '../../src/slack/sync';
import type { SlackSyncOptions } from '../../src/slack/sync';
import type { Store } from '../../src/store/store';
import { API_RUNBOOKS, listen, send, TOKEN_NAMES } from '../support/api';
import type { ApiResponse, RequestOptions } from '../support/api';
import { FakeSlack, postInteraction, postSlashCommand } from '../support/fake-slack';
import type { FakeSlackMessage, FakeSlackResponse } from '../support/fake-slack';
import { testDataConverter } from '../support/keys';
import { eventually, openTestStore, startTestWorker, tempDir, testTemporal, uniqueTaskQueue } from '../support/temporal';
import type { TestWorker } from '../support/temporal';
import { cliActionContext } from '../../src/services/audit';

export const SIGNING_SECRET = 'fireline-test-signing-secret';

/** Slack users of the tests and who they are in config/oncall.yaml. */
export const USERS = {
  grace: { id: 'U0GRACE', name: 'grace', person: 'Grace Hopper' }, // commander
  linus: { id: 'U0LINUS', name: 'linus', person: 'Linus Responder' }, // responder (the default role)
  vera: { id: 'U0VERA', name: 'vera', person: 'Vera Viewer' }, // viewer
  eve: { id: 'U0EVE', name: 'eve', person: 'Eve Byemail' }, // commander, known by email only
  ben: { id: 'U0BEN', name: 'ben', person: 'Ben Paged' }, // responder, paged by the `paged` runbook
  stranger: { id: 'U0STRANGER', name: 'stranger', person: null }, // not in the config: a viewer
} as const;
export type TestUser = keyof typeof USERS;

export const ONCALL_YAML = `
people:
  - { id: grace, name: Grace Hopper, slack: ${USERS.grace.id}, timeZone: UTC, role: commander }
  - { id: linus, name: Linus Responder, slack: ${USERS.linus.id}, timeZone: UTC }
  - { id: vera, name: Vera Viewer, slack: ${USERS.vera.id}, timeZone: UTC, role: viewer }
  - { id: eve, name: Eve Byemail, email: eve@example.com, timeZone: UTC, role: commander }
  - { id: ben, name: Ben Paged, slack: ${USERS.ben.id}, timeZone: UTC }
escalationPolicies:
  - id: team-primary
    levels:
      - { targets: [{ person: ben }], delay: 1h }
`;

/** The API test runbooks, plus `triage` (quick declarations) and `paged` (pages ben, then waits for a decision). */
export const SLACK_RUNBOOKS: Record<string, string> = {
  ...API_RUNBOOKS,
  'triage.yaml': `
id: triage
title: Triage an unknown problem
owner: team-test
autoResolve: false
phases:
  decide:
    - { id: verdict, kind: decide, prompt: Real incident?, options: [investigate, dismiss], default: investigate, timeout: 1h, approver: responder }
  retrospective:
    - { id: review, kind: notify, message: "Review \${incident.id}" }
`,
  'paged.yaml': `
id: paged
title: Pages the team
owner: team-test
service: payments
severity: SEV2
escalation: team-primary
autoResolve: false
phases:
  report:
    - { id: page, kind: page, wait: none }
  decide:
    - { id: go-ahead, kind: decide, prompt: Roll back now?, options: [rollback, wait], default: wait, timeout: 1h }
  retrospective:
    - { id: review, kind: notify, message: "Review \${incident.id}" }
`,
};

/** Time that a rate-limit wait advances instantly: `now()` is real time plus everything slept so far. */
export class VirtualClock implements Clock {
  private offset = 0;
  readonly now = (): number => Date.now() + this.offset;
  readonly sleep = async (ms: number): Promise<void> => {
    this.offset += Math.max(0, ms);
    await new Promise((resolve) => setImmediate(resolve));
  };
  get skippedMs(): number {
    return this.offset;
  }
}

export interface SlackHarness {
  url: string;
  eventsUrl: string;
  slack: FakeSlack;
  store: Store;
  client: Client;
  incidents: IncidentService;
  app: SlackApp;
  sync: SlackSync;
  clock: Clock;
  /** HTTP API as a token of that role. */
  api<T = unknown>(method: string, urlPath: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  /** `/incident <text>` from a user (in `channel`, default C1); answers go to a response_url with id `responseId`. */
  command(user: TestUser, text: string, opts?: { channel?: string; responseId?: string; triggerId?: string }): Promise<Response>;
  interact(payload: Record<string, unknown>): Promise<Response>;
  /** The first response_url answer with that id (waits for it). */
  response(id: string): Promise<FakeSlackResponse & { body: { text: string; response_type?: string } }>;
  timeline(incidentId: string): Promise<TimelineEvent[]>;
  incident(incidentId: string): Promise<IncidentRecord>;
  /** Channel id and card of an incident, once the sync made them. */
  card(incidentId: string, check?: (card: FakeSlackMessage) => boolean): Promise<{ channel: string; card: FakeSlackMessage }>;
  stop(): Promise<void>;
}

let responseCounter = 0;

export function nextResponseId(prefix = 'r'): string {
  responseCounter += 1;
  return `${prefix}${responseCounter}`;
}

export async function startSlackHarness(opts: {
  name: string;
  /** 'loop': the sync polls every 50 ms; 'manual': the test calls sync.syncOnce(). */
  sync?: 'loop' | 'manual';
  clock?: Clock;
  syncOptions?: Partial<SlackSyncOptions>;
}): Promise<SlackHarness> {
  const clock = opts.clock ?? systemClock;
  const slack = await FakeSlack.start({
    now: () => clock.now(),
    users: [
      ...Object.values(USERS).map((u) => ({ id: u.id, name: u.name, realName: u.person ?? u.name })),
      { id: USERS.eve.id, name: USERS.eve.name, realName: USERS.eve.person, email: 'eve@example.com' },
    ],
  });
  const dataDir = tempDir();
  const store = await openTestStore(dataDir);
  const runbooksDir = tempDir('fireline-runbooks-');
  for (const [file, text] of Object.entries(SLACK_RUNBOOKS)) fs.writeFileSync(path.join(runbooksDir, file), text);
  const oncallFile = path.join(dataDir, 'oncall.yaml');
  fs.writeFileSync(oncallFile, ONCALL_YAML);
  const oncall = createOnCallSource(oncallFile);
  const taskQueue = uniqueTaskQueue(opts.name);
  const logger = createLogger({ level: process.env.FIRELINE_TEST_LOG_LEVEL ?? 'silent' });
  const publicUrl = 'https://fireline.example.com';
  const worker: TestWorker = await startTestWorker({ taskQueue, store, deps: { oncall, publicUrl } });
  const connection = await Connection.connect({ address: testTemporal().address });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const tokenService = createTokenService({ store });
  const tokens = {} as Record<Role, string>;
  for (const role of Object.keys(TOKEN_NAMES) as Role[])
    tokens[role] = (await tokenService.create(TOKEN_NAMES[role], role, cliActionContext('tests', 'token create'))).token;
  const runbooks = new RunbookCatalog(runbooksDir);
  const incidents = createIncidentService({ client, store, runbooks, taskQueue, logger });

  // API process: Bolt with its own gateway (interactive calls never wait long).
  const app = await createSlackApp({
    token: slack.token,
    signingSecret: SIGNING_SECRET,
    apiUrl: slack.apiUrl,
    botId: slack.botId,
    botUserId: slack.botUserId,
    incidents,
    store,
    runbooks,
    oncall: () => oncall.current(),
    logger,
  });
  const server = await listen(
    createApp({
      slack: { router: app.router! },
      logger,
      store,
      incidents,
      tokens: tokenService,
      runbooks,
      oncall: () => oncall.current(),
      checkTemporal: async () => undefined,
    }),
  );

  // Worker process: the sync loop with a gateway of its own.
  const gateway = new SlackGateway({ client: createSlackWebClient(slack.token, slack.apiUrl), logger, clock });
  const directory = new SlackDirectory({ oncall: () => oncall.current(), gateway, logger });
  const sync = new SlackSync({
    store,
    gateway,
    directory,
    logger,
    publicUrl,
    clock,
    intervalMs: 50,
    minCardIntervalMs: 100,
    botUserId: slack.botUserId,
    ...opts.syncOptions,
  });
  if ((opts.sync ?? 'loop') === 'loop') sync.start();

  const eventsUrl = `${server.url}/slack/events`;
  const harness: SlackHarness = {
    url: server.url,
    eventsUrl,
    slack,
    store,
    client,
    incidents,
    app,
    sync,
    clock,
    api: (method, urlPath, o) => send(server.url, tokens, method, urlPath, o),
    command(user, text, o = {}) {
      return postSlashCommand(
        eventsUrl,
        '/incident',
        text,
        {
          team_id: slack.teamId,
          user_id: USERS[user].id,
          user_name: USERS[user].name,
          channel_id: o.channel ?? 'C1',
          response_url: slack.responseUrl(o.responseId ?? nextResponseId()),
          trigger_id: o.triggerId ?? `${Date.now()}.${Math.floor(Math.random() * 1e9)}.trig`,
        },
        { signingSecret: SIGNING_SECRET },
      );
    },
    interact: (payload) => postInteraction(eventsUrl, payload, { signingSecret: SIGNING_SECRET }),
    async response(id) {
      return eventually(async () => slack.responses.find((r) => r.id === id), `a response_url answer "${id}"`, 15_000) as Promise<
        FakeSlackResponse & { body: { text: string; response_type?: string } }
      >;
    },
    timeline: (incidentId) => store.listTimeline(incidentId, { limit: 1000 }),
    async incident(incidentId) {
      return (await store.getIncident(incidentId))!;
    },
    async card(incidentId, check = () => true) {
      return eventually(
        async () => {
          const row = await store.getSlackIncident(incidentId);
          if (!row?.channelId || !row.cardTs) return undefined;
          const card = slack.message(row.channelId, row.cardTs);
          return card && check(card) ? { channel: row.channelId, card } : undefined;
        },
        `the card of ${incidentId}`,
        20_000,
      );
    },
    async stop() {
      await sync.stop();
      await app.stop();
      await server.close();
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
      await slack.close();
    },
  };
  return harness;
}

/** Text of every block of a message, for assertions. */
export function textOf(message: FakeSlackMessage): string {
  return JSON.stringify(message.blocks ?? []) + (message.text ?? '');
}

/** A button on a message by action id (or action id prefix). */
export function buttonOn(
  message: FakeSlackMessage,
  actionId: string,
): { block_id: string; action_id: string; value: string; text: { text: string } } | undefined {
  for (const block of (message.blocks ?? []) as {
    type: string;
    block_id: string;
    elements?: { type: string; action_id: string; value: string; text: { text: string } }[];
  }[]) {
    if (block.type !== 'actions') continue;
    const element = block.elements?.find((e) => e.type === 'button' && (e.action_id === actionId || e.action_id.startsWith(actionId)));
    if (element) return { ...element, block_id: block.block_id };
  }
  return undefined;
}

/** A `block_actions` payload for a click on a card button, as Slack sends it. */
export function clickPayload(
  h: SlackHarness,
  user: TestUser,
  channel: string,
  message: FakeSlackMessage,
  actionId: string,
  responseId: string,
  actionTs = `${(Date.now() / 1000).toFixed(6)}`,
): Record<string, unknown> {
  const button = buttonOn(message, actionId);
  if (!button) throw new Error(`no button ${actionId} on the message: ${textOf(message)}`);
  return {
    type: 'block_actions',
    user: { id: USERS[user].id, username: USERS[user].name, name: USERS[user].name, team_id: h.slack.teamId },
    api_app_id: h.slack.appId,
    token: 'legacy',
    container: { type: 'message', message_ts: message.ts, channel_id: channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.${Math.floor(Math.random() * 1e9)}.click`,
    team: { id: h.slack.teamId, domain: 'fireline-test' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'incident' },
    message: {
      type: 'message',
      ts: message.ts,
      text: message.text,
      user: h.slack.botUserId,
      bot_id: h.slack.botId,
      blocks: message.blocks,
    },
    state: { values: {} },
    response_url: h.slack.responseUrl(responseId),
    actions: [
      {
        action_id: button.action_id,
        block_id: button.block_id,
        text: { type: 'plain_text', text: button.text.text },
        value: button.value,
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

/** Messages in a channel posted by the app with a metadata key of this type, by key. */
export function keyedMessages(slack: FakeSlack, channel: string, eventType: string): Map<string, FakeSlackMessage[]> {
  const out = new Map<string, FakeSlackMessage[]>();
  for (const m of slack.messagesIn(channel)) {
    if (m.metadata?.event_type !== eventType) continue;
    const key = String(m.metadata.event_payload.key);
    out.set(key, [...(out.get(key) ?? []), m]);
  }
  return out;
}

export { CARD_EVENT_TYPE, TIMELINE_EVENT_TYPE };

export interface GatewayOnFakeSlack {
  readonly slack: FakeSlack;
  readonly clock: VirtualClock;
  readonly gateway: SlackGateway;
}

/** Per test: a fresh fake Web API with channels C1 and C2, and a gateway to it on a virtual clock. */
export function useGatewayOnFakeSlack(): GatewayOnFakeSlack {
  let current: { slack: FakeSlack; clock: VirtualClock; gateway: SlackGateway } | undefined;
  const get = () => {
    if (!current) throw new Error('useGatewayOnFakeSlack: only inside a test');
    return current;
  };
  beforeEach(async () => {
    const clock = new VirtualClock();
    const slack = await FakeSlack.start({
      now: () => clock.now(),
      channels: [
        { id: 'C1', name: 'one' },
        { id: 'C2', name: 'two' },
      ],
    });
    const gateway = new SlackGateway({
      client: createSlackWebClient(slack.token, slack.apiUrl),
      logger: createLogger({ level: 'silent' }),
      clock,
    });
    current = { slack, clock, gateway };
  });
  afterEach(async () => {
    await current?.slack.close();
    current = undefined;
  });
  return {
    get slack() {
      return get().slack;
    },
    get clock() {
      return get().clock;
    },
    get gateway() {
      return get().gateway;
    },
  };
}
