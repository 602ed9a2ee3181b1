import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { Connection } from '@temporalio/client';
import type { TemporalCli } from './cli-binary';

export interface DevServer {
  /** host:port of the frontend gRPC service. */
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

export interface StartDevServerOptions {
  cli: TemporalCli;
  port: number;
  /** Web UI port; undefined = port + 1000 (the CLI's default), false = headless. */
  uiPort?: number | false;
  /** SQLite file; undefined = in-memory, lost on stop. */
  dbFile?: string;
  namespace?: string;
  ip?: string;
  log: (msg: string) => void;
  startTimeoutMs?: number;
  /** More `start-dev` arguments, appended last (e.g. `--dynamic-config-value key=value`). */
  extraArgs?: string[];
  /** The codec server the Web UI decodes payloads through (Fireline's `<public URL>/codec`); ignored headless. */
  uiCodecEndpoint?: string;
}

const STDERR_TAIL_LINES = 50;
const READY_POLL_MS = 200;
const STOP_GRACE_MS = 10_000;

/** Arguments for `temporal server start-dev`, checked against CLI v1.5.1's `--help`. */
export function devServerArgs(opts: StartDevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    opts.ip ?? '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace ?? 'default',
    '--log-format',
    'pretty',
    '--log-level',
    'warn',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    '--dynamic-config-value',
    'frontend.enableExecuteMultiOperation=true',
  ];
  args.push(...(opts.uiPort === false ? ['--headless'] : ['--ui-port', String(opts.uiPort ?? opts.port + 1000)]));
  if (opts.dbFile !== undefined) {
    // WAL lets the server's readers run beside its writer, and with it synchronous=NORMAL is crash-safe for the
    // process (a power cut may drop the last commits) at a fraction of FULL's fsyncs. Pragmas mean nothing in memory.
    args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL');
  }
  args.push(...uiCodecArgs(opts));
  if (opts.extraArgs) args.push(...opts.extraArgs);
  return args;
}

function uiCodecArgs(opts: StartDevServerOptions): string[] {
  return opts.uiPort !== false && opts.uiCodecEndpoint !== undefined ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : [];
}

export async function startDevServer(opts: StartDevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const address = `${host}:${opts.port}`;
  const uiUrl = opts.uiPort === false ? null : `http://${host}:${opts.uiPort ?? opts.port + 1000}`;
  if (opts.dbFile !== undefined) await fs.mkdir(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
  if (opts.cli.kind === 'sdk-download') return startWithSdk(opts, ip, address, uiUrl);
  return startProcess(opts.cli.path, opts, address, uiUrl);
}

async function startWithSdk(opts: StartDevServerOptions, ip: string, address: string, uiUrl: string | null): Promise<DevServer> {
  opts.log(`Temporal dev server: starting ${address} with the SDK's downloaded CLI`);
  // Loaded only here: a development dependency, absent from production installs (resolveTemporalCli checks).
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip,
      port: opts.port,
      dbFilename: opts.dbFile,
      namespace: opts.namespace ?? 'default',
      ui: opts.uiPort !== false,
      uiPort: opts.uiPort === false ? undefined : opts.uiPort,
      extraArgs: [...uiCodecArgs(opts), ...(opts.extraArgs ?? [])],
    },
  });
  return { address, uiUrl, stop: once(() => env.teardown()) };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

async function startProcess(binary: string, opts: StartDevServerOptions, address: string, uiUrl: string | null): Promise<DevServer> {
  const startedAt = Date.now();
  const pidFile = opts.dbFile === undefined ? undefined : `${path.resolve(opts.dbFile)}.pid`;
  if (pidFile) await stopOrphan(pidFile, path.resolve(opts.dbFile!), opts.log);
  // Checked here too: a server already on that port would answer our readiness probe in place of ours.
  await assertPortFree(opts.ip ?? '127.0.0.1', opts.port);
  const child = spawn(binary, devServerArgs(opts), { stdio: ['ignore', 'pipe', 'pipe'] });
  if (pidFile && child.pid) await fs.writeFile(pidFile, String(child.pid));
  const tail: string[] = [];
  let stopping = false;
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > STDERR_TAIL_LINES) tail.shift();
  };
  readline.createInterface({ input: child.stdout }).on('line', remember);
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    remember(line);
    // The shutdown burst of "failed to poll" warnings is expected noise.
    if (!stopping) opts.log(`temporal: ${line}`);
  });
  const exited = waitForExit(child);
  // A dev server must not outlive Fireline when it exits without calling stop().
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = once(async () => {
    stopping = true;
    process.removeListener('exit', killOnExit);
    await terminate(child, exited);
    if (pidFile) await fs.rm(pidFile, { force: true });
  });

  try {
    await waitUntilReady(address, opts.namespace ?? 'default', exited, opts.startTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`Temporal dev server (${binary}) did not start on ${address}: ${reason}\n${indent(tail)}`, {
      cause: err,
    });
  }
  opts.log(`Temporal dev server: ready at ${address} after ${Date.now() - startedAt} ms${uiUrl ? `, UI ${uiUrl}` : ''}`);
  return { address, uiUrl, stop };
}

function waitForExit(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function terminate(child: ChildProcess, exited: Promise<Exit>): Promise<void> {
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

/** Ready means a client can reach the frontend and the namespace exists, which is what a worker needs. */
async function waitUntilReady(address: string, namespace: string, exited: Promise<Exit>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const state: { exit?: Exit } = {};
  void exited.then((e) => (state.exit = e));
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (state.exit) throw new Error(describeExit(state.exit));
    const connectTimeout = Math.min(2_000, Math.max(deadline - Date.now(), 1));
    // No retry interceptor: this loop is the retry, and a retry timer firing after close() would throw.
    const connection = Connection.lazy({ address, connectTimeout, interceptors: [] });
    // Closing also abandons a probe still connecting when the process exits, so no socket outlives start-up.
    const error = await Promise.race([probe(connection, namespace, connectTimeout), exited.then(() => 'exited')]).finally(() =>
      connection.close(),
    );
    if (state.exit) throw new Error(describeExit(state.exit));
    if (error === null) return;
    lastError = error;
    await delay(READY_POLL_MS);
  }
  if (state.exit) throw new Error(describeExit(state.exit));
  throw new Error(`not ready within ${timeoutMs} ms (last error: ${lastError})`);
}

/** One connection attempt; returns null when ready, else the error text. */
async function probe(connection: Connection, namespace: string, timeoutMs: number): Promise<string | null> {
  try {
    // Plain calls rather than Connection.connect(): its waitForReady timer outlives close() and holds the process.
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.describeNamespace({ namespace }));
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function describeExit(exit: Exit): string {
  if (exit.error) return `could not run it: ${exit.error.message}`;
  return `it exited early (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}); see its output below`;
}

function indent(lines: string[]): string {
  return lines.length === 0 ? '  (no output)' : `last output:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

async function assertPortFree(host: string, port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Temporal dev server: port ${port} on ${host} is already in use; stop what listens there or choose another port`)
          : err,
      ),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** Listens on an ephemeral port and releases it; another process can still take it before use. */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | null = null;
  return () => (result ??= fn());
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A dev server left running by a Fireline that was killed outright (SIGKILL, OOM) still holds the port and the
 * database. Its pid file names it; it is stopped only when the process really is `temporal server start-dev`
 * on this same database file, so a reused pid is never touched.
 */
async function stopOrphan(pidFile: string, dbFile: string, log: (msg: string) => void): Promise<void> {
  const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const args = cmdline.split('\0');
  if (!(args.includes('start-dev') && args.includes(dbFile))) {
    await fs.rm(pidFile, { force: true });
    return;
  }
  log(`Temporal dev server: stopping pid ${pid} left over from an earlier run on ${dbFile}`);
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < STOP_GRACE_MS; waited += 100) {
    if (!(await fs.stat(`/proc/${pid}`).catch(() => null))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (await fs.stat(`/proc/${pid}`).catch(() => null)) process.kill(pid, 'SIGKILL');
  await fs.rm(pidFile, { force: true });
}
