// The ingestion bench's load, in its own process so generating it does not share the event loop with what it
// measures: `count` Alertmanager messages posted round-robin to the replicas' receivers, or (the baseline) as
// many bare signalWithStart calls, `concurrency` in flight. Prints {"perSecond": …, "count": …, "seconds": …}.
// Usage: node bin/run-ts.cjs bench/alert-load.ts '<LoadConfig as JSON>'
import { Client, Connection } from '@temporalio/client';
import { buildAlertmanagerMessage } from '../src/ingest/alertmanager';

export type LoadConfig = {
  count: number;
  concurrency: number;
  /** Alerts go to this many groups (incidents) round-robin; null: every alert its own group. */
  groups: number | null;
  /** Makes group names and workflow ids unique to one phase of one run. */
  prefix: string;
} & ({ mode: 'http'; urls: string[]; token: string } | { mode: 'signal'; address: string; taskQueue: string });

/** Runs `count` calls of `fn` with `concurrency` in flight; returns the seconds it took. */
async function drive(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await fn(i);
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function main() {
  const config = JSON.parse(process.argv[2] ?? '') as LoadConfig;
  const group = (i: number) => `${config.prefix}x${config.groups === null ? i : i % config.groups}`;
  let seconds: number;
  if (config.mode === 'http') {
    const { urls, token } = config;
    seconds = await drive(config.count, config.concurrency, async (i) => {
      const body = buildAlertmanagerMessage({
        groupLabels: { alertname: group(i) },
        alerts: [
          {
            labels: { alertname: group(i), instance: `i-${config.groups === null ? 0 : i % 10}` },
            startsAt: '2026-11-25T10:00:00Z',
            annotations: { summary: `bench ${group(i)}` },
          },
        ],
      });
      const res = await fetch(urls[i % urls.length]!, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`receiver ${urls[i % urls.length]} answered ${res.status}`);
    });
  } else {
    const connection = await Connection.connect({ address: config.address });
    // The bare baseline: no codec (see bench/codec.ts).
    const client = new Client({ connection });
    const { taskQueue } = config;
    seconds = await drive(config.count, config.concurrency, async (i) => {
      await client.workflow.signalWithStart('bareSignalWorkflow', {
        workflowId: `bare-${group(i)}`,
        taskQueue,
        signal: 'alerts',
        signalArgs: [{ alerts: [{ fingerprint: `f${i}` }] }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    });
    await connection.close();
  }
  process.stdout.write(`${JSON.stringify({ count: config.count, seconds, perSecond: config.count / seconds })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
