// The incident workflow's messages: the alerts signal, the status query and the updates. Validators reject
// without writing to history; handlers record what happened on the timeline and answer with the view.
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { REJECTION } from '../src/domain/failure-types';
import type { RejectionType } from '../src/domain/failure-types';
import { ID_PATTERN, MAX_EVENT_BYTES, MAX_NOTE_LENGTH } from '../src/domain/limits';
import { roleAtLeast } from '../src/domain/role-order';
import { isSeverity } from '../src/domain/severity-order';
import { applyAlerts } from './alerts';
import {
  acknowledgeUpdate,
  addNoteUpdate,
  alertsSignal,
  changeSeverityUpdate,
  completeReviewUpdate,
  completeTaskUpdate,
  decideUpdate,
  escalateUpdate,
  postEventUpdate,
  resolveUpdate,
  statusQuery,
} from './messages';
import type { AcknowledgeArgs, CompleteReviewArgs, CompleteTaskArgs, EscalateArgs, PostEventArgs, ResolveArgs } from './messages';
import type { IncidentRun } from './run';
import { nowIso } from './timeline';

function reject(type: RejectionType, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

export function registerHandlers(run: IncidentRun): void {
  const { state, openDecisions, openTasks } = run;
  const { tasks, events } = state;
  const { emit, patch, flush } = run.timeline;
  const view = () => run.view();

  function rejectIfClosed() {
    if (state.status === 'closed') reject(REJECTION.conflict, 'the incident is closed');
  }

  function rejectIfResolved() {
    rejectIfClosed();
    if (state.resolved) reject(REJECTION.conflict, `the incident was resolved by ${state.resolved.by.name}`);
  }

  setHandler(alertsSignal, (batch) => {
    applyAlerts(run, batch);
    void flush();
  });

  setHandler(statusQuery, view);

  setHandler(
    acknowledgeUpdate,
    async ({ actor }) => {
      state.acknowledged = { by: actor, at: nowIso() };
      state.status = 'acknowledged';
      for (const withdraw of run.ackListeners) withdraw();
      run.ackListeners = [];
      patch({ status: 'acknowledged', acknowledgedAt: state.acknowledged.at });
      emit('incident.acknowledged', `Acknowledged by ${actor.name}`, {}, actor);
      await flush();
      return view();
    },
    {
      validator: (_args: AcknowledgeArgs) => {
        rejectIfResolved();
        if (state.acknowledged) reject(REJECTION.conflict, `already acknowledged by ${state.acknowledged.by.name}`);
      },
    },
  );

  setHandler(
    decideUpdate,
    async ({ actor, stepId, option }) => {
      state.decisions[stepId] = { option, by: actor, at: nowIso(), timedOut: false };
      delete openDecisions[stepId];
      emit('decision.taken', `${actor.name} chose "${option}"`, { stepId, option }, actor);
      await flush();
      return view();
    },
    {
      validator: ({ actor, stepId, option }) => {
        rejectIfClosed();
        const taken = state.decisions[stepId];
        if (taken) reject(REJECTION.conflict, `decision "${stepId}" was already taken: "${taken.option}" by ${taken.by.name}`);
        const open = openDecisions[stepId];
        if (!open) reject(REJECTION.notFound, `no open decision "${stepId}"`);
        if (!open.options.includes(option)) {
          reject(REJECTION.invalid, `"${option}" is not an option of "${stepId}" (expected one of ${open.options.join(', ')})`);
        }
        if (!roleAtLeast(actor.role, open.approver)) reject(REJECTION.forbidden, `deciding "${stepId}" needs the ${open.approver} role`);
      },
    },
  );

  setHandler(
    escalateUpdate,
    async ({ actor, reason }) => {
      state.escalationLevel += 1;
      emit(
        'incident.escalated',
        `Escalated to level ${state.escalationLevel}${reason ? `: ${reason}` : ''}`,
        {
          level: state.escalationLevel,
          reason: reason ?? null,
        },
        actor,
      );
      await flush();
      return view();
    },
    { validator: (_args: EscalateArgs) => rejectIfResolved() },
  );

  setHandler(
    resolveUpdate,
    async ({ actor, summary }) => {
      run.resolveNow(actor, summary ?? null);
      await flush();
      return view();
    },
    { validator: (_args: ResolveArgs) => rejectIfResolved() },
  );

  setHandler(
    addNoteUpdate,
    async ({ actor, text }) => {
      emit('note.added', text.trim(), {}, actor);
      await flush();
      return view();
    },
    {
      validator: ({ text }) => {
        rejectIfClosed();
        if (!text.trim()) reject(REJECTION.invalid, 'the note is empty');
        if (text.length > MAX_NOTE_LENGTH) reject(REJECTION.invalid, `the note is longer than ${MAX_NOTE_LENGTH} characters`);
      },
    },
  );

  setHandler(
    changeSeverityUpdate,
    async ({ actor, severity, reason }) => {
      const from = state.severity;
      state.severity = severity;
      patch({ severity });
      emit(
        'severity.changed',
        `Severity ${from} → ${severity}${reason ? `: ${reason}` : ''}`,
        { from, to: severity, reason: reason ?? null },
        actor,
      );
      await flush();
      return view();
    },
    {
      validator: ({ severity }) => {
        rejectIfClosed();
        if (!isSeverity(severity)) reject(REJECTION.invalid, `unknown severity "${severity}"`);
        if (severity === state.severity) reject(REJECTION.conflict, `the severity is already ${severity}`);
      },
    },
  );

  setHandler(
    completeTaskUpdate,
    async ({ actor, stepId, note }) => {
      tasks[stepId] = { by: actor, at: nowIso(), note: note ?? null };
      delete openTasks[stepId];
      emit('task.completed', `${actor.name} completed "${stepId}"${note ? `: ${note}` : ''}`, { stepId, note: note ?? null }, actor);
      await flush();
      return view();
    },
    {
      validator: ({ stepId, note }: CompleteTaskArgs) => {
        rejectIfClosed();
        if (tasks[stepId]) reject(REJECTION.conflict, `task "${stepId}" was already completed by ${tasks[stepId].by.name}`);
        if (!openTasks[stepId]) reject(REJECTION.notFound, `no open task "${stepId}"`);
        if (note !== undefined && note.length > MAX_NOTE_LENGTH)
          reject(REJECTION.invalid, `the note is longer than ${MAX_NOTE_LENGTH} characters`);
      },
    },
  );

  setHandler(
    completeReviewUpdate,
    async ({ actor, summary }) => {
      state.review!.done = { by: actor, at: nowIso() };
      emit(
        'postmortem.reviewed',
        `${actor.name} marked the post-mortem review done${summary ? `: ${summary}` : ''}`,
        { summary: summary ?? null },
        actor,
      );
      await flush();
      return view();
    },
    {
      validator: ({ actor }: CompleteReviewArgs) => {
        rejectIfClosed();
        if (!state.review || state.review.done) reject(REJECTION.notFound, 'no post-mortem is waiting for its review');
        if (!roleAtLeast(actor.role, 'commander')) reject(REJECTION.forbidden, 'marking the review done needs the commander role');
      },
    },
  );

  setHandler(
    postEventUpdate,
    async ({ actor, name, data }) => {
      events[name] = { by: actor, at: nowIso(), data };
      emit('event.received', `Event "${name}" from ${actor.name}`, { name, data }, actor);
      await flush();
      return view();
    },
    {
      validator: ({ name, data }: PostEventArgs) => {
        rejectIfClosed();
        if (!ID_PATTERN.test(name)) reject(REJECTION.invalid, 'the event name must be lowercase letters, digits and dashes');
        if (events[name]) reject(REJECTION.conflict, `event "${name}" was already received`);
        if (JSON.stringify(data).length > MAX_EVENT_BYTES) reject(REJECTION.invalid, `event data is larger than ${MAX_EVENT_BYTES} bytes`);
      },
    },
  );
}
