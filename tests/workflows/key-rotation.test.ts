// Rotating the payload key while an incident runs: the incident starts under ring [A] and waits on a decision;
// the worker comes back with [B, A] (B seals from then on); the decision is answered; the incident completes. Its
// history then holds payloads of both keys, replays with [B, A], and a B payload is a clear error under [A] alone.
import { Worker } from '@temporalio/worker';
import { newKeyEntry, parseKeyRing } from '../../src/crypto/key-ring';
import type { Actor } from '../../src/domain/roles';
import type { Store } from '../../src/store/store';
import { EncryptionCodec, METADATA_KEY_ID, firelineDataConverter } from '../../src/temporal/codec';
import { incidentWorkflowId } from '../../src/temporal/ids';
import type { incidentWorkflow } from '../../workflows/incident';
import { decideUpdate, statusQuery } from '../../workflows/messages';
import { expectHistoryEncrypted, historyPayloads } from '../support/encrypted-history';
import { incidentInfo, recordOf, sixPhaseRunbook } from '../support/runbooks';
import { connectClient, eventually, openTestStore, startTestWorker, testTemporal, uniqueTaskQueue } from '../support/temporal';
import type { TestWorker } from '../support/temporal';

jest.setTimeout(120_000);

const commander: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
const entryA = newKeyEntry('ka');
const entryB = newKeyEntry('kb');
const ringA = parseKeyRing(entryA);
const ringBA = parseKeyRing(`${entryB},${entryA}`);

let store: Store;
const workers: TestWorker[] = [];
const connections: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => {
  for (const w of workers) await w.stop();
  for (const c of connections) await c.close();
  await store?.close();
});

async function clientFor(keys: typeof ringA) {
  const { client, connection } = await connectClient(keys);
  connections.push(connection);
  return client;
}

test('an incident outlives a key rotation, and its two-key history replays with the new ring', async () => {
  const taskQueue = uniqueTaskQueue('key-rotation');
  const clientA = await clientFor(ringA);
  const workerA = await startTestWorker({ taskQueue, store, keys: ringA });

  const snapshot = sixPhaseRunbook();
  const incident = incidentInfo({ title: 'Rotation: payment gateway timeouts' });
  await store.insertIncident(recordOf(incident, snapshot));
  const handleA = await clientA.workflow.start<typeof incidentWorkflow>('incidentWorkflow', {
    workflowId: incidentWorkflowId(incident.id),
    taskQueue,
    args: [{ incident, snapshot }],
  });
  await eventually(
    async () => ((await handleA.query(statusQuery)).openDecisions.some((d) => d.stepId === 'strategy') ? true : undefined),
    'the open decision',
  );

  // The rotation: the old worker stops; the new one (and every client) has B first and still opens A.
  await workerA.stop();
  const workerBA = await startTestWorker({ taskQueue, store, keys: ringBA });
  workers.push(workerBA);
  const clientBA = await clientFor(ringBA);
  const handle = clientBA.workflow.getHandle<typeof incidentWorkflow>(handleA.workflowId);
  const view = await handle.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'restore' }] });
  expect(view.decisions.strategy).toMatchObject({ option: 'restore' });
  const final = await handle.result();
  expect(final.status).toBe('closed');

  // Sealed throughout, by A before the rotation and by B after it.
  const sealed = await expectHistoryEncrypted(clientBA, handle.workflowId, ['Rotation: payment gateway']);
  expect(sealed.keyIds).toEqual(['ka', 'kb']);

  // The exported history replays with the new ring: the rotation changed no command.
  const history = await handle.fetchHistory();
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: { codePath: testTemporal().bundlePath }, dataConverter: firelineDataConverter(ringBA) },
      history,
      handle.workflowId,
    ),
  ).resolves.toBeUndefined();

  // A process still on [A] alone cannot open what B sealed, and says which key it lacks.
  const underB = historyPayloads(history).find(({ payload }) => Buffer.from(payload.metadata![METADATA_KEY_ID]!).toString() === 'kb');
  expect(underB).toBeDefined();
  await expect(new EncryptionCodec(ringA).decode([underB!.payload])).rejects.toThrow('no key "kb" in the key ring (keys: ka)');
  await expect(clientA.workflow.getHandle(handle.workflowId).result()).rejects.toThrow('no key "kb"');
});
