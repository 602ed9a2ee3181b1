import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testTemporal } from '../support/temporal';

const DIR = path.join(__dirname, 'histories');
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

function load(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
}

function replay(history: unknown, workflowId: string) {
  return Worker.runReplayHistory({ workflowBundle: { codePath: testTemporal().bundlePath } }, historyFromJSON(history), workflowId);
}

test('the corpus is there', () => {
  expect(files.length).toBeGreaterThanOrEqual(3);
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  await expect(replay(load(file), file)).resolves.toBeUndefined();
});

test('a history whose runbook differs from the code path is caught as nondeterministic', async () => {
  // Drop the first detect step from the recorded input: the replayed commands then differ from history.
  const history = load(files[0]!) as {
    events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } } }[];
  };
  const started = history.events[0]!.workflowExecutionStartedEventAttributes!;
  const payload = started.input.payloads[0]!;
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as {
    snapshot: { runbook: { phases: { detect: unknown[] } } };
  };
  input.snapshot.runbook.phases.detect = [];
  payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
  const error = await replay(history, 'broken').then(
    () => undefined,
    (err: Error) => err,
  );
  expect(error?.name).toBe('DeterminismViolationError');
});
