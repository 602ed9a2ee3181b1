import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { FAILURE } from '../../src/domain/failure-types';
import type { BackupProviderConfig } from '../../src/domain/targets';
import { cancellationOf, nonRetryable, throwIfCancelled } from '../shared/activity';
import { commitBackupFile, discardTemp, hashFile, prepareBackupFile } from './common';
import type { ProviderContext, ProviderOutcome } from './types';

type SqliteBackupConfig = Extract<BackupProviderConfig, { provider: 'sqlite' }>;

const PAGES_PER_STEP = 1024;
const COUNT_TABLES = "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

/**
 * SQLite's online backup API: a consistent copy of a live database, page by page, without blocking writers
 * for long. The copy is switched to a rollback journal so it is one self-contained file.
 */
export async function sqliteBackup(config: SqliteBackupConfig, ctx: ProviderContext): Promise<ProviderOutcome> {
  const { rt, req } = ctx;
  // Errors name the configured path (e.g. `${ORDERS_DB}`), never the resolved one.
  const sourcePath = ctx.resolve(config.path);
  let source: Database.Database;
  try {
    source = new Database(sourcePath, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw nonRetryable(
      `cannot open the SQLite database of target "${req.target}" (${config.path}): ${(err as Error).message}`,
      FAILURE.backupSourceUnavailable,
    );
  }
  const file = await prepareBackupFile(ctx.backupDir, req.incidentId, req.stepId, 'sqlite');
  let sourceTables: number;
  try {
    sourceTables = (source.prepare(COUNT_TABLES).get() as { n: number }).n;
    await source.backup(file.tmpPath, {
      progress: ({ totalPages, remainingPages }) => {
        throwIfCancelled(rt.signal);
        rt.heartbeat({ phase: 'copy', totalPages, remainingPages });
        return PAGES_PER_STEP;
      },
    });
    const copy = new Database(file.tmpPath, { fileMustExist: true });
    try {
      // A WAL source yields a WAL-mode copy; opening that later would create -wal/-shm files beside it.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    throwIfCancelled(rt.signal);
    const { sha256, sizeBytes } = await hashFile(file.tmpPath);
    await commitBackupFile(file);
    const restoreCheck = req.restoreCheck ? await checkSqliteCopy(file.finalPath, sourceTables, ctx) : null;
    return { location: file.finalPath, sizeBytes, sha256, restoreCheck };
  } catch (err) {
    await discardTemp(file);
    throw err;
  } finally {
    source.close();
  }
}

// Runs in a worker thread: integrity_check reads every page synchronously, and a long one on the main thread
// would stop heartbeats and let the server time the activity out.
const CHECK_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  const problems = db.pragma('integrity_check').map((row) => row.integrity_check);
  const tables = db.prepare(workerData.countTables).get().n;
  parentPort.postMessage({ problems, tables });
} catch (err) {
  parentPort.postMessage({ error: String(err && err.message || err) });
} finally {
  if (db) db.close();
}
`;

type CheckAnswer = { problems: string[]; tables: number } | { error: string };

async function checkSqliteCopy(file: string, sourceTables: number, ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const { rt } = ctx;
  throwIfCancelled(rt.signal);
  const worker = new Worker(CHECK_SOURCE, {
    eval: true,
    workerData: { file, module: require.resolve('better-sqlite3'), countTables: COUNT_TABLES },
  });
  const ticker = setInterval(() => rt.heartbeat({ phase: 'restore-check' }), ctx.heartbeatIntervalMs);
  let onAbort: (() => void) | undefined;
  try {
    const answer = await new Promise<CheckAnswer>((resolve, reject) => {
      onAbort = () => reject(cancellationOf(rt.signal));
      rt.signal.addEventListener('abort', onAbort, { once: true });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the SQLite check thread exited with code ${code}`)));
    });
    if ('error' in answer) return { ok: false, detail: `could not open the copy read-only: ${answer.error}` };
    const problems = answer.problems.filter((p) => p !== 'ok');
    if (answer.problems.length === 0 || problems.length > 0) {
      return { ok: false, detail: `integrity_check: ${problems.slice(0, 3).join('; ') || 'no answer'}` };
    }
    if (sourceTables > 0 && answer.tables === 0)
      return { ok: false, detail: `integrity_check ok, but the copy has no tables (source had ${sourceTables})` };
    return { ok: true, detail: `integrity_check ok, ${answer.tables} ${answer.tables === 1 ? 'table' : 'tables'}` };
  } finally {
    clearInterval(ticker);
    if (onAbort) rt.signal.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
