// A throwaway PostgreSQL cluster for tests: Debian's binaries, a temp directory, a free loopback port, trust
// auth, fsync off. PostgreSQL refuses to run as root, so as root (tests and CI) the cluster belongs to the
// `postgres` system user that Debian's package creates and runs through `runuser`.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from './processes';

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth: no password). */
  url: string;
  port: number;
  /** Where initdb, pg_ctl, psql, pg_dump and pg_restore of this version live. */
  binDir: string;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Roles that must log in over TCP with a password (scram-sha-256); every other role is trusted. */
  passwordRoles?: string[];
}

const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The newest `/usr/lib/postgresql/<v>/bin` that has the server tools, or undefined. */
export function findPostgresBinDir(): string | undefined {
  if (!fs.existsSync(DEBIAN_ROOT)) return undefined;
  const versions = fs
    .readdirSync(DEBIAN_ROOT)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = path.join(DEBIAN_ROOT, version, 'bin');
    if (['initdb', 'pg_ctl', 'postgres', 'psql', 'pg_dump', 'pg_restore'].every((tool) => fs.existsSync(path.join(bin, tool)))) return bin;
  }
  return undefined;
}

export const POSTGRES_MISSING =
  `PostgreSQL server binaries were not found under ${DEBIAN_ROOT}/*/bin (initdb, pg_ctl, postgres, psql, pg_dump, pg_restore). ` +
  'Install them with `apt-get install -y postgresql` (.ci/run does this in CI).';

/**
 * How a test file should treat PostgreSQL tests: run them when the binaries exist; in CI (CI=true) run them
 * anyway so they fail with POSTGRES_MISSING; elsewhere skip them, with the reason in the test name.
 */
export function postgresAvailability(): { run: boolean; label: string } {
  if (findPostgresBinDir()) return { run: true, label: '' };
  if (process.env.CI === 'true') return { run: true, label: '' };
  return { run: false, label: ' (skipped: PostgreSQL is not installed)' };
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function postgresUser(): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root, but there is no `postgres` system user to run PostgreSQL as (Debian’s postgresql package creates it)',
    );
  }
}

/** Runs a PostgreSQL server tool, as the `postgres` user when we are root. */
function runServerTool(binDir: string, tool: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<string> {
  const command = isRoot() ? 'runuser' : path.join(binDir, tool);
  const argv = isRoot() ? ['-u', 'postgres', '--', path.join(binDir, tool), ...args] : args;
  return new Promise((resolve, reject) => {
    // cwd: the postgres user may not be allowed into the repository.
    const child = spawn(command, argv, { cwd, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${tool} could not start: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${tool} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const binDir = findPostgresBinDir();
  if (!binDir) throw new Error(POSTGRES_MISSING);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    fs.chownSync(dir, uid, gid);
  }
  try {
    await runServerTool(
      binDir,
      'initdb',
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C'],
      dir,
    );
    const hba = [
      'local all all trust',
      ...(options.passwordRoles ?? []).map((role) => `host all ${role} 127.0.0.1/32 scram-sha-256`),
      'host all all 127.0.0.1/32 trust',
    ];
    // Appending and overwriting keep the files' owner (the postgres user) and mode.
    fs.writeFileSync(path.join(dataDir, 'pg_hba.conf'), `${hba.join('\n')}\n`);
    fs.appendFileSync(
      path.join(dataDir, 'postgresql.conf'),
      [
        '',
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir.replace(/'/g, "''")}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 200',
        "password_encryption = 'scram-sha-256'",
        '',
      ].join('\n'),
    );
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const stopNow = () => {
    try {
      const argv = ['-D', dataDir, '-m', 'immediate', '-w', 'stop'];
      if (isRoot()) execFileSync('runuser', ['-u', 'postgres', '--', path.join(binDir, 'pg_ctl'), ...argv], { cwd: dir, stdio: 'ignore' });
      else execFileSync(path.join(binDir, 'pg_ctl'), argv, { cwd: dir, stdio: 'ignore' });
    } catch {
      // Not running (never started, or already stopped).
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // A jest worker that exits without afterAll must not leave a postmaster behind.
  process.once('exit', stopNow);

  // Another process may take the free port before the server binds it: try a few.
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await findFreePort();
    try {
      await runServerTool(binDir, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`, 'start'], dir);
      lastError = undefined;
      break;
    } catch (err) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
      lastError = new Error(`${(err as Error).message}\n${log}`);
    }
  }
  if (lastError) {
    process.removeListener('exit', stopNow);
    stopNow();
    throw lastError;
  }

  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    binDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', stopNow);
      await runServerTool(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'], dir).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs SQL through psql (no shell) and returns its unaligned, tuples-only output. */
export function psql(binDir: string, url: string, sql: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(binDir, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', `--dbname=${url}`, '-c', sql], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`psql failed (exit ${code}): ${err.trim()}`))));
  });
}

/** The same server, another database. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
