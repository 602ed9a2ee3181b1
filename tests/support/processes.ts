// Child processes for end-to-end tests: spawn with captured output, wait for exit, kill whole process groups,
// find free ports, wait for HTTP. Every process spawned here is tracked, so `killAllTracked()` in an
// afterEach/afterAll cleans up even when a test failed half-way.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { Connection } from '@temporalio/client';
import { TEST_PAYLOAD_KEYS } from './keys';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const FIRELINE_BIN = path.join(REPO_ROOT, 'bin', 'fireline.cjs');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Spawned as the leader of its own process group: `killGroup` reaches its children too. */
  readonly detached: boolean;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  /** The exit, once it happened. */
  exit(): Exit | undefined;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved in arrival order. */
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr; rejects on exit or timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Signals the process (or its whole group when detached). Ignores a process that is already gone. */
  kill(signal?: NodeJS.Signals): void;
  killGroup(signal?: NodeJS.Signals): void;
}

const tracked = new Set<SpawnedProcess>();

/** A last resort for a jest worker that exits without running afterAll: no orphan keeps a port or a lock. */
process.once('exit', () => {
  for (const p of tracked) {
    if (!p.exit()) (p.detached ? p.killGroup : p.kill)('SIGKILL');
  }
});

export function spawnProcess(
  name: string,
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; detached?: boolean },
): SpawnedProcess {
  const detached = opts.detached ?? true;
  const child = spawn(command, args, { env: opts.env, cwd: opts.cwd ?? REPO_ROOT, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not spawn ${name}: ${command} ${args.join(' ')}`);
  const pid = child.pid;
  let out = '';
  let err = '';
  let all = '';
  const listeners = new Set<() => void>();
  const onData = (which: 'out' | 'err') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (which === 'out') out += text;
    else err += text;
    all += text;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData('out'));
  child.stderr!.on('data', onData('err'));
  let exitInfo: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    // 'close' rather than 'exit': by then both pipes are drained, so output() is complete.
    child.once('close', (code, signal) => {
      exitInfo = { code, signal };
      tracked.delete(handle);
      for (const l of listeners) l();
      resolve(exitInfo);
    });
    child.once('error', (error) => {
      all += `\n[spawn error] ${error.message}\n`;
      exitInfo = { code: null, signal: null };
      tracked.delete(handle);
      resolve(exitInfo);
    });
  });

  const signalPid = (target: number, signal: NodeJS.Signals) => {
    try {
      process.kill(target, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  };

  const handle: SpawnedProcess = {
    name,
    child,
    pid,
    detached,
    exited,
    exit: () => exitInfo,
    stdout: () => out,
    stderr: () => err,
    output: () => all,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = all.match(pattern);
          if (match) return done(() => resolve(match));
          if (exitInfo)
            return done(() => reject(new Error(`${name} exited (${describeExit(exitInfo!)}) before printing ${pattern}\n${tail(all)}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms\n${tail(all)}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    kill(signal = 'SIGTERM') {
      if (!exitInfo) signalPid(pid, signal);
    },
    killGroup(signal = 'SIGKILL') {
      if (!detached) throw new Error(`${name} is not a process group leader; spawn it with detached: true`);
      // The group may outlive its leader (an orphaned grandchild), so signal it even after the leader exited.
      signalPid(-pid, signal);
    },
  };
  tracked.add(handle);
  return handle;
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

export function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Waits for the exit; on timeout rejects (the process keeps running: the caller decides what to kill). */
export async function waitForExit(p: SpawnedProcess, timeoutMs = 30_000): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${p.name} (pid ${p.pid}) did not exit within ${timeoutMs} ms\n${tail(p.output())}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether any process is left in the group `pgid` (signal 0 probes without delivering anything). */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * SIGKILLs `p`'s process group (or `p` alone when not detached) and waits until it is gone.
 * Safe to call on processes that already exited.
 */
export async function killHard(p: SpawnedProcess, timeoutMs = 10_000): Promise<void> {
  if (p.detached) p.killGroup('SIGKILL');
  else p.kill('SIGKILL');
  await waitForExit(p, timeoutMs);
  if (p.detached) await waitUntil(() => !processGroupAlive(p.pid), `process group ${p.pid} to be gone`, timeoutMs);
}

/** Kills every process spawned through this module that is still running; for afterEach/afterAll. */
export async function killAllTracked(): Promise<void> {
  const running = [...tracked];
  await Promise.all(running.map((p) => killHard(p).catch(() => undefined)));
}

/** The processes still running that were spawned here (for tests that assert nothing leaked). */
export function trackedProcesses(): SpawnedProcess[] {
  return [...tracked];
}

/**
 * The environment for a Fireline child: this process's environment without any Fireline, Temporal or
 * integration settings (so the developer's shell cannot change what a test runs), plus `vars`.
 */
export function childEnv(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(FIRELINE_|TEMPORAL_|DATABASE_URL$|SLACK_|SMTP_)/.test(key)) continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(vars)) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * `node bin/fireline.cjs <args>` in the repository on the TypeScript sources (no build), as its own process group.
 * Against an external Temporal a child needs FIRELINE_PAYLOAD_KEYS: the shared test ring unless `vars` names one,
 * so children and the test's own clients read each other's payloads. Embedded children make their key file.
 */
export function spawnFireline(name: string, args: string[], vars: Record<string, string | undefined>): SpawnedProcess {
  const keys = vars.TEMPORAL_ADDRESS !== undefined ? { FIRELINE_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS } : {};
  return spawnProcess(name, process.execPath, [FIRELINE_BIN, ...args], {
    env: childEnv({ FIRELINE_FROM_SOURCE: '1', ...keys, ...vars }),
    detached: true,
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

/** Whether a listener could bind `port` right now (as a server would, with SO_REUSEADDR). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A free port whose `port + offset` is free too (the dev server's UI listens on port + 1000). */
export async function findFreePortWithOffset(offset: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await findFreePort(host);
    if (port + offset <= 65535 && (await isPortFree(port + offset, host))) return port;
  }
  throw new Error(`no free port p with p+${offset} free after 50 attempts`);
}

/** Whether something accepts TCP connections on `port`. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1_000);
    const finish = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function waitUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Polls `url` until it answers with `status`; fails early when `process` exits, with its output, so a
 * start-up crash reads as the crash rather than as a timeout.
 */
export async function waitForHttp(
  url: string,
  opts: { status?: number; timeoutMs?: number; process?: SpawnedProcess } = {},
): Promise<Response> {
  const status = opts.status ?? 200;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    const exit = opts.process?.exit();
    if (opts.process && exit) {
      throw new Error(`${opts.process.name} exited (${describeExit(exit)}) while waiting for ${url}\n${tail(opts.process.output())}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.status === status) return res;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const output = opts.process ? `\n${tail(opts.process.output())}` : '';
      throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** temporal.api.enums.v1.TaskQueueType WORKFLOW and ACTIVITY, spelled out to avoid a direct proto import. */
const WORKFLOW_AND_ACTIVITY_QUEUES = [1, 2];

/**
 * Resolves once the `fireline worker` child polls both the workflow and the activity side of `taskQueue` (its
 * pollers' identities start with its pid); fails at once, with its output, if it exits first.
 */
export async function waitForWorkerPolling(
  worker: SpawnedProcess,
  o: { name: string; connection: Connection; namespace: string; taskQueue: string; timeoutMs: number; intervalMs: number },
): Promise<void> {
  const identity = `${worker.pid}@`;
  await waitUntil(
    async () => {
      const exit = worker.exit();
      if (exit) throw new Error(`${o.name} exited (${describeExit(exit)}) during start-up\n${tail(worker.output())}`);
      for (const taskQueueType of WORKFLOW_AND_ACTIVITY_QUEUES) {
        const res = await o.connection.workflowService.describeTaskQueue({
          namespace: o.namespace,
          taskQueue: { name: o.taskQueue },
          taskQueueType,
        });
        if (!res.pollers.some((p) => p.identity?.startsWith(identity))) return false;
      }
      return true;
    },
    `${o.name} (pid ${worker.pid}) to poll ${o.taskQueue}`,
    o.timeoutMs,
    o.intervalMs,
  ).catch((err: Error) => {
    throw worker.exit() ? err : new Error(`${err.message}\n${tail(worker.output())}`);
  });
}

/** SIGKILLs the child and checks that this, not something else, ended it. */
export async function sigkill(p: SpawnedProcess): Promise<void> {
  await killHard(p);
  expect(p.exit()).toEqual({ code: null, signal: 'SIGKILL' });
}
