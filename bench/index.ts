// `npm run bench`: Fireline against a bare Temporal baseline, measured on one dev server in one run.
// Figures are ratios because absolute latency says more about the machine than about Fireline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { resolveTemporalCli } from '../src/temporal/cli-binary';
import { findFreePort, startDevServer } from '../src/temporal/dev-server';
import { benchDeclareLatency } from './declare-latency';
import { findPostgresBinDir, startPostgres } from '../tests/support/postgres';
import type { TestPostgres } from '../tests/support/postgres';
import { createPostgresDatabase } from './engines';
import type { Engine } from './engines';
import { benchIngest } from './ingest';
import type { IngestVariant } from './ingest';
import { benchReadModel, readModelLines } from './read-model';
import type { ReadModelResult } from './read-model';

async function main() {
  // Core warns about tasks of workflows the benches terminate between phases; only its errors say something.
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  const runs = Number(process.env.BENCH_RUNS ?? 60);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-bench-'));
  const cli = await resolveTemporalCli({ env: { cliPath: process.env.TEMPORAL_CLI_PATH, path: process.env.PATH }, log });
  // Same shape as `npm start`: a dev server persisting to SQLite.
  const server = await startDevServer({ cli, port: await findFreePort(), uiPort: false, dbFile: path.join(dataDir, 'temporal.db'), log });
  // A throwaway cluster, as the tests start one, for the PostgreSQL columns.
  const postgres: TestPostgres | undefined = findPostgresBinDir() ? await startPostgres() : undefined;
  const skipped = postgres ? [] : ['PostgreSQL: skipped (not installed)'];
  try {
    const out = (title: string, lines: string[]) => process.stdout.write(`\n${title}\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    const declare = await benchDeclareLatency({ address: server.address, dataDir, runs, warmup: 5 });
    out('Declare latency', declare.lines);

    const samples = Number(process.env.BENCH_READ_SAMPLES ?? 300);
    const readEngines: Engine[] = [{ kind: 'sqlite', file: path.join(dataDir, 'read-model.db') }];
    if (postgres) readEngines.push(await createPostgresDatabase(postgres.url, 'bench_read_model'));
    const readModel: ReadModelResult[] = [];
    for (const engine of readEngines) readModel.push(await benchReadModel({ address: server.address, engine, samples }));
    out('Read model (API routes vs DescribeWorkflowExecution)', readModelLines(readModel, skipped));

    const variants: IngestVariant[] = [{ engine: { kind: 'sqlite', file: path.join(dataDir, 'ingest.db') }, replicas: 1 }];
    if (postgres)
      for (const replicas of [1, 2])
        variants.push({ engine: await createPostgresDatabase(postgres.url, `bench_ingest_${replicas}`), replicas });
    const ingest = await benchIngest({ address: server.address, count: Number(process.env.BENCH_ALERTS ?? 1000), variants });
    out('Alert ingestion (202 only after durable acceptance)', [...skipped, ...ingest.lines]);
  } finally {
    await postgres?.stop();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
