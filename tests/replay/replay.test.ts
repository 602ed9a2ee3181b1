import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testDataConverter } from '../support/keys';
import { testTemporal } from '../support/temporal';

const DIR = path.join(__dirname, 'histories');
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

function load(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
}

/** Through Fireline's codec, as production replays: the corpus is stored decoded, which the codec passes through. */
function replay(history: unknown, workflowId: string) {
  return Worker.runReplayHistory(
    { workflowBundle: { codePath: testTemporal().bundlePath }, dataConverter: testDataConverter() },
    historyFromJSON(history),
    workflowId,
  );
}

test('the corpus is there', () => {
  expect(files.length).toBeGreaterThanOrEqual(3);
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  await expect(replay(load(file), file)).resolves.toBeUndefined();
});

interface RecordedEvent {
  markerRecordedEventAttributes?: { markerName: string; details: Record<string, { payloads: Payload[] }> };
  workflowExecutionSignaledEventAttributes?: { signalName: string; input: { payloads: Payload[] } };
  workflowExecutionCompletedEventAttributes?: { result: { payloads: Payload[] } };
}
interface Payload {
  data: string;
}

function decode(payload: Payload): unknown {
  return JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
}

function events(file: string): RecordedEvent[] {
  return (load(file) as { events: RecordedEvent[] }).events;
}

/** The patch ids the recording run took the new branch of (core writes one marker per patched() that was true). */
function patchesOf(file: string): string[] {
  return events(file).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return [];
    return [(decode(marker.details['patch-data']!.payloads[0]!) as { id: string }).id];
  });
}

test('the corpus keeps both sides of declare-before-signals: histories from before it, and one opened by alerts after', () => {
  const before = files.filter((f) => /^v[12]-/.test(f));
  expect(before.length).toBeGreaterThan(0);
  for (const file of before) expect(patchesOf(file)).not.toContain('declare-before-signals');
  expect(patchesOf('v3-opened-by-alerts-repeat-batch.json')).toContain('declare-before-signals');
});

test('the alert-opened history has its first batch in the start, a batch sent again, and the repeat dropped', () => {
  const recorded = events('v3-opened-by-alerts-repeat-batch.json');
  // signalWithStart: the first batch is the event right after the start.
  expect(recorded[1]!.workflowExecutionSignaledEventAttributes?.signalName).toBe('alerts');
  const batches = recorded.flatMap((e) => {
    const signal = e.workflowExecutionSignaledEventAttributes;
    return signal ? [(decode(signal.input.payloads[0]!) as { batch?: number }).batch] : [];
  });
  expect(batches).toEqual([101, 102, 101, 103]);
  const completed = recorded.find((e) => e.workflowExecutionCompletedEventAttributes)!.workflowExecutionCompletedEventAttributes!;
  expect(decode(completed.result.payloads[0]!)).toMatchObject({
    status: 'closed',
    resolved: { by: { id: 'monitoring' } },
    alerts: { firing: 0, resolved: 2, received: 4 },
  });
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
