import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { FirelineActivities } from '../../activities';
import type { Actor } from '../../src/domain/roles';
import type { TimelineEvent } from '../../src/domain/timeline';
import { acknowledgeUpdate, addNoteUpdate, changeSeverityUpdate, decideUpdate, resolveUpdate, statusQuery } from '../../workflows/messages';
import { sixPhaseRunbook, snapshotOf } from '../support/runbooks';
import { eventually } from '../support/temporal';
import { useWorkflowHarness } from '../support/workflow-harness';
import type { IncidentHandle } from '../support/workflow-harness';

const commander: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
const responder: Actor = { id: 'u-responder', name: 'Linus', role: 'responder' };

// Each test starts its worker, some with wrapped activities.
const wf = useWorkflowHarness('incident', { worker: false });
const { start: declare, timeline: timelineOf } = wf;

async function waitForOpenDecision(handle: IncidentHandle, stepId: string) {
  await eventually(async () => {
    const view = await handle.query(statusQuery);
    return view.openDecisions.some((d) => d.stepId === stepId) ? true : undefined;
  }, `open decision ${stepId}`);
}

function expectEachEventOnce(events: TimelineEvent[]) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}

async function rejectionOf(promise: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause as { type?: string; message: string };
    return { type: cause.type, message: cause.message };
  }
  throw new Error('the update was not rejected');
}

test('walks all six phases with a decision taken by an update', async () => {
  await wf.startWorker();
  const handle = await declare(sixPhaseRunbook());
  const id = handle.workflowId.replace('incident/', '');
  await waitForOpenDecision(handle, 'strategy');

  const view = await handle.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'restore' }] });
  expect(view.decisions.strategy).toMatchObject({ option: 'restore', timedOut: false });

  const final = await handle.result();
  expect(final.status).toBe('closed');
  expect(final.resolved?.by.id).toBe('runbook');

  const events = await timelineOf(id);
  expectEachEventOnce(events);
  const entered = events.filter((e) => e.type === 'phase.entered').map((e) => e.phase);
  expect(entered).toEqual(['detect', 'report', 'decide', 'execute', 'recover', 'retrospective']);
  expect(events.find((e) => e.type === 'decision.taken')).toMatchObject({ actor: { id: commander.id }, data: { option: 'restore' } });
  expect(events.at(-1)?.type).toBe('incident.closed');

  const outbox = await wf.store.listOutbox({ incidentId: id, limit: 50 });
  expect(outbox.map((m) => m.id).sort()).toEqual(
    ['detected', 'report', 'execute-note', 'recovered', 'review'].map((s) => `${id}:${s}`).sort(),
  );
  expect(outbox.find((m) => m.id.endsWith(':execute-note'))?.body).toBe('Executing restore');
  // Slack is not configured here, so the Slack message went to the outbox and the timeline says so.
  expect(events.find((e) => e.type === 'notification.sent' && e.data.stepId === 'report')?.data).toMatchObject({
    via: 'outbox',
    requested: 'slack',
  });

  const row = await wf.store.getIncident(id);
  expect(row).toMatchObject({ status: 'closed', phase: 'closed' });
  expect(row?.resolvedAt).not.toBeNull();
});

test('a decision that times out takes the default', async () => {
  await wf.startWorker();
  const handle = await declare(sixPhaseRunbook({ decideTimeout: '1s' }));
  const final = await handle.result();
  expect(final.decisions.strategy).toMatchObject({ option: 'failover', timedOut: true });
  const events = await timelineOf(final.id);
  expect(events.filter((e) => e.type === 'decision.timed_out')).toHaveLength(1);
  expect(events.some((e) => e.type === 'decision.taken')).toBe(false);
  expectEachEventOnce(events);
});

test('rejects wrong option, wrong role, unknown step and a second decision without writing history', async () => {
  await wf.startWorker();
  const handle = await declare(sixPhaseRunbook({ autoResolve: false }));
  await waitForOpenDecision(handle, 'strategy');

  expect(
    await rejectionOf(handle.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'reboot' }] })),
  ).toMatchObject({ type: 'InvalidArgument', message: expect.stringContaining('not an option') });
  expect(
    await rejectionOf(handle.executeUpdate(decideUpdate, { args: [{ actor: responder, stepId: 'strategy', option: 'restore' }] })),
  ).toMatchObject({ type: 'Forbidden' });
  expect(
    await rejectionOf(handle.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'nope', option: 'restore' }] })),
  ).toMatchObject({ type: 'NotFound' });

  await handle.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'failover' }] });
  expect(
    await rejectionOf(handle.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'restore' }] })),
  ).toMatchObject({ type: 'Conflict', message: expect.stringContaining('already taken') });

  // Waiting in recover for a human (autoResolve off): acknowledge, note, severity, then resolve.
  await eventually(async () => ((await handle.query(statusQuery)).phase === 'recover' ? true : undefined), 'recover phase');
  await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] });
  expect(await rejectionOf(handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: responder }] }))).toMatchObject({ type: 'Conflict' });
  expect(await rejectionOf(handle.executeUpdate(addNoteUpdate, { args: [{ actor: responder, text: '   ' }] }))).toMatchObject({
    type: 'InvalidArgument',
  });
  await handle.executeUpdate(addNoteUpdate, { args: [{ actor: responder, text: 'replica lag back to 0' }] });
  expect(await rejectionOf(handle.executeUpdate(changeSeverityUpdate, { args: [{ actor: commander, severity: 'SEV2' }] }))).toMatchObject({
    type: 'Conflict',
  });
  await handle.executeUpdate(changeSeverityUpdate, { args: [{ actor: commander, severity: 'SEV1', reason: 'payments affected' }] });
  await handle.executeUpdate(resolveUpdate, { args: [{ actor: commander, summary: 'failed over' }] });
  await handle.result();

  // Rejected updates never reach history: only the five accepted ones do.
  const history = await handle.fetchHistory();
  const accepted = history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
  expect(accepted).toHaveLength(5);

  const events = await timelineOf(handle.workflowId.replace('incident/', ''));
  expectEachEventOnce(events);
  expect(events.filter((e) => e.type === 'decision.taken')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'incident.acknowledged')).toHaveLength(1);
  expect(events.find((e) => e.type === 'severity.changed')?.data).toMatchObject({ from: 'SEV2', to: 'SEV1' });
  expect(await wf.store.getIncident(handle.workflowId.replace('incident/', ''))).toMatchObject({ status: 'closed', severity: 'SEV1' });
});

test('resolving while a decision is open skips to the retrospective', async () => {
  await wf.startWorker();
  const handle = await declare(sixPhaseRunbook());
  await waitForOpenDecision(handle, 'strategy');
  await handle.executeUpdate(resolveUpdate, { args: [{ actor: commander, summary: 'false alarm' }] });
  const final = await handle.result();
  expect(final.status).toBe('closed');
  const events = await timelineOf(final.id);
  expectEachEventOnce(events);
  expect(events.find((e) => e.type === 'step.skipped')?.data).toMatchObject({ stepId: 'strategy' });
  const entered = events.filter((e) => e.type === 'phase.entered').map((e) => e.phase);
  expect(entered).toEqual(['detect', 'report', 'decide', 'retrospective']);
  const outbox = await wf.store.listOutbox({ incidentId: final.id, limit: 50 });
  expect(outbox.some((m) => m.id.endsWith(':review'))).toBe(true);
  expect(outbox.some((m) => m.id.endsWith(':execute-note'))).toBe(false);
});

test('the timeline holds every event once even when the record activity is retried after writing', async () => {
  let failuresLeft = 3;
  await wf.startWorker({
    wrap: (activities): FirelineActivities => ({
      ...activities,
      async recordTimeline(batch) {
        const written = await activities.recordTimeline(batch);
        // The write landed but the worker "lost" the answer: Temporal retries the same batch.
        if (failuresLeft > 0 && batch.events.length > 0) {
          failuresLeft -= 1;
          throw new Error('simulated loss after commit');
        }
        return written;
      },
      async sendNotification(req) {
        const result = await activities.sendNotification(req);
        if (req.stepId === 'detected' && failuresLeft >= 0) {
          failuresLeft -= 1;
          throw new Error('simulated loss after send');
        }
        return result;
      },
    }),
  });
  const handle = await declare(sixPhaseRunbook({ decideTimeout: '500ms' }));
  const final = await handle.result();
  expect(failuresLeft).toBeLessThan(0);
  const events = await timelineOf(final.id);
  expectEachEventOnce(events);
  expect(events.filter((e) => e.type === 'notification.sent' && e.data.stepId === 'detected')).toHaveLength(1);
  const outbox = await wf.store.listOutbox({ incidentId: final.id, limit: 50 });
  expect(outbox.filter((m) => m.id.endsWith(':detected'))).toHaveLength(1);
});

test('a failing step with onFailure abort waits for a human resolve, then runs the retrospective', async () => {
  await wf.startWorker({
    wrap: (activities): FirelineActivities => ({
      ...activities,
      async sendNotification(req) {
        if (req.stepId === 'page-db') throw new Error('channel refused');
        return activities.sendNotification(req);
      },
    }),
  });
  const snapshot = snapshotOf({
    id: 'abort-test',
    title: 'Abort',
    owner: 'team-test',
    phases: {
      report: [
        { id: 'page-db', kind: 'notify', message: 'x', retries: 1 },
        { id: 'never', kind: 'notify', message: 'not sent' },
      ],
      retrospective: [{ id: 'review', kind: 'notify', message: 'review' }],
    },
  });
  const handle = await declare(snapshot);
  await eventually(async () => {
    const events = await timelineOf(handle.workflowId.replace('incident/', ''));
    return events.some((e) => e.type === 'step.failed') ? true : undefined;
  }, 'the failed step');
  expect((await handle.query(statusQuery)).status).toBe('open');
  await handle.executeUpdate(resolveUpdate, { args: [{ actor: commander }] });
  const final = await handle.result();
  const outbox = await wf.store.listOutbox({ incidentId: final.id, limit: 50 });
  expect(outbox.map((m) => m.id.split(':')[1])).toEqual(['review']);
  expect((await timelineOf(final.id)).find((e) => e.type === 'step.failed')?.data).toMatchObject({ stepId: 'page-db', onFailure: 'abort' });
});
