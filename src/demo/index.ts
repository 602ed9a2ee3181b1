// `fireline demo`: a first incident for newcomers. Starts the pretend order system, then the embedded stack
// with a demo installation (own data dir, config and runbook) pointing at it, declares an incident through
// the HTTP API as a user would, and prints what happens and what to do next.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config';
import { ConfigError } from '../config';
import type { Config } from '../config';
import type { TimelineEvent } from '../domain/timeline';
import { startEmbedded } from '../launch/embedded';
import { resolveKeyRing } from '../launch/keys';
import { openStore } from '../launch/store';
import type { Logger } from '../logger';
import { cliActionContext } from '../services/audit';
import { createTokenService } from '../services/tokens';
import { DEMO_DECISION_STEP, DEMO_HMAC_VAR, DEMO_ORDERS_URL_VAR, DEMO_RUNBOOK_ID, writeDemoFiles } from './files';
import { startDemoOrderSystem } from './order-system';
import type { DemoOrderSystem } from './order-system';

export const DEMO_DEFAULTS = { dataDir: path.join('data', 'demo'), port: 3100, temporalPort: 7300 } as const;
/** Marks a data dir as a demo's, so a demo never takes over the data dir of a real installation. */
const MARKER = 'FIRELINE-DEMO';
const POLL_MS = 500;

export interface DemoOptions {
  /** The process environment: only the Temporal CLI path, the log level and PATH are taken from it. */
  env: Record<string, string | undefined>;
  dataDir: string;
  port: number;
  temporalPort: number;
  logger: Logger;
  write: (line: string) => void;
  cwd?: string;
}

export interface RunningDemo {
  incidentId: string;
  stop(): Promise<void>;
  /** Resolves when the worker stops on its own (a fatal error). */
  workerDone: Promise<void>;
}

/** Refuses a data dir that holds anything but an earlier demo: `--data-dir data` must not touch a real install. */
function claimDataDir(dataDir: string): void {
  const marker = path.join(dataDir, MARKER);
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0 && !fs.existsSync(marker)) {
    throw new ConfigError([
      `--data-dir: ${dataDir} is not empty and was not made by \`fireline demo\`; the demo only uses an empty directory or its own`,
    ]);
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(marker, 'This directory belongs to `fireline demo`: a pretend order system, safe to delete.\n');
}

function demoConfig(opts: DemoOptions): Config {
  const cwd = opts.cwd ?? process.cwd();
  const dataDir = path.resolve(cwd, opts.dataDir);
  const { configDir, runbooksDir } = writeDemoFiles(dataDir);
  // Only what the demo chooses: a developer's Slack, SMTP, Temporal cluster or admin token never reach it.
  return loadConfig(
    {
      FIRELINE_DATA_DIR: dataDir,
      FIRELINE_CONFIG_DIR: configDir,
      FIRELINE_RUNBOOKS_DIR: runbooksDir,
      FIRELINE_HOST: '127.0.0.1',
      FIRELINE_PORT: String(opts.port),
      TEMPORAL_DEV_PORT: String(opts.temporalPort),
      TEMPORAL_CLI_PATH: opts.env.TEMPORAL_CLI_PATH,
      FIRELINE_LOG_LEVEL: opts.env.FIRELINE_LOG_LEVEL ?? 'warn',
    },
    cwd,
  );
}

async function demoAdminToken(config: Config): Promise<string> {
  const store = await openStore(config);
  try {
    return (await createTokenService({ store }).create('demo admin (fireline demo)', 'admin', cliActionContext('demo', 'demo'))).token;
  } finally {
    await store.close();
  }
}

export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const { logger, write } = opts;
  claimDataDir(path.resolve(opts.cwd ?? process.cwd(), opts.dataDir));
  const config = demoConfig(opts);
  const secret = randomBytes(24).toString('hex');
  const parts: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const part of parts.reverse()) await part.stop();
  };
  logger.warn({ dataDir: config.dataDir }, 'DEMO: `fireline demo` runs a pretend order system; this is not a real installation');
  write('');
  write('=== Fireline DEMO: a pretend order system on this machine; nothing real is paged or changed ===');
  write('');
  try {
    const orders: DemoOrderSystem = await startDemoOrderSystem({ secret, log: (line) => write(`  [demo order system] ${line}`) });
    parts.push(orders);
    write(`Demo order system: ${orders.url} (its database is down until Fireline fails over or restores it)`);
    const token = await demoAdminToken(config);
    write(`Starting Fireline (data in ${config.dataDir}; the first start may take a minute)…`);
    const running = await startEmbedded({
      config,
      logger,
      keys: await resolveKeyRing(config),
      env: { ...opts.env, [DEMO_ORDERS_URL_VAR]: orders.url, [DEMO_HMAC_VAR]: secret },
    });
    parts.push(running);
    const client = apiClient(running.api.url, token);
    const declared = await client.post<{ incident: { id: string } }>('/api/v1/incidents', {
      title: 'Demo: order database primary unreachable',
      runbook: DEMO_RUNBOOK_ID,
      summary: 'DEMO incident declared by `fireline demo` against the pretend order system.',
    });
    const id = declared.incident.id;
    write('');
    write(`Declared ${id} with runbook ${DEMO_RUNBOOK_ID}. Its timeline:`);
    const follow = followTimeline({
      client,
      id,
      write,
      onDecision: () => printNextSteps({ write, config, running, token, id }),
      onClosed: () => printClosed(write, { id, ordersUrl: orders.url, publicUrl: config.publicUrl }),
    });
    parts.push(follow);
    return {
      incidentId: id,
      workerDone: running.workerDone,
      async stop() {
        write('Stopping the demo…');
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function printNextSteps(opts: {
  write: (line: string) => void;
  config: Config;
  running: { temporalUiUrl: string | null };
  token: string;
  id: string;
}) {
  const { write, config, token, id } = opts;
  const url = config.publicUrl;
  const lines = [
    '',
    `--- ${id} is waiting for your decision: fail over or restore? (without one, Fireline fails over in 15 minutes) ---`,
    '',
    `  Web page:       ${url}/#/incidents/${id}`,
    `  Token:          ${token}`,
    `                  (an admin token of this demo only; sign in to the web page with it)`,
    '',
    '  Decide with curl:',
    `    export FIRELINE_TOKEN=${token}`,
    `    curl -s -X POST ${url}/api/v1/incidents/${id}/decisions/${DEMO_DECISION_STEP} \\`,
    `      -H "Authorization: Bearer $FIRELINE_TOKEN" -H 'Content-Type: application/json' -d '{"option":"failover"}'`,
    '',
    '  Also worth a look:',
    '    # the pages and messages, in the outbox (the demo sends no email or Slack)',
    `    curl -s "${url}/api/v1/outbox?incident=${id}" -H "Authorization: Bearer $FIRELINE_TOKEN"`,
    '    # acknowledge the page: the escalation stops',
    `    curl -s -X POST ${url}/api/v1/incidents/${id}/acknowledge -H "Authorization: Bearer $FIRELINE_TOKEN" -H 'Content-Type: application/json' -d '{}'`,
    '    # the timeline as Markdown',
    `    curl -s "${url}/api/v1/incidents/${id}/timeline?format=md" -H "Authorization: Bearer $FIRELINE_TOKEN"`,
    ...(opts.running.temporalUiUrl
      ? ['    # the workflow behind the incident, in the Temporal UI', `    ${opts.running.temporalUiUrl}`]
      : []),
    '',
  ];
  for (const line of lines) write(line);
}

interface ApiClient {
  get<T>(route: string): Promise<T>;
  post<T>(route: string, body: unknown): Promise<T>;
}

function apiClient(baseUrl: string, token: string): ApiClient {
  const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route} answered HTTP ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  };
  return { get: (route) => call('GET', route), post: (route, body) => call('POST', route, body) };
}

/** Prints the incident's timeline as it grows, until it closes or the demo stops. */
function followTimeline(opts: {
  client: ApiClient;
  id: string;
  write: (line: string) => void;
  onDecision: () => void;
  onClosed: () => void;
}): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = async () => {
    let seq = 0;
    while (!stopped) {
      try {
        const { events } = await opts.client.get<{ events: TimelineEvent[] }>(`/api/v1/incidents/${opts.id}/timeline?after=${seq}`);
        for (const e of events) {
          opts.write(`  ${e.at.slice(11, 19)}  ${e.phase.padEnd(13)} ${e.summary}`);
          seq = e.seq;
          if (e.type === 'decision.requested' && e.data.stepId === DEMO_DECISION_STEP) opts.onDecision();
          if (e.type === 'incident.closed') {
            opts.onClosed();
            return;
          }
        }
      } catch (err) {
        if (!stopped) opts.write(`  (could not read the timeline: ${(err as Error).message}; trying again)`);
      }
      await pause();
    }
  };
  const done = loop();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}

function printClosed(write: (line: string) => void, opts: { id: string; ordersUrl: string; publicUrl: string }) {
  write('');
  write(`--- ${opts.id} went through all six phases and is closed. ---`);
  write('  On the web page: its phase bar, who was paged, the decision, the backups and the drafted post-mortem.');
  write('  Another outage, and an incident about it (follow it on the web page):');
  write(`    curl -s -X POST ${opts.ordersUrl}/break`);
  write(`    curl -s -X POST ${opts.publicUrl}/api/v1/incidents -H "Authorization: Bearer $FIRELINE_TOKEN" \\`);
  write(`      -H 'Content-Type: application/json' -d '{"title":"Orders DB down again","runbook":"${DEMO_RUNBOOK_ID}"}'`);
  write('  Ctrl+C stops the demo; README.md says where to go next.');
}
