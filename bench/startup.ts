// `npm run bench:startup`: what a user waits for and what the machine pays for `fireline start` — the time from
// spawning `node bin/fireline.cjs start` to GET /healthz answering 200, and the resident memory of the whole
// process tree (Node and the Temporal dev server) once it has idled. `--root <dir>` measures another checkout
// (e.g. an older commit unpacked beside this one) with the same procedure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  childEnv,
  findFreePort,
  findFreePortWithOffset,
  killHard,
  spawnProcess,
  waitForExit,
  waitForHttp,
} from '../tests/support/processes';

interface Sample {
  startMs: number;
  nodeRssMb: number;
  totalRssMb: number;
  processes: string[];
}

/** Pids of `pid` and all its descendants, from /proc (Linux only). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // The command name may contain spaces and parentheses; the parent pid is the second field after its closing ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

function rssMb(pid: number): { name: string; mb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
  return { name, mb: kb / 1024 };
}

async function measureOnce(root: string, idleMs: number, run: number): Promise<Sample> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fireline-bench-startup-'));
  const port = await findFreePort();
  const devPort = await findFreePortWithOffset(1000);
  const started = performance.now();
  const proc = spawnProcess(`fireline-start-${run}`, process.execPath, [path.join(root, 'bin', 'fireline.cjs'), 'start'], {
    cwd: root,
    env: childEnv({
      FIRELINE_DATA_DIR: dataDir,
      FIRELINE_PORT: String(port),
      TEMPORAL_DEV_PORT: String(devPort),
      FIRELINE_LOG_LEVEL: 'warn',
      FIRELINE_ADMIN_TOKEN: 'bench-startup-admin-token-0123456789',
    }),
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, { process: proc, timeoutMs: 180_000 });
    const startMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, idleMs));
    const tree = processTree(proc.pid).map((pid) => ({ pid, ...rssMb(pid) }));
    proc.kill('SIGTERM');
    await waitForExit(proc, 30_000);
    return {
      startMs,
      nodeRssMb: tree[0]!.mb,
      totalRssMb: tree.reduce((sum, p) => sum + p.mb, 0),
      processes: tree.map((p) => `${p.name}(${p.pid}) ${p.mb.toFixed(0)} MB`),
    };
  } finally {
    await killHard(proc).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const { values } = parseArgs({ options: { root: { type: 'string' }, runs: { type: 'string' }, 'idle-ms': { type: 'string' } } });
  const root = path.resolve(values.root ?? path.join(__dirname, '..'));
  const runs = Number(values.runs ?? 3);
  const idleMs = Number(values['idle-ms'] ?? 20_000);
  const samples: Sample[] = [];
  for (let run = 1; run <= runs; run++) {
    const s = await measureOnce(root, idleMs, run);
    samples.push(s);
    process.stdout.write(
      `run ${run}: healthy after ${(s.startMs / 1000).toFixed(2)} s; idle RSS total ${s.totalRssMb.toFixed(0)} MB, node ${s.nodeRssMb.toFixed(0)} MB  [${s.processes.join(', ')}]\n`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(
    `median of ${runs} (${root}): start ${(median(samples.map((s) => s.startMs)) / 1000).toFixed(2)} s, ` +
      `idle RSS total ${median(samples.map((s) => s.totalRssMb)).toFixed(0)} MB, node ${median(samples.map((s) => s.nodeRssMb)).toFixed(0)} MB\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
