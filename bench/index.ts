// `npm run bench`: Fireline against a bare Temporal baseline, measured on one dev server in one run.
// Figures are ratios because absolute latency says more about the machine than about Fireline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { resolveTemporalCli } from '../src/temporal/cli-binary';
import { findFreePort, startDevServer } from '../src/temporal/dev-server';
import { benchDeclareLatency } from './declare-latency';
import { benchReadModel } from './read-model';
import { benchIngest } from './ingest';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const runs = Number(process.env.BENCH_RUNS ?? 60);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-bench-'));
  const cli = await resolveTemporalCli({ env: { cliPath: process.env.TEMPORAL_CLI_PATH, path: process.env.PATH }, log });
  // Same shape as `npm start`: a dev server persisting to SQLite.
  const server = await startDevServer({ cli, port: await findFreePort(), uiPort: false, dbFile: path.join(dataDir, 'temporal.db'), log });
  try {
    const out = (title: string, lines: string[]) => process.stdout.write(`\n${title}\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    const declare = await benchDeclareLatency({ address: server.address, dataDir, runs, warmup: 5 });
    out('Declare latency', declare.lines);
    const readModel = await benchReadModel({ address: server.address, dataDir, samples: Number(process.env.BENCH_READ_SAMPLES ?? 300) });
    out('Read model at 10,000 incidents (API routes vs DescribeWorkflowExecution)', readModel.lines);
    const ingest = await benchIngest({ address: server.address, dataDir, count: Number(process.env.BENCH_ALERTS ?? 1000) });
    out('Alert ingestion (202 only after durable acceptance)', ingest.lines);
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
