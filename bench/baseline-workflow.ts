// The bare-Temporal baseline: start a workflow that runs one no-op activity. Bundled on its own.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10s' });

export async function bareWorkflow(): Promise<void> {
  await noop();
}

/** The bare-Temporal baseline for ingestion: a workflow that takes signals and does nothing with them. */
export async function bareSignalWorkflow(): Promise<void> {
  const alerts = defineSignal<[unknown]>('alerts');
  let received = 0;
  setHandler(alerts, () => {
    received += 1;
  });
  await condition(() => received < 0);
}
