// The production Temporal server (not the CLI's dev server) on PostgreSQL persistence, for end-to-end tests:
// its `temporal` and `temporal_visibility` databases live in a test PostgreSQL cluster (which can also hold
// Fireline's read model), every service runs in one process on free loopback ports, and the `default`
// namespace is registered before it is handed out. Binaries: scripts/build-temporal-server.sh.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestPostgres } from './postgres';
import { findFreePort, isPortFree, tail } from './processes';

export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const TEMPORAL_SERVER_DIR = path.join(os.homedir(), '.cache', 'fireline', 'temporal-server', TEMPORAL_SERVER_VERSION);
const SERVER_BIN = path.join(TEMPORAL_SERVER_DIR, 'temporal-server');
const SQL_TOOL_BIN = path.join(TEMPORAL_SERVER_DIR, 'temporal-sql-tool');

export const TEMPORAL_SERVER_MISSING =
  `The Temporal server ${TEMPORAL_SERVER_VERSION} binaries were not found in ${TEMPORAL_SERVER_DIR} (temporal-server, temporal-sql-tool). ` +
  'Build them once with `scripts/build-temporal-server.sh` (.ci/run does this in CI).';

/** Run when the binaries exist; in CI (CI=true) run anyway so a missing build fails with TEMPORAL_SERVER_MISSING. */
export function temporalServerAvailability(): { run: boolean; label: string } {
  if (fs.existsSync(SERVER_BIN) && fs.existsSync(SQL_TOOL_BIN)) return { run: true, label: '' };
  if (process.env.CI === 'true') return { run: true, label: '' };
  return { run: false, label: ' (skipped: the Temporal server is not built; run scripts/build-temporal-server.sh)' };
}

export interface TestTemporalServer {
  /** host:port of the frontend gRPC service. */
  address: string;
  namespace: string;
  /** The server's own log (JSON lines); removed by stop(). */
  logFile: string;
  /** How long schema setup plus start until the namespace answered took. */
  startupMs: { schema: number; ready: number };
  stop(): Promise<void>;
}

export interface StartTemporalServerOptions {
  postgres: TestPostgres;
  /** Registered once the frontend answers; default `default`. */
  namespace?: string;
  /** Server log level; default `warn` (`info` logs every shard and membership change). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
}

const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
const STOP_GRACE_MS = 15_000;

export async function startTemporalServer(options: StartTemporalServerOptions): Promise<TestTemporalServer> {
  for (const bin of [SERVER_BIN, SQL_TOOL_BIN]) if (!fs.existsSync(bin)) throw new Error(TEMPORAL_SERVER_MISSING);
  const namespace = options.namespace ?? 'default';
  const startedAt = Date.now();
  await Promise.all([
    setUpDatabase(options.postgres, 'temporal', 'postgresql/v12/temporal'),
    setUpDatabase(options.postgres, 'temporal_visibility', 'postgresql/v12/visibility'),
  ]);
  const schemaMs = Date.now() - startedAt;

  // Another process may take a free port before the server binds it: try a few times with fresh ports.
  for (let attempt = 1; ; attempt++) {
    const launched = await launch(options, namespace);
    if ('address' in launched) {
      return { ...launched, namespace, startupMs: { schema: schemaMs, ready: Date.now() - startedAt } };
    }
    if (!launched.portTaken || attempt >= 3) throw launched.error;
  }
}

type Launched = Omit<TestTemporalServer, 'namespace' | 'startupMs'> | { error: Error; portTaken: boolean };

async function launch(options: StartTemporalServerOptions, namespace: string): Promise<Launched> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-temporal-server-'));
  const logFile = path.join(dir, 'temporal-server.log');
  const ports = await servicePorts();
  const dynamicConfigFile = path.join(dir, 'dynamicconfig.yaml');
  fs.mkdirSync(path.join(dir, 'config'));
  fs.writeFileSync(dynamicConfigFile, DYNAMIC_CONFIG);
  fs.writeFileSync(
    path.join(dir, 'config', 'development.yaml'),
    serverConfig({ postgresPort: options.postgres.port, ports, dynamicConfigFile, logLevel: options.logLevel ?? 'warn' }),
  );

  const log = fs.openSync(logFile, 'a');
  const child = spawn(SERVER_BIN, serverArgs(dir), { cwd: dir, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not run it: ${err.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
  });
  // A jest worker that exits without afterAll must not leave a server behind holding its ports.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      await terminate(child, exited);
      fs.rmSync(dir, { recursive: true, force: true });
    })());

  const address = `127.0.0.1:${ports[0]!.grpc}`;
  try {
    await waitUntilReady(address, namespace, exited, options.startTimeoutMs ?? 120_000);
    return { address, logFile, stop };
  } catch (err) {
    const output = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    await stop();
    return {
      error: new Error(`Temporal server did not start on ${address}: ${(err as Error).message}\n${tail(output) || '(no log)'}`, {
        cause: err,
      }),
      portTaken: /address already in use/i.test(output),
    };
  }
}

/** `temporal-server` arguments: the config is `<dir>/config/development.yaml`, and all four services run in one process. */
function serverArgs(dir: string): string[] {
  return [
    '--root',
    dir,
    '--config',
    'config',
    '--env',
    'development',
    '--allow-no-auth',
    'start',
    ...SERVICES.flatMap((s) => ['--service', s]),
  ];
}

/** Creates `database` and brings it to the newest schema embedded in the sql tool (same version as the server). */
async function setUpDatabase(postgres: TestPostgres, database: string, schemaName: string): Promise<void> {
  const common = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(postgres.port), '-u', 'postgres', '--db', database];
  await sqlTool([...common, 'create-database']);
  await sqlTool([...common, 'setup-schema', '-v', '0.0']);
  await sqlTool([...common, 'update-schema', '--schema-name', schemaName]);
}

function sqlTool(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(SQL_TOOL_BIN, args, { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`temporal-sql-tool ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/**
 * A gRPC and a membership port per service, all distinct (a released port can be handed out again). The
 * membership port lands in a SMALLINT column (cluster_membership.rpc_port), so it must be at most 32767,
 * below Linux's ephemeral range where findFreePort draws from.
 */
async function servicePorts(): Promise<{ grpc: number; membership: number }[]> {
  const taken = new Set<number>();
  const ports: { grpc: number; membership: number }[] = [];
  for (const _ of SERVICES) {
    let grpc = await findFreePort();
    while (taken.has(grpc)) grpc = await findFreePort();
    taken.add(grpc);
    let membership = 0;
    for (let attempt = 0; !membership; attempt++) {
      if (attempt >= 200) throw new Error('no free loopback port between 20000 and 32767 for Temporal membership');
      const candidate = randomInt(20_000, 32_768);
      if (!taken.has(candidate) && (await isPortFree(candidate))) membership = candidate;
    }
    taken.add(membership);
    ports.push({ grpc, membership });
  }
  return ports;
}

// Namespace changes reach every service within a second rather than the default ten, so a namespace
// registered at start-up is usable by the time the probe below sees it.
const DYNAMIC_CONFIG = `system.namespaceCacheRefreshInterval:
  - value: 1s
limit.maxIDLength:
  - value: 255
`;

/** config/development-postgres12.yaml of the server module, on loopback ports, without metrics, pprof or archival. */
function serverConfig(opts: {
  postgresPort: number;
  ports: { grpc: number; membership: number }[];
  dynamicConfigFile: string;
  logLevel: string;
}): string {
  const datastore = (database: string, maxConns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "127.0.0.1:${opts.postgresPort}"
        connectProtocol: tcp
        user: postgres
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const services = SERVICES.map((service, i) => {
    return `  ${service}:
    rpc:
      grpcPort: ${opts.ports[i]!.grpc}
      membershipPort: ${opts.ports[i]!.membership}
      bindOnLocalHost: true`;
  });
  return `log:
  stdout: true
  level: ${opts.logLevel}
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${datastore('temporal', 4)}
    postgres-visibility:
${datastore('temporal_visibility', 2)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:
${services.join('\n')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${opts.ports[0]!.grpc}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${JSON.stringify(opts.dynamicConfigFile)}
  pollInterval: 10s
`;
}

/**
 * Ready means the frontend answers and `namespace` is known past the frontend: a history call for a workflow
 * that does not exist fails with "workflow not found" rather than "namespace not found".
 */
async function waitUntilReady(address: string, namespace: string, exited: Promise<string>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const state: { exit?: string } = {};
  void exited.then((e) => (state.exit = e));
  let registered = false;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (state.exit) throw new Error(`it exited early (${state.exit})`);
    const callTimeout = Math.min(5_000, Math.max(deadline - Date.now(), 1));
    // No retry interceptor: this loop is the retry, and a retry timer firing after close() would throw.
    const connection = Connection.lazy({ address, connectTimeout: callTimeout, interceptors: [] });
    const call = <T>(fn: () => Promise<T>) => connection.withDeadline(Date.now() + callTimeout, fn);
    try {
      await call(() => connection.workflowService.getSystemInfo({}));
      if (!registered) {
        await call(() =>
          connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') }),
        ).catch((err: Error) => {
          if (!/already exists/i.test(err.message)) throw err;
        });
        registered = true;
      }
      const probe = await call(() =>
        connection.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: `readiness-probe-${randomUUID()}` } }),
      ).then(
        () => 'an unknown workflow was found',
        (err: Error) => (/namespace/i.test(err.message) || !/not found/i.test(err.message) ? err.message : null),
      );
      if (probe === null) return;
      lastError = probe;
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      await connection.close();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready within ${timeoutMs} ms (last error: ${lastError})`);
}

async function terminate(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceful = await Promise.race([
    exited.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), STOP_GRACE_MS))),
  ]);
  clearTimeout(timer);
  if (graceful) return;
  child.kill('SIGKILL');
  await exited;
}
