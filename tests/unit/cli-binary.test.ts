import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  isGoVersionAtLeast,
  parseGoVersion,
  resolveTemporalCli,
  TemporalCliNotFoundError,
  type ResolveTemporalCliOptions,
} from '../../src/temporal/cli-binary';

let root: string;
const logs: string[] = [];
const log = (msg: string): void => void logs.push(msg);

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'fireline-cli-'));
  logs.length = 0;
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function fakeExecutable(file: string, mode = 0o755): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, '#!/bin/sh\nexit 0\n', { mode });
  await fs.chmod(file, mode);
  return file;
}

/** A `go` stand-in: reports go1.26.0 and, for `install`, writes $GOBIN/temporal after a pause, or fails. */
async function fakeGo(mode: 'ok' | 'fail'): Promise<string> {
  const bin = path.join(root, 'fakego');
  const calls = path.join(root, 'go-calls');
  const install =
    mode === 'ok'
      ? `echo "github.com/temporalio/cli/temporalcli" >&2; sleep 0.5; printf '#!/bin/sh\\n' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal"`
      : `sleep 0.2; echo "go: proxy.golang.org: no such host" >&2; printf 'half' > "$GOBIN/temporal"; exit 1`;
  const script = [
    '#!/bin/sh',
    'if [ "$1" = version ]; then echo "go version go1.26.0 linux/amd64"; exit 0; fi',
    `echo "$* CGO_ENABLED=$CGO_ENABLED" >> '${calls}'`,
    install,
  ].join('\n');
  await fakeExecutable(path.join(bin, 'go'));
  await fs.writeFile(path.join(bin, 'go'), `${script}\n`);
  return bin;
}

/** No network, no real `go`: only the temp dirs the test made. */
function options(overrides: Partial<ResolveTemporalCliOptions> = {}): ResolveTemporalCliOptions {
  return {
    env: { path: path.join(root, 'empty-bin') },
    cacheDir: path.join(root, 'cache'),
    log,
    allowBuild: false,
    allowDownload: false,
    ...overrides,
  };
}

describe('resolveTemporalCli', () => {
  it('uses TEMPORAL_CLI_PATH first, even when PATH and the cache also have one', async () => {
    const explicit = await fakeExecutable(path.join(root, 'explicit', 'temporal'));
    await fakeExecutable(path.join(root, 'bin', 'temporal'));
    await fakeExecutable(path.join(root, 'cache', '1.5.1', 'temporal'));
    const cli = await resolveTemporalCli(options({ env: { cliPath: explicit, path: path.join(root, 'bin') } }));
    expect(cli).toEqual({ kind: 'path', path: explicit, source: 'TEMPORAL_CLI_PATH' });
  });

  it('names TEMPORAL_CLI_PATH when it points at nothing', async () => {
    const missing = path.join(root, 'nope', 'temporal');
    await expect(resolveTemporalCli(options({ env: { cliPath: missing } }))).rejects.toThrow(
      /TEMPORAL_CLI_PATH=.*nope\/temporal: no such file/,
    );
  });

  it('names TEMPORAL_CLI_PATH when the file is not executable', async () => {
    const plain = await fakeExecutable(path.join(root, 'plain', 'temporal'), 0o644);
    await expect(resolveTemporalCli(options({ env: { cliPath: plain } }))).rejects.toThrow(/TEMPORAL_CLI_PATH=.*not executable/);
  });

  it('finds `temporal` on PATH, skipping dirs without an executable one', async () => {
    await fakeExecutable(path.join(root, 'first', 'temporal'), 0o644);
    const second = await fakeExecutable(path.join(root, 'second', 'temporal'));
    const searchPath = ['', path.join(root, 'missing'), path.join(root, 'first'), path.join(root, 'second')].join(path.delimiter);
    const cli = await resolveTemporalCli(options({ env: { path: searchPath } }));
    expect(cli).toEqual({ kind: 'path', path: second, source: 'PATH' });
  });

  it('uses the cached build for the requested version', async () => {
    await fakeExecutable(path.join(root, 'cache', '1.4.0', 'temporal'));
    const cached = await fakeExecutable(path.join(root, 'cache', '1.5.1', 'temporal'));
    await expect(resolveTemporalCli(options())).resolves.toEqual({ kind: 'path', path: cached, source: 'cache' });
  });

  it('falls back to the SDK download when allowed', async () => {
    await expect(resolveTemporalCli(options({ allowDownload: true }))).resolves.toEqual({ kind: 'sdk-download' });
  });

  it('tells what to install when nothing may be built or downloaded', async () => {
    const error = await resolveTemporalCli(options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporalCliNotFoundError);
    const message = (error as Error).message;
    expect(message).toContain('Go >= 1.25');
    expect(message).toContain(
      `CGO_ENABLED=0 GOBIN=${path.join(root, 'cache', '1.5.1')} go install github.com/temporalio/cli/cmd/temporal@v1.5.1`,
    );
    expect(message).toContain('TEMPORAL_CLI_PATH');
  });

  it('skips a Go that is too old and says so', async () => {
    const bin = path.join(root, 'oldgo');
    await fs.mkdir(bin, { recursive: true });
    await fs.writeFile(path.join(bin, 'go'), '#!/bin/sh\necho "go version go1.22.5 linux/amd64"\n', { mode: 0o755 });
    const error = await resolveTemporalCli(options({ env: { path: bin }, allowBuild: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporalCliNotFoundError);
    expect((error as Error).message).toMatch(/go1\.22\.5.*older than go1\.25/);
    await expect(fs.readdir(path.join(root, 'cache')).catch(() => [])).resolves.toEqual([]);
  });

  it('builds once with a stand-in `go` when two processes ask at the same time', async () => {
    const bin = await fakeGo('ok');
    const [a, b] = await Promise.all([
      resolveTemporalCli(options({ env: { path: bin }, allowBuild: true })),
      resolveTemporalCli(options({ env: { path: bin }, allowBuild: true })),
    ]);
    const target = path.join(root, 'cache', '1.5.1', 'temporal');
    expect(a).toEqual({ kind: 'path', path: target, source: 'go-build' });
    expect(b.kind === 'path' && b.path).toBe(target);
    expect((await fs.readFile(path.join(root, 'go-calls'), 'utf8')).trim().split('\n')).toEqual([
      'install -v github.com/temporalio/cli/cmd/temporal@v1.5.1 CGO_ENABLED=0',
    ]);
    expect(await fs.readdir(path.join(root, 'cache', '1.5.1'))).toEqual(['temporal']);
    expect(logs.some((l) => l.includes('go install'))).toBe(true);
  });

  it('takes over the lock and leftovers of a build that was killed', async () => {
    const bin = await fakeGo('ok');
    const dir = path.join(root, 'cache', '1.5.1');
    await fs.mkdir(path.join(dir, '.gobin-killed'), { recursive: true });
    await fs.writeFile(path.join(dir, '.gobin-killed', 'temporal'), 'half');
    await fs.writeFile(path.join(dir, '.build.lock'), '999999999\n');
    const cli = await resolveTemporalCli(options({ env: { path: bin }, allowBuild: true }));
    expect(cli).toEqual({ kind: 'path', path: path.join(dir, 'temporal'), source: 'go-build' });
    expect(await fs.readdir(dir)).toEqual(['temporal']);
  });

  it('leaves no binary behind when the build fails, and reports why', async () => {
    const bin = await fakeGo('fail');
    const error = await resolveTemporalCli(options({ env: { path: bin }, allowBuild: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporalCliNotFoundError);
    expect((error as Error).message).toContain('proxy.golang.org: no such host');
    expect(await fs.readdir(path.join(root, 'cache', '1.5.1'))).toEqual([]);
  });

  it('rejects a version that is not x.y.z', async () => {
    await expect(resolveTemporalCli(options({ version: 'latest; rm -rf /' }))).rejects.toThrow(/must look like 1\.5\.1/);
  });
});

describe('parseGoVersion', () => {
  it.each([
    ['go version go1.26.8 linux/amd64', { major: 1, minor: 26, patch: 8 }],
    ['go version go1.25 darwin/arm64', { major: 1, minor: 25, patch: 0 }],
    ['go version go1.25rc1 linux/amd64', { major: 1, minor: 25, patch: 0 }],
    ['go version devel go1.27-abcdef Tue Jan 1 linux/amd64', { major: 1, minor: 27, patch: 0 }],
    ['go version go1.24.4 linux/amd64', { major: 1, minor: 24, patch: 4 }],
  ])('reads %s', (output, expected) => {
    expect(parseGoVersion(output)).toEqual(expected);
  });

  it('returns null for unrelated output', () => {
    expect(parseGoVersion('command not found')).toBeNull();
    expect(parseGoVersion('')).toBeNull();
  });

  it('compares against go1.25', () => {
    expect(isGoVersionAtLeast({ major: 1, minor: 25, patch: 0 })).toBe(true);
    expect(isGoVersionAtLeast({ major: 1, minor: 26, patch: 8 })).toBe(true);
    expect(isGoVersionAtLeast({ major: 2, minor: 0, patch: 0 })).toBe(true);
    expect(isGoVersionAtLeast({ major: 1, minor: 24, patch: 99 })).toBe(false);
  });
});
