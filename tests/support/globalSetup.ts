import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { resolveTemporalCli } from '../../src/temporal/cli-binary';
import { findFreePort, startDevServer } from '../../src/temporal/dev-server';
import { WORKFLOWS_PATH } from '../../src/temporal/worker';

/**
 * One real Temporal dev server for the whole run (each test uses its own task queue), and one workflow
 * bundle written to disk so workers start without bundling again.
 */
export default async function globalSetup(): Promise<void> {
  const log = (m: string) => process.stderr.write(`[temporal] ${m}\n`);
  const cli = await resolveTemporalCli({
    env: { cliPath: process.env.TEMPORAL_CLI_PATH, path: process.env.PATH },
    log,
    allowDownload: false,
  });
  const port = await findFreePort();
  const server = await startDevServer({ cli, port, uiPort: false, log });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-test-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  fs.writeFileSync(bundlePath, code);
  process.env.FIRELINE_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.FIRELINE_TEST_TEMPORAL_CLI = cli.kind === 'path' ? cli.path : '';
  process.env.FIRELINE_TEST_BUNDLE = bundlePath;
  process.env.FIRELINE_TEST_TMP = dir;
  (globalThis as { __firelineDevServer?: { stop(): Promise<void> } }).__firelineDevServer = server;
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
