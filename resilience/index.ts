// `npm run resilience [-- --short] [--seed N] [--only <scenario>]`: faults injected at random points against the
// real stack (Temporal dev server, `fireline worker` children, SMTP, fake Slack, webhook receivers), one table
// of figures, exit code 1 when a target is missed. Not part of `npm test`; `.ci/run` runs the short version.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { resolveTemporalCli } from '../src/temporal/cli-binary';
import { findFreePort, startDevServer } from '../src/temporal/dev-server';
import { WORKFLOWS_PATH } from '../src/temporal/worker';
import { killAllTracked } from '../tests/support/processes';
import { prng } from '../tests/support/prng';
import { connectClient } from '../tests/support/temporal';
import { formatTable, streamSeed } from './common';
import type { Row, RunContext, Scenario } from './common';
import { races } from './races';
import { replayGate } from './replay';
import { workerKill } from './worker-kill';

/** In priority order; the replay gate runs last, over every history the others produced. */
const SCENARIOS: Scenario[] = [workerKill, races];

interface Args {
  short: boolean;
  seed: number;
  only: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { short: false, seed: Math.floor(Math.random() * 2 ** 31), only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--short') args.short = true;
    else if (a === '--seed') args.seed = Number(argv[++i]);
    else if (a === '--only') args.only = argv[++i];
    else throw new Error(`unknown argument ${a}; usage: npm run resilience -- [--short] [--seed N] [--only <scenario>]`);
  }
  if (!Number.isInteger(args.seed)) throw new Error('--seed needs an integer');
  const names = [...SCENARIOS.map((s) => s.name), replayGate.name];
  if (args.only !== undefined && !names.includes(args.only))
    throw new Error(`--only: no scenario "${args.only}"; one of ${names.join(', ')}`);
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const began = Date.now();
  const log = (m: string) => process.stderr.write(`${m}\n`);
  // Core warns about tasks of workflows terminated between runs; only its errors say something.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  log(`resilience: ${args.short ? 'short' : 'full'} run, seed ${args.seed}${args.only ? `, only ${args.only}` : ''}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-resilience-'));
  const cli = await resolveTemporalCli({
    env: { cliPath: process.env.TEMPORAL_CLI_PATH, path: process.env.PATH },
    log,
    allowDownload: false,
  });
  const server = await startDevServer({ cli, port: await findFreePort(), uiPort: false, log });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  fs.writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet })).code);
  // tests/support/temporal.ts reads these (connectClient, startTestWorker).
  process.env.FIRELINE_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.FIRELINE_TEST_BUNDLE = bundlePath;
  process.env.FIRELINE_TEST_TEMPORAL_CLI = cli.kind === 'path' ? cli.path : '';
  const { client, connection } = await connectClient();
  const ctx: RunContext = {
    short: args.short,
    seed: args.seed,
    address: server.address,
    client,
    connection,
    bundlePath,
    random: (stream) => prng(streamSeed(args.seed, stream)),
    log,
    histories: [],
  };

  const rows: Row[] = [];
  try {
    for (const scenario of SCENARIOS) {
      if (args.only && args.only !== scenario.name && args.only !== replayGate.name) continue;
      if (args.only === replayGate.name) continue;
      const t0 = Date.now();
      log(`\n== ${scenario.name}`);
      try {
        rows.push(...(await scenario.run(ctx)));
      } catch (err) {
        log(String(err instanceof Error ? err.stack : err));
        rows.push({ scenario: scenario.name, runs: 0, figure: 'scenario ran', target: 'yes', ok: false, value: 'crashed' });
      }
      log(`== ${scenario.name}: ${Math.round((Date.now() - t0) / 1000)} s`);
    }
    log(`\n== ${replayGate.name}`);
    rows.push(...(await replayGate.run(ctx)));
  } finally {
    await killAllTracked();
    await connection.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const missed = rows.filter((r) => r.ok === false);
  process.stdout.write(`\nFireline resilience (${args.short ? 'short' : 'full'}, seed ${args.seed})\n\n${formatTable(rows)}\n`);
  process.stdout.write(
    `\nwall time ${Math.round((Date.now() - began) / 1000)} s; ${missed.length === 0 ? 'every target met' : `${missed.length} target(s) MISSED`}\n`,
  );
  return missed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
    process.exit(2);
  },
);
