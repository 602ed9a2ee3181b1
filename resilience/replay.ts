// Scenario 8: every history the other scenarios produced replays against the current workflow bundle, through
// Fireline's payload codec as production replays (0 nondeterminism).
import { Worker } from '@temporalio/worker';
import { testDataConverter } from '../tests/support/keys';
import type { Row, RunContext, Scenario } from './common';

export const replayGate: Scenario = {
  name: 'replay',
  async run(ctx: RunContext): Promise<Row[]> {
    const histories = ctx.histories;
    let failures = 0;
    const replayed = Worker.runReplayHistories(
      { workflowBundle: { codePath: ctx.bundlePath }, dataConverter: testDataConverter(), replayName: 'resilience' },
      histories,
    );
    for await (const result of replayed) {
      if (result.error) {
        failures++;
        ctx.log(`  ${result.workflowId}: ${result.error.message}`);
      }
    }
    const ok = histories.length > 0 && failures === 0;
    return [
      {
        scenario: 'replay gate',
        runs: histories.length,
        figure: 'histories not replaying',
        target: '0',
        ok: histories.length === 0 ? false : ok,
        value: histories.length === 0 ? 'no histories' : String(failures),
      },
    ];
  },
};
