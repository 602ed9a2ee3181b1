import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ActivityRuntime } from '../shared/activity';
import { cancellationOf, nonRetryable, throwIfCancelled } from '../shared/activity';
import { FAILURE } from '../../src/domain/failure-types';

/** Files and tools for the backup providers: complete-or-absent backup files, hashes, child processes. */

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface BackupFile {
  /** `<backupDir>/<incidentId>/<stepId>.<ext>`: only ever a complete backup. */
  finalPath: string;
  /** Where this attempt writes; renamed to finalPath once complete. */
  tmpPath: string;
}

/**
 * Prepares `<backupDir>/<incidentId>/<stepId>.<ext>` and a temp name beside it. A crashed earlier attempt
 * may have left a partial temp file: it is removed here, and the final name is only ever written by rename.
 */
export async function prepareBackupFile(backupDir: string, incidentId: string, stepId: string, ext: string): Promise<BackupFile> {
  for (const [what, value] of [
    ['incident id', incidentId],
    ['step id', stepId],
  ] as const) {
    if (!SEGMENT.test(value) || value.includes('..')) {
      throw nonRetryable(`${what} "${value}" cannot be used in a backup file name`, FAILURE.invalidBackupRequest);
    }
  }
  const dir = path.resolve(backupDir, incidentId);
  await fs.mkdir(dir, { recursive: true });
  const finalName = `${stepId}.${ext}`;
  const tmpPrefix = `.${finalName}.`;
  for (const name of await fs.readdir(dir)) {
    if (name.startsWith(tmpPrefix) && name.endsWith('.partial')) await fs.rm(path.join(dir, name), { force: true });
  }
  return {
    finalPath: path.join(dir, finalName),
    tmpPath: path.join(dir, `${tmpPrefix}${randomBytes(6).toString('hex')}.partial`),
  };
}

/** Makes the temp file durable, then atomically puts it under the final name (replacing an earlier copy). */
export async function commitBackupFile(file: BackupFile): Promise<void> {
  const handle = await fs.open(file.tmpPath, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(file.tmpPath, file.finalPath);
  const dir = await fs.open(path.dirname(file.finalPath), 'r');
  try {
    await dir.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await dir.close();
  }
}

export async function discardTemp(file: BackupFile): Promise<void> {
  await fs.rm(file.tmpPath, { force: true });
}

export async function hashFile(file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    sizeBytes += chunk.length;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

export async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const MAX_OUTPUT = 1_000_000;

/**
 * Runs a program without a shell. Heartbeats every `heartbeatIntervalMs` while it runs; on cancellation it
 * sends SIGTERM (SIGKILL after a grace period) and rejects with the cancellation once the process is gone.
 */
export function runTool(
  rt: ActivityRuntime,
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; heartbeatIntervalMs: number; progress?: () => Promise<unknown> | unknown; killGraceMs?: number },
): Promise<ToolResult> {
  throwIfCancelled(rt.signal);
  return new Promise<ToolResult>((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-MAX_OUTPUT);
    });
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      cancelled = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 5_000);
    };
    rt.signal.addEventListener('abort', onAbort, { once: true });
    const beat = async () => {
      try {
        rt.heartbeat(opts.progress ? await opts.progress() : undefined);
      } catch {
        // A heartbeat is best effort; the next one will try again.
      }
    };
    const ticker = setInterval(() => void beat(), opts.heartbeatIntervalMs);
    const cleanup = () => {
      clearInterval(ticker);
      clearTimeout(killTimer);
      rt.signal.removeEventListener('abort', onAbort);
    };
    child.once('error', (err) => {
      cleanup();
      const code = (err as NodeJS.ErrnoException).code;
      reject(code === 'ENOENT' ? nonRetryable(`${path.basename(command)} was not found (${command})`, FAILURE.backupToolMissing) : err);
    });
    child.once('close', (code, signal) => {
      cleanup();
      if (cancelled) reject(cancellationOf(rt.signal));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last few meaningful lines of a tool's stderr, for an error message. */
export function lastLines(text: string, lines = 3): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ')
    .slice(0, 600);
}
