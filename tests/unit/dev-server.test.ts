import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { resolveTemporalCli, type TemporalCli } from '../../src/temporal/cli-binary';
import { devServerArgs, findFreePort, startDevServer, type DevServer } from '../../src/temporal/dev-server';

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
let cli: TemporalCli;
let root: string;
const running: DevServer[] = [];

beforeAll(async () => {
  // Builds the CLI once per machine when it is missing (minutes); never the SDK download, which needs internet.
  cli = await resolveTemporalCli({
    env: { cliPath: process.env.TEMPORAL_CLI_PATH, path: process.env.PATH },
    log,
    allowBuild: true,
    allowDownload: false,
  });
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'fireline-devserver-'));
}, 20 * 60_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function start(options: { port: number; dbFile?: string; uiPort?: number | false }): Promise<DevServer> {
  const server = await startDevServer({ cli, log, uiPort: false, ...options });
  running.push(server);
  return server;
}

async function withClient<T>(address: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

describe('devServerArgs', () => {
  it('builds the verified start-dev command line', () => {
    expect(devServerArgs({ cli, log, port: 7300, uiPort: false, dbFile: '/d/t.db' }).join(' ')).toBe(
      'server start-dev --ip 127.0.0.1 --port 7300 --namespace default --log-format pretty --log-level warn ' +
        '--dynamic-config-value frontend.enableUpdateWorkflowExecution=true ' +
        '--dynamic-config-value frontend.enableUpdateWorkflowExecutionAsyncAccepted=true ' +
        '--dynamic-config-value frontend.enableExecuteMultiOperation=true --headless ' +
        '--db-filename /d/t.db --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=NORMAL',
    );
    expect(devServerArgs({ cli, log, port: 7300 })).toEqual(expect.arrayContaining(['--ui-port', '8300']));
  });
  it('points the Web UI at a codec server, and not when headless', () => {
    const endpoint = 'http://localhost:3000/codec';
    expect(devServerArgs({ cli, log, port: 7300, uiCodecEndpoint: endpoint }).join(' ')).toContain(`--ui-codec-endpoint ${endpoint}`);
    expect(devServerArgs({ cli, log, port: 7300, uiPort: false, uiCodecEndpoint: endpoint })).not.toContain('--ui-codec-endpoint');
  });
});

describe('startDevServer', () => {
  it('keeps workflows across a restart on the same database file', async () => {
    const port = await findFreePort();
    const dbFile = path.join(root, 'nested', 'dir', 'temporal.db');

    const first = await start({ port, dbFile });
    expect(first.address).toBe(`127.0.0.1:${port}`);
    expect(first.uiUrl).toBeNull();
    await withClient(first.address, async (client) => {
      const info = await client.connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      await client.workflow.start('anyType', { taskQueue: 'nobody-polls', workflowId: 'persist-check', args: [] });
    });
    await first.stop();
    await first.stop();

    const second = await start({ port, dbFile });
    const description = await withClient(second.address, (client) => client.workflow.getHandle('persist-check').describe());
    expect(description.status.name).toBe('RUNNING');
  });

  it('serves the web UI when asked', async () => {
    const port = await findFreePort();
    const uiPort = await findFreePort();
    const server = await start({ port, uiPort });
    expect(server.uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
    const response = await fetch(server.uiUrl ?? '');
    expect(response.status).toBe(200);
  });

  it('says clearly when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await expect(start({ port })).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('reports the CLI output and exit code when the server dies during start-up', async () => {
    const dbFile = path.join(root, 'not-a-db');
    await fs.mkdir(dbFile, { recursive: true });
    const error = await start({ port: await findFreePort(), dbFile }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/exited early \(exit code \d+\)/);
    expect((error as Error).message).toContain('last output:');
  });
});
