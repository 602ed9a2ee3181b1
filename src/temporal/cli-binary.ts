import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

/** How the embedded Temporal dev server gets its binary. */
export type TemporalCli =
  { kind: 'path'; path: string; source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'go-build' } | { kind: 'sdk-download' };

/** The environment values the resolver looks at, passed in so only entry points read process.env. */
export interface TemporalCliEnv {
  /** TEMPORAL_CLI_PATH */
  cliPath?: string;
  /** PATH; searched for `temporal` and `go`. Undefined means nothing is found on PATH. */
  path?: string;
}

export interface ResolveTemporalCliOptions {
  env: TemporalCliEnv;
  cacheDir?: string;
  version?: string;
  log: (msg: string) => void;
  allowBuild?: boolean;
  allowDownload?: boolean;
  /** Upper bound for one `go install`; a cold module cache on two cores needs a few minutes. */
  buildTimeoutMs?: number;
}

export const DEFAULT_TEMPORAL_CLI_VERSION = '1.5.1';
export const MIN_GO_VERSION: GoVersion = { major: 1, minor: 25, patch: 0 };
const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const BINARY_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const GO_NAME = process.platform === 'win32' ? 'go.exe' : 'go';
const PROGRESS_EVERY_MS = 10_000;
const LOCK_POLL_MS = 1_000;

export function defaultTemporalCliCacheDir(): string {
  return path.join(os.homedir(), '.cache', 'fireline', 'temporal-cli');
}

export function goInstallCommand(binDir: string, version: string): string {
  return `CGO_ENABLED=0 GOBIN=${binDir} go install ${CLI_MODULE}@v${version}`;
}

export class TemporalCliNotFoundError extends Error {
  constructor(
    readonly binDir: string,
    readonly version: string,
    readonly reasons: string[],
  ) {
    super(
      [
        `Temporal CLI v${version} not found: Fireline needs the \`temporal\` binary to run its embedded Temporal server.`,
        'Do one of:',
        `  - install Go >= ${MIN_GO_VERSION.major}.${MIN_GO_VERSION.minor} (https://go.dev/dl/) and run`,
        `      ${goInstallCommand(binDir, version)}`,
        '    (Fireline also runs this itself on start when such a Go is on PATH)',
        '  - or set TEMPORAL_CLI_PATH to an existing `temporal` binary, or put `temporal` on PATH',
        '  - or set TEMPORAL_ADDRESS to use a Temporal server you already run',
        ...(reasons.length > 0 ? ['Why nothing was found:', ...reasons.map((r) => `  - ${r}`)] : []),
      ].join('\n'),
    );
    this.name = 'TemporalCliNotFoundError';
  }
}

export interface GoVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Parses `go version` output such as `go version go1.26.8 linux/amd64` or `go1.25rc1`; null when unrecognised. */
export function parseGoVersion(output: string): GoVersion | null {
  const match = /\bgo(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return null;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

export function isGoVersionAtLeast(version: GoVersion, min: GoVersion = MIN_GO_VERSION): boolean {
  if (version.major !== min.major) return version.major > min.major;
  if (version.minor !== min.minor) return version.minor > min.minor;
  return version.patch >= min.patch;
}

export async function resolveTemporalCli(opts: ResolveTemporalCliOptions): Promise<TemporalCli> {
  const version = opts.version ?? DEFAULT_TEMPORAL_CLI_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`Temporal CLI version must look like 1.5.1, got "${version}"`);
  const binDir = path.join(opts.cacheDir ?? defaultTemporalCliCacheDir(), version);

  if (opts.env.cliPath !== undefined && opts.env.cliPath !== '') {
    return { kind: 'path', path: await checkExplicitCliPath(opts.env.cliPath), source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = await findOnPath(BINARY_NAME, opts.env.path);
  if (onPath) return { kind: 'path', path: onPath, source: 'PATH' };

  const cached = path.join(binDir, BINARY_NAME);
  if (await isExecutableFile(cached)) return { kind: 'path', path: cached, source: 'cache' };

  const reasons = [`no \`temporal\` on PATH and no cached build at ${cached}`];
  if (opts.allowBuild ?? true) {
    const built = await tryGoBuild(binDir, version, opts, reasons);
    if (built) return { kind: 'path', path: built, source: 'go-build' };
  } else {
    reasons.push('building with Go was not allowed');
  }
  if ((opts.allowDownload ?? true) && sdkDownloadInstalled()) {
    opts.log('Temporal CLI: falling back to the SDK download (needs internet access)');
    return { kind: 'sdk-download' };
  }
  if (opts.allowDownload ?? true)
    reasons.push('the SDK download needs @temporalio/testing, a development package that this install left out');
  throw new TemporalCliNotFoundError(binDir, version, reasons);
}

function sdkDownloadInstalled(): boolean {
  try {
    require.resolve('@temporalio/testing');
    return true;
  } catch {
    return false;
  }
}

async function checkExplicitCliPath(cliPath: string): Promise<string> {
  const resolved = path.resolve(cliPath);
  const stat = await fs.stat(resolved).catch(() => null);
  if (!stat) throw new Error(`TEMPORAL_CLI_PATH=${cliPath}: no such file; point it at a \`temporal\` binary or unset it`);
  if (!stat.isFile()) throw new Error(`TEMPORAL_CLI_PATH=${cliPath}: not a file; point it at a \`temporal\` binary`);
  if (!(await isExecutableFile(resolved))) {
    throw new Error(`TEMPORAL_CLI_PATH=${cliPath}: not executable; run \`chmod +x ${cliPath}\``);
  }
  return resolved;
}

export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Searches PATH like a shell would; empty entries (the current directory) are skipped on purpose. */
export async function findOnPath(name: string, searchPath: string | undefined): Promise<string | null> {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (dir === '' || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** Returns the built binary, or null after recording in `reasons` why Go could not be used. */
async function tryGoBuild(binDir: string, version: string, opts: ResolveTemporalCliOptions, reasons: string[]): Promise<string | null> {
  const go = await findOnPath(GO_NAME, opts.env.path);
  if (!go) {
    reasons.push('`go` is not on PATH');
    return null;
  }
  const goVersionOutput = await runGoVersion(go);
  const goVersion = parseGoVersion(goVersionOutput);
  if (!goVersion || !isGoVersionAtLeast(goVersion)) {
    reasons.push(`${go} reports "${goVersionOutput.trim()}", older than go1.${MIN_GO_VERSION.minor} (or unreadable)`);
    return null;
  }
  try {
    return await buildWithLock(go, binDir, version, opts);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    opts.log(`Temporal CLI: go build failed: ${message}`);
    reasons.push(`building with ${go} failed: ${message}`);
    return null;
  }
}

function runGoVersion(go: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(go, ['version'], { timeout: 30_000 }, (err, stdout) => resolve(err ? '' : stdout));
  });
}

/** One build per cache dir at a time: a second process waits for the first and then uses its binary. */
async function buildWithLock(go: string, binDir: string, version: string, opts: ResolveTemporalCliOptions): Promise<string> {
  const target = path.join(binDir, BINARY_NAME);
  const buildTimeoutMs = opts.buildTimeoutMs ?? 20 * 60_000;
  await fs.mkdir(binDir, { recursive: true });
  const lock = await acquireLock(path.join(binDir, '.build.lock'), buildTimeoutMs, opts.log);
  try {
    if (await isExecutableFile(target)) return target;
    await removeStaleTempDirs(binDir);
    const tempBin = await fs.mkdtemp(path.join(binDir, '.gobin-'));
    try {
      await runGoInstall(go, tempBin, version, buildTimeoutMs, opts.log);
      // rename within one directory is atomic: readers see no binary or a whole one.
      await fs.rename(path.join(tempBin, BINARY_NAME), target);
    } finally {
      await fs.rm(tempBin, { recursive: true, force: true });
    }
    opts.log(`Temporal CLI: built ${target}`);
    return target;
  } finally {
    await lock.release();
  }
}

async function removeStaleTempDirs(binDir: string): Promise<void> {
  for (const entry of await fs.readdir(binDir)) {
    if (entry.startsWith('.gobin-')) await fs.rm(path.join(binDir, entry), { recursive: true, force: true });
  }
}

interface Lock {
  release(): Promise<void>;
}

async function acquireLock(lockFile: string, staleAfterMs: number, log: (msg: string) => void): Promise<Lock> {
  const startedAt = Date.now();
  let lastNotice = 0;
  for (;;) {
    try {
      await fs.writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
      return { release: () => fs.rm(lockFile, { force: true }) };
    } catch (err) {
      if (!isErrnoCode(err, 'EEXIST')) throw err;
    }
    if (await isStaleLock(lockFile, staleAfterMs)) {
      await fs.rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() - lastNotice >= PROGRESS_EVERY_MS) {
      lastNotice = Date.now();
      log(`Temporal CLI: another process is building it (${lockFile}); waiting… ${elapsedSeconds(startedAt)}s`);
    }
    await sleep(LOCK_POLL_MS);
  }
}

/** A lock is stale when its owner is gone (killed build) or it outlived any build. */
async function isStaleLock(lockFile: string, staleAfterMs: number): Promise<boolean> {
  const [content, stat] = await Promise.all([fs.readFile(lockFile, 'utf8').catch(() => null), fs.stat(lockFile).catch(() => null)]);
  if (content === null || stat === null) return false;
  if (Date.now() - stat.mtimeMs > staleAfterMs) return true;
  const pid = Number.parseInt(content, 10);
  return Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrnoCode(err, 'ESRCH');
  }
}

/** Runs `go install -v`; logs a progress line every few seconds instead of every package so the log stays short. */
function runGoInstall(go: string, gobin: string, version: string, timeoutMs: number, log: (msg: string) => void): Promise<void> {
  log(`Temporal CLI: building v${version} with \`${goInstallCommand(path.dirname(gobin), version)}\` (once per machine, a few minutes)…`);
  const child = spawn(go, ['install', '-v', `${CLI_MODULE}@v${version}`], {
    env: { ...process.env, CGO_ENABLED: '0', GOBIN: gobin },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const startedAt = Date.now();
  const tail: string[] = [];
  let packages = 0;
  let downloads = 0;
  let lastLine = '';
  const onLine = (line: string): void => {
    if (line.startsWith('go: downloading ')) downloads += 1;
    else packages += 1;
    lastLine = line;
    tail.push(line);
    if (tail.length > 30) tail.shift();
  };
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  const progress = setInterval(() => {
    log(
      `Temporal CLI: still building… ${elapsedSeconds(startedAt)}s (${downloads} modules downloaded, ${packages} packages compiled; last: ${lastLine})`,
    );
  }, PROGRESS_EVERY_MS);
  const timeout = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        log(`Temporal CLI: go install finished in ${elapsedSeconds(startedAt)}s`);
        resolve();
      } else {
        const how = signal ? `killed by ${signal}` : `exit code ${code}`;
        reject(new Error(`go install ${how}; last output:\n${tail.join('\n')}`));
      }
    });
  }).finally(() => {
    clearInterval(progress);
    clearTimeout(timeout);
  });
}

function elapsedSeconds(since: number): number {
  return Math.round((Date.now() - since) / 1000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isErrnoCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
