import type { Actor } from '../../src/domain/roles';
import { completeReviewUpdate, completeTaskUpdate, decideUpdate, postEventUpdate, statusQuery } from '../../workflows/messages';
import { snapshotOf } from '../support/runbooks';
import { eventually } from '../support/temporal';
import { idOf, useWorkflowHarness } from '../support/workflow-harness';
import type { IncidentHandle } from '../support/workflow-harness';

const commander: Actor = { id: 'u-commander', name: 'Grace', role: 'commander' };
const dpo: Actor = { id: 'u-dpo', name: 'Dana', role: 'responder' };

const wf = useWorkflowHarness('kinds');
const { start, timeline } = wf;

const base = { title: 'Kinds', owner: 'team-test' };
const review = [{ id: 'review', kind: 'notify', message: 'review' }];

const sentSteps = async (h: IncidentHandle) =>
  (await wf.store.listOutbox({ incidentId: idOf(h), limit: 100 })).map((m) => m.id.split(':')[1]).sort();

test('when conditions pick the branch of the decision and look at the incident', async () => {
  const handle = await start(
    snapshotOf({
      id: 'branches',
      ...base,
      phases: {
        decide: [
          { id: 'strategy', kind: 'decide', prompt: 'Which?', options: ['failover', 'restore'], default: 'failover', timeout: '10m' },
        ],
        execute: [
          { id: 'do-failover', kind: 'notify', message: 'failover', when: { step: 'strategy', is: 'failover' } },
          { id: 'do-restore', kind: 'notify', message: 'restore', when: { step: 'strategy', is: 'restore' } },
          { id: 'sev1-only', kind: 'notify', message: 'sev1', when: { incident: 'severity', in: ['SEV1'] } },
          {
            id: 'not-drill',
            kind: 'notify',
            message: 'real',
            when: { all: [{ not: { incident: 'drill', is: true } }, { step: 'do-restore', field: 'result', is: 'sent' }] },
          },
        ],
        retrospective: review,
      },
    }),
    { severity: 'SEV2' },
  );
  await eventually(async () => ((await handle.query(statusQuery)).openDecisions.length ? true : undefined), 'decision');
  await handle.executeUpdate(decideUpdate, { args: [{ actor: commander, stepId: 'strategy', option: 'restore' }] });
  await handle.result();
  expect(await sentSteps(handle)).toEqual(['do-restore', 'not-drill', 'review']);
  const skipped = (await timeline(handle)).filter((e) => e.type === 'step.skipped').map((e) => e.data.stepId);
  expect(skipped).toEqual(['do-failover', 'sev1-only']);
});

test('a wait for an external event resumes when the event is posted', async () => {
  const handle = await start(
    snapshotOf({
      id: 'event-wait',
      ...base,
      phases: {
        execute: [
          { id: 'backup-done', kind: 'wait', for: { event: 'backup-finished' }, timeout: '10m' },
          { id: 'after', kind: 'notify', message: 'after' },
        ],
        retrospective: review,
      },
    }),
  );
  await eventually(async () => ((await handle.query(statusQuery)).currentStep?.id === 'backup-done' ? true : undefined), 'the wait');
  expect(await sentSteps(handle)).toEqual([]);
  await handle.executeUpdate(postEventUpdate, { args: [{ actor: commander, name: 'backup-finished', data: { location: 's3://b/1' } }] });
  await handle.result();
  expect(await sentSteps(handle)).toEqual(['after', 'review']);
  const received = (await timeline(handle)).find((e) => e.type === 'event.received');
  expect(received?.data).toEqual({ name: 'backup-finished', data: { location: 's3://b/1' } });
});

test('a task is completed through an update; an overdue task fails its step', async () => {
  const handle = await start(
    snapshotOf({
      id: 'tasks',
      ...base,
      roles: ['dpo'],
      phases: {
        report: [
          { id: 'notify-regulator', kind: 'task', assignee: 'dpo', description: 'Notify the regulator', timeout: '10m' },
          { id: 'overdue', kind: 'task', assignee: 'dpo', description: 'Never done', timeout: '1s', onFailure: 'continue' },
        ],
        retrospective: review,
      },
    }),
  );
  await eventually(async () => ((await handle.query(statusQuery)).openTasks.length ? true : undefined), 'the task');
  expect((await handle.query(statusQuery)).openTasks[0]).toMatchObject({ stepId: 'notify-regulator', assignee: 'dpo' });
  await handle.executeUpdate(completeTaskUpdate, { args: [{ actor: dpo, stepId: 'notify-regulator', note: 'sent via portal' }] });
  await expect(handle.executeUpdate(completeTaskUpdate, { args: [{ actor: dpo, stepId: 'notify-regulator' }] })).rejects.toThrow();
  await handle.result();
  const events = await timeline(handle);
  expect(events.filter((e) => e.type === 'task.completed')).toHaveLength(1);
  expect(events.find((e) => e.type === 'step.failed')?.data).toMatchObject({ stepId: 'overdue', onFailure: 'continue' });
  expect(await sentSteps(handle)).toEqual(['review']);
});

test('a drill simulates side effects, marks messages, and still drafts the post-mortem', async () => {
  const handle = await start(
    snapshotOf({
      id: 'drill',
      ...base,
      compensations: { undo: { command: 'nothing-configured' } },
      phases: {
        report: [{ id: 'tell', kind: 'notify', message: 'hello ${incident.id}' }],
        execute: [
          { id: 'snapshot', kind: 'backup', target: 'orders-db' },
          { id: 'failover', kind: 'action', command: 'nothing-configured', compensate: 'undo' },
        ],
        recover: [{ id: 'healthy', kind: 'verify', check: { tcp: { host: '127.0.0.1', port: 1 } }, drill: 'simulate' }],
        retrospective: [{ id: 'pm', kind: 'postmortem', due: '5d' }],
      },
    }),
    { drill: true },
  );
  const final = await handle.result();
  expect(final.status).toBe('closed');
  const events = await timeline(handle);
  expect(events.filter((e) => e.type === 'step.simulated').map((e) => e.data.stepId)).toEqual(['snapshot', 'failover', 'healthy']);
  const outbox = await wf.store.listOutbox({ incidentId: idOf(handle), limit: 10 });
  expect(outbox[0]?.body).toMatch(/^\[DRILL\] hello INC-/);
  expect(outbox[0]?.drill).toBe(true);
  const pm = await wf.store.getPostmortem(idOf(handle));
  expect(pm).toMatchObject({ status: 'draft', template: 'default' });
  expect(pm?.body).toContain('## Root cause');
  expect(Date.parse(pm!.dueAt) - Date.parse(final.resolved!.at)).toBe(5 * 86_400_000);
});

test('a real incident stays open until its post-mortem review is marked done, with reminders meanwhile', async () => {
  const handle = await start(
    snapshotOf({
      id: 'review',
      ...base,
      phases: { retrospective: [{ id: 'pm', kind: 'postmortem', due: '2s', remindBefore: '1s' }] },
    }),
  );
  await eventually(async () => ((await handle.query(statusQuery)).awaitingReview ? true : undefined), 'the review wait');
  // Due in 2 s, first reminder 1 s before: wait for both reminders, then mark it done.
  await eventually(
    async () => ((await timeline(handle)).filter((e) => e.type === 'postmortem.reminder').length >= 2 ? true : undefined),
    'two reminders',
  );
  expect((await handle.query(statusQuery)).status).toBe('resolved');
  await handle.executeUpdate(completeReviewUpdate, { args: [{ actor: commander, summary: 'reviewed with the team' }] });
  const final = await handle.result();
  expect(final.status).toBe('closed');
  const events = await timeline(handle);
  expect(events.filter((e) => e.type === 'postmortem.reviewed')).toHaveLength(1);
  const reminders = events.filter((e) => e.type === 'postmortem.reminder').map((e) => e.data.overdue);
  expect(reminders.slice(0, 2)).toEqual([false, false]);
  expect((await wf.store.listOutbox({ incidentId: idOf(handle), limit: 20 })).filter((m) => m.id.includes(':pm:reminder-')).length).toBe(
    reminders.length,
  );
});
