// The bare-Temporal baseline: start a workflow that runs one no-op activity. Bundled on its own.
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10s' });

export async function bareWorkflow(): Promise<void> {
  await noop();
}
